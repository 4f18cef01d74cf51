"""The `edgedesk` command line: one subcommand per job (`sim`, `markets`, `doctor`, `book`, ...).

`edgedesk` with no subcommand opens the trading desk (console/tui) on the venue of config.toml,
starting the built-in exchange as a child process when the venue is `sim` (the default).

`edgedesk sim` runs the local exchange simulator on loopback. Its defaults come from the `[sim]`
section of config.toml (`--config PATH`, else ./config.toml when present); flags override them.
Unknown commands print the help and exit with status 2; so does an invalid config file.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn, TypeVar

from console import cli_book
from console.config import ConfigError, DeskConfig, load_config
from console.domain.units import UnitError, parse_money
from console.evaluate import command as evaluate_command
from console.sim.faults_rules import PROFILES, profile_help

T = TypeVar("T")


def _loopback_host(value: str) -> str:
    """Accept only loopback addresses: the simulator has no TLS and hands out funded keys."""
    if value == "localhost":
        return value
    try:
        if ipaddress.ip_address(value).is_loopback:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"{value!r} is not a loopback address; the simulator only binds to 127.0.0.1, ::1 or localhost"
    )


def _dollars(value: str) -> int:
    try:
        micros = parse_money(value)
    except UnitError as exc:
        raise argparse.ArgumentTypeError(f"balance {value!r}: {exc}") from None
    if micros < 0:
        raise argparse.ArgumentTypeError(f"balance {value!r}: must be >= 0")
    return micros


def _positive_float(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed {value!r}: not a number") from None
    if not speed > 0:
        raise argparse.ArgumentTypeError(f"speed {value!r}: must be > 0")
    return speed


def _non_negative_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: not an integer") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: must be >= 0")
    return n


class _Parser(argparse.ArgumentParser):
    """An unknown command gets the full help (what the commands are), not just the usage line."""

    def error(self, message: str) -> NoReturn:
        if "invalid choice" in message and message.startswith("argument COMMAND"):
            self.print_help(sys.stderr)
            bad = message.split("invalid choice:", 1)[1].split("(", 1)[0].strip()
            self.exit(2, f"\n{self.prog}: unknown command {bad}\n")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgedesk", description="A terminal trading desk for binary event contracts.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    parser.add_argument("--config", metavar="PATH", default=None,
                        help="config file (default ./config.toml when present, else built-in defaults)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser)

    sim = commands.add_parser("sim", help="run the local exchange simulator (Kalshi API on loopback)",
                              description="Run the local Kalshi-compatible exchange simulator on loopback.",
                              epilog=profile_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sim.add_argument("--host", type=_loopback_host, default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    sim.add_argument("--port", type=_non_negative_int, default=None,
                     help="TCP port; 0 picks a free one (default: [sim] port, 0)")
    sim.add_argument("--key-dir", default=None,
                     help="where API keys and accounts.json go (default $EDGEDESK_HOME/sim-keys "
                          "or ~/.local/share/edgedesk/sim-keys)")
    sim.add_argument("--accounts", type=_non_negative_int, default=None,
                     help="test accounts acct1..acctN besides the desk's own (default: [sim] accounts, 2)")
    sim.add_argument("--balance", type=_dollars, default=None, metavar="DOLLARS",
                     help="starting cash per account in dollars (default: [sim] balance_dollars, 10000)")
    sim.add_argument("--seed", type=int, default=None, help="random seed for the simulated world ([sim] seed)")
    sim.add_argument("--speed", type=_positive_float, default=None,
                     help="simulated seconds per real second (default: [sim] speed, 1)")
    sim.add_argument("--world", action=argparse.BooleanOptionalAction, default=None,
                     help="run the living market world: elections, weather, CPI, synthetic traders, data feed "
                          "(default: [sim] world, on)")
    sim.add_argument("--reveal-truth", action="store_true",
                     help="serve the world's hidden true probabilities at GET /sim/truth (for evaluation only)")
    sim.add_argument("--demo-markets", action=argparse.BooleanOptionalAction, default=None,
                     help="create a handful of static demo markets at start-up (default: [sim] demo_markets, off)")
    sim.add_argument("--faults", metavar="PROFILE", default="none", choices=list(PROFILES),
                     help="inject faults from the start, from one of the profiles below (default none); "
                          "change them at run time with POST /sim/faults")
    sim.add_argument("--polymarket-port", type=_non_negative_int, default=0, metavar="PORT",
                     help="TCP port of the Polymarket mirror (Gamma, CLOB REST, market WebSocket); "
                          "0 picks a free one (default 0)")
    sim.set_defaults(func=_cmd_sim)
    _add_venue_commands(commands)
    cli_book.add_commands(commands)  # book, replay (console/cli_book.py)
    evaluate_command.add_commands(commands)  # evaluate (console/evaluate/command.py)
    _add_run_command(commands)
    _add_calibration_command(commands)
    return parser


def _add_calibration_command(commands: argparse._SubParsersAction) -> None:
    """`calibration`: each model's scores next to the market's, from the journal (console/engine/scorebook.py)."""
    cal = commands.add_parser("calibration", help="model calibration from the journal, next to the market's",
                              description="Brier score, log loss, reliability table and Brier decomposition per "
                                          "model and category from the journal's resolved predictions, with the "
                                          "market's implied probabilities on the same predictions and the sizing "
                                          "shrink the strategies apply.")
    cal.add_argument("--model", default=None, help="only this model")
    cal.add_argument("--home", default=None, help="data directory holding journal.sqlite (default $EDGEDESK_HOME "
                                                  "or ~/.local/share/edgedesk)")
    cal.set_defaults(func=_cmd_calibration)


def _cmd_calibration(args: argparse.Namespace, config: DeskConfig) -> int:
    from pathlib import Path

    from console.engine.journal import JOURNAL_FILE, JournalError, data_dir
    from console.engine.scorebook import calibration_report

    if config.engine.journal_path and not args.home:
        path = Path(config.engine.journal_path).expanduser()
    else:
        path = (Path(args.home).expanduser() if args.home else data_dir()) / JOURNAL_FILE
    try:
        print(calibration_report(path, args.model))
    except JournalError as exc:
        print(f"edgedesk calibration: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_run_command(commands: argparse._SubParsersAction) -> None:
    """`run`: the desk (the TUI), or with --headless the engine alone (console/headless.py)."""
    run = commands.add_parser("run", help="run the desk; --headless for the engine alone (JSON lines)",
                              description="Run the trading desk on the venue of config.toml. With --headless: no "
                                          "UI, events as JSON lines on stdout, a status line every few seconds; "
                                          "SIGTERM stops with [ui] exit_policy, SIGUSR1 flattens.")
    run.add_argument("--headless", action="store_true", help="no UI: JSON lines on stdout")
    run.add_argument("--auto", action="store_true", help="start in AUTO (strategies' intents are sent)")
    run.add_argument("--for", dest="for_s", type=_positive_float, default=None, metavar="SECONDS",
                     help="stop by itself after this many seconds (with the exit policy)")
    run.add_argument("--url", default=None, help="a venue already running (e.g. an `edgedesk sim`): its REST base URL")
    run.add_argument("--key-dir", default=None, help="that simulator's key directory")
    run.add_argument("--home", default=None, help="data directory (journal, locks; default $EDGEDESK_HOME "
                                                  "or ~/.local/share/edgedesk)")
    run.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace, config: DeskConfig) -> int:
    if not args.headless:
        from console.tui.run import run_desk

        return run_desk(config, home=args.home)
    from console.headless import run_headless

    return run_headless(config, auto=args.auto, for_s=args.for_s, url=args.url, key_dir=args.key_dir,
                        home=args.home)


def _add_venue_commands(commands: argparse._SubParsersAction) -> None:
    """`markets` and `doctor`: talk to the venue of config.toml [venue] (a running `edgedesk sim` by default)."""
    venue_args = argparse.ArgumentParser(add_help=False)
    venue_args.add_argument("--url", default=None,
                            help="REST base URL (sim default http://127.0.0.1:8765/trade-api/v2; demo/prod: "
                                 "Kalshi's host for [venue] name)")
    venue_args.add_argument("--key-dir", default=None,
                            help="the running simulator's key directory (default $EDGEDESK_HOME/sim-keys "
                                 "or ~/.local/share/edgedesk/sim-keys)")
    markets = commands.add_parser("markets", parents=[venue_args], help="list the venue's markets",
                                  description="List markets with top of book, from the venue in config.toml.")
    markets.add_argument("--venue", choices=["kalshi"], default="kalshi", help="which venue (kalshi)")
    markets.add_argument("--status", choices=["unopened", "open", "paused", "closed", "settled"], default=None,
                         help="only markets in this state")
    markets.add_argument("--limit", type=_non_negative_int, default=200, help="at most this many; 0 = all (default 200)")
    markets.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    markets.set_defaults(func=_cmd_markets)
    doctor = commands.add_parser("doctor", parents=[venue_args], help="check the venue, clock, key and wire fields",
                                 description="Reach the venue, check clock skew, test the API key and confirm "
                                             "the fields the desk relies on; exit 1 with a list of problems.")
    doctor.set_defaults(func=_cmd_doctor)


def _cmd_markets(args: argparse.Namespace, config: DeskConfig) -> int:
    from console.venues.kalshi.commands import cmd_markets

    return cmd_markets(config, url=args.url, key_dir=args.key_dir, status=args.status, limit=args.limit,
                       as_json=args.json)


def _cmd_doctor(args: argparse.Namespace, config: DeskConfig) -> int:
    from console.venues.kalshi.commands import cmd_doctor

    return cmd_doctor(config, url=args.url, key_dir=args.key_dir)


def _cmd_sim(args: argparse.Namespace, config: DeskConfig) -> int:
    from console.sim.server import default_key_dir, run_sim

    defaults = config.sim
    key_dir = args.key_dir or default_key_dir()
    balance = args.balance if args.balance is not None else defaults.balance_dollars * 1_000_000
    run_sim(args.host, _pick(args.port, defaults.port), key_dir, _pick(args.accounts, defaults.accounts),
            balance, _pick(args.seed, defaults.seed), _pick(args.speed, defaults.speed),
            demo_markets=_pick(args.demo_markets, defaults.demo_markets), faults=args.faults,
            polymarket_port=args.polymarket_port, world=_pick(args.world, defaults.world),
            reveal_truth=args.reveal_truth)
    return 0


def _cmd_desk(args: argparse.Namespace, config: DeskConfig) -> int:
    from console.tui.run import run_desk

    return run_desk(config)


def _pick(flag: T | None, configured: T) -> T:
    return configured if flag is None else flag


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        args.func = _cmd_desk  # `edgedesk` alone opens the desk
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"edgedesk: {exc}", file=sys.stderr)
        return 2
    return int(args.func(args, config) or 0)


if __name__ == "__main__":
    sys.exit(main())
