"""`edgedesk evaluate`: the subcommand's arguments and its entry point (registered by console/cli.py)."""

from __future__ import annotations

import argparse
import sys

from console.config import DeskConfig
from console.engine.strategies import StrategyConfigError


def _positive_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: not a number") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"{value!r}: must be > 0")
    return x


def _positive_int(value: str) -> int:
    try:
        x = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: not a whole number") from None
    if x <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: must be > 0")
    return x


def add_commands(commands: argparse._SubParsersAction) -> None:
    ev = commands.add_parser(
        "evaluate", help="run the built-in world fast: models' Brier vs the market, strategies' P&L",
        description="Run the built-in market world in this process, faster than real time and deterministic for "
                    "a seed. Prints each model's Brier score next to the market's on the same markets (against "
                    "the hidden truth and against outcomes, with clustered standard errors) and each strategy's "
                    "P&L with a 95% interval, trades, fees and maximum drawdown. Only the evaluator sees the "
                    "truth. docs/evaluate.md explains the method.")
    ev.add_argument("--seed", type=int, default=None, help="world seed (default: [sim] seed)")
    ev.add_argument("--days", type=_positive_float, default=2.0, help="simulated days to run (default 2)")
    ev.add_argument("--worlds", type=_positive_int, default=1, metavar="K",
                    help="run K worlds (seeds SEED..SEED+K-1) and pool the model scores (default 1)")
    ev.add_argument("--step", type=_positive_int, default=120, metavar="SECONDS",
                    help="simulated seconds per step of the world and the kernels (default 120)")
    ev.add_argument("--refresh", type=_positive_int, default=15, metavar="MINUTES",
                    help="model refresh cadence in simulated minutes (default 15)")
    ev.add_argument("--checkpoint", type=_positive_int, default=60, metavar="MINUTES",
                    help="scoring cadence in simulated minutes, a multiple of --refresh (default 60)")
    ev.add_argument("--strategy", action="append", default=[], metavar="NAME",
                    help="evaluate only this [engine.strategies.NAME] table (repeatable; default: every enabled one)")
    ev.add_argument("--no-strategies", dest="trade", action="store_false",
                    help="score the models only (no kernels, faster)")
    ev.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON to PATH")
    ev.set_defaults(func=run_command)


def run_command(args: argparse.Namespace, config: DeskConfig) -> int:
    from console.evaluate.report import text_report, write_json
    from console.evaluate.run import EvalParams, evaluate

    params = EvalParams(seed=config.sim.seed if args.seed is None else args.seed, days=args.days, worlds=args.worlds, step_s=args.step,
                        refresh_min=args.refresh, checkpoint_min=args.checkpoint, strategies=tuple(args.strategy), trade=args.trade)
    try:
        params.check()
    except ValueError as exc:
        print(f"edgedesk evaluate: {exc}", file=sys.stderr)
        return 2
    try:
        result = evaluate(params, config)
    except StrategyConfigError as exc:
        print(f"edgedesk evaluate: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text_report(result))
    if args.json:
        try:
            write_json(result, args.json)
        except OSError as exc:
            print(f"edgedesk evaluate: cannot write {args.json}: {exc}", file=sys.stderr)
            return 1
    return 0
