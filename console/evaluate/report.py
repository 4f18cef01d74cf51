"""The evaluation as text (stdout) and as JSON (`--json PATH`).

Money is printed in dollars (the ints are micro-dollars), Brier scores to four decimals.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from console.evaluate.run import Evaluation, StrategyResult
from console.evaluate.scoring import Score


def _usd(micros: int) -> str:
    return f"{micros / 1e6:+,.2f}"


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _seeds(seed: int, worlds: int) -> str:
    return f"seed {seed}" if worlds == 1 else f"seeds {seed}..{seed + worlds - 1} ({worlds} worlds, scores pooled)"


def _score_table(scores: list[Score]) -> list[str]:
    if not scores:
        return ["  (nothing scored)"]
    lines = [(f"  {'model':<9}{'category':<11}{'n':>6}{'events':>7}{'model':>9}{'market':>9}{'diff':>9}{'s.e.':>8}"
              f"{'z':>7}{'mid':>6}")]
    for s in scores:
        se = f"{s.se:.4f}" if s.se != float("inf") else "-"
        z = f"{s.z:+.1f}" if abs(s.z) != float("inf") else "-"
        lines.append(f"  {s.model if not s.category else '':<9}{s.category or s.categories:<11}{s.n:>6}{s.clusters:>7}"
                     f"{s.brier_model:>9.4f}{s.brier_market:>9.4f}{s.diff:>+9.4f}{se:>8}{z:>7}{s.mid_share:>6.0%}")
    return lines


def _strategy_rows(results: list[StrategyResult], several: bool) -> list[str]:
    lines = [(f"  {'strategy':<14}{'kind':<14}{'seed' if several else '':>6}{'P&L $':>11}{'95% interval $':>23}"
              f"{'trades':>8}{'contracts':>11}{'fees $':>9}{'max dd $':>10}  mode")]
    for r in results:
        lo, hi = r.interval
        seed = ("all" if r.seed is None else str(r.seed)) if several else ""
        lines.append(f"  {r.name:<14}{r.kind:<14}{seed:>6}{_usd(r.pnl):>11}{f'{_usd(lo)} .. {_usd(hi)}':>23}{r.trades:>8}"
                     f"{r.contracts / 100:>11,.2f}{r.fees / 1e6:>9,.2f}{r.max_drawdown / 1e6:>10,.2f}  {r.mode}"
                     + (f" ({r.mode_reason})" if r.mode != "AUTO" else ""))
    return lines


def text_report(ev: Evaluation) -> str:
    p = ev.params
    lines = [
        (f"edgedesk evaluate: {_seeds(p.seed, p.worlds)}, {p.days:g} simulated day(s) from {_when(p.start_ms)}, "
         f"{p.step_s} s steps, models refreshed every {p.refresh_min} min, scored every {p.checkpoint_min} min"),
        (f"wall time {ev.wall_s:.1f} s; {ev.settled_markets} market(s) determined within the run, "
         f"{ev.open_markets} open at the end"),
        "",
        "Models vs the market, Brier score (lower is better) on the same markets at the same checkpoints.",
        "Market = the book's mid, or the last trade when a side is empty (column 'mid': share priced by the mid).",
        "s.e. clustered by event (a market's errors persist across checkpoints; an event's markets move together).",
        "",
        "Against the hidden true probability (expected Brier; every open market a model prices):",
        *_score_table(ev.truth_scores),
        "",
        "Against outcomes (markets determined within the run):",
        *_score_table(ev.outcome_scores),
        "",
        "In words (against the truth):",
        *[f"  {s.sentence()}." for s in ev.truth_scores if not s.category],
        *([("  (The election markets of one world share its polling error: pool worlds with --worlds before "
            "trusting a small election difference.)")] if p.worlds == 1 else []),
        "",
        "Strategies, each in AUTO on its own account. P&L = cash change (trades, fees, settlements) + open",
        "positions valued at the true probability; interval: the open positions' outcomes drawn from the truth.",
        *(_strategy_rows(ev.strategies, p.worlds > 1) if ev.strategies else ["  (no strategy ran)"]),
    ]
    for name, why in ev.skipped.items():
        lines.append(f"  skipped {name}: {why}")
    for d in ev.desks:
        if d.runaway_steps:
            lines.append(f"  note: {d.name} was still acting after {d.runaway_steps} step(s)' turn limit")
    if ev.fair_errors:
        lines += ["", "Model data problems:", *[f"  {e}" for e in ev.fair_errors[:10]]]
    return "\n".join(lines) + "\n"


def json_report(ev: Evaluation) -> dict[str, Any]:
    p = ev.params
    return {
        "params": {"seed": p.seed, "worlds": p.worlds, "days": p.days, "step_s": p.step_s, "refresh_min": p.refresh_min,
                   "checkpoint_min": p.checkpoint_min, "start_ms": p.start_ms, "strategies": list(p.strategies)},
        "wall_s": ev.wall_s,
        "settled_markets": ev.settled_markets,
        "open_markets": ev.open_markets,
        "models": {"truth": [s.as_dict() for s in ev.truth_scores],
                   "outcomes": [s.as_dict() for s in ev.outcome_scores],
                   "sentences": [s.sentence() for s in ev.truth_scores if not s.category]},
        "strategies": [{
            "name": r.name, "kind": r.kind, "seed": r.seed, "pnl_micros": r.pnl,
            "interval_micros": list(r.interval), "cash_change_micros": r.cash_change, "open_value_micros": r.open_value,
            "trades": r.trades, "contracts": r.contracts, "fees_micros": r.fees, "max_drawdown_micros": r.max_drawdown,
            "orders": r.orders, "refusals": r.refusals, "mode": r.mode, "mode_reason": r.mode_reason,
        } for r in ev.strategies],
        "skipped": ev.skipped,
        "model_errors": ev.fair_errors,
    }


def write_json(ev: Evaluation, path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(json_report(ev), fh, indent=2, sort_keys=True)
        fh.write("\n")
