"""`edgedesk evaluate` on a short run: deterministic for a seed, every section present, and the numbers
agree with what the exchange itself booked for each strategy's account."""

from __future__ import annotations

import json
import re

import pytest

from console.cli import main
from console.config import load_config
from console.evaluate.pnl import position_value, true_prob
from console.evaluate.report import json_report, text_report
from console.evaluate.run import EvalParams, evaluate

SHORT = EvalParams(seed=7, days=0.25, step_s=300, refresh_min=15, checkpoint_min=60)


@pytest.fixture(scope="module")
def short_run():
    return evaluate(SHORT, load_config("config.toml"))


def _without_wall_time(text: str) -> str:
    return re.sub(r"wall time [0-9.]+ s", "wall time X s", text)


def test_a_short_run_prints_every_section_and_is_deterministic(short_run) -> None:
    first = text_report(short_run)
    for heading in ("Against the hidden true probability", "Against outcomes", "In words", "Strategies"):
        assert heading in first, f"the report lacks its {heading!r} section:\n{first}"
    for model in ("polls", "weather", "cpi", "control"):
        assert re.search(rf"^  {model} ", first, re.MULTILINE), f"no Brier row for {model}:\n{first}"
    for strategy in ("directional", "market_maker", "laggards"):
        assert re.search(rf"^  {strategy} ", first, re.MULTILINE), f"no P&L row for {strategy}:\n{first}"
    again = text_report(evaluate(SHORT, load_config("config.toml")))
    assert _without_wall_time(again) == _without_wall_time(first), "two runs of one seed printed different reports"


def test_trades_fees_and_pnl_equal_what_the_exchange_booked(short_run) -> None:
    (exchange,) = short_run.exchanges
    traded = 0
    for result, desk in zip(short_run.strategies, short_run.desks, strict=True):
        fills = [f for f in exchange.fills if f.account_id == desk.account_id]
        assert result.trades == len(fills) == len(desk.venue.fills)
        assert result.fees == sum(f.fee for f in fills)
        assert result.contracts == sum(f.count for f in fills)
        account = exchange.accounts[desk.account_id]
        held = {p.ticker: p.position for p in account.positions.values() if p.position and not p.settled}
        truth = short_run.truth_at_end[0]
        marked = sum(position_value(pos, true_prob(exchange, t, truth)) for t, pos in held.items())
        assert result.cash_change == account.balance - desk.start_cash
        assert result.pnl == result.cash_change + marked
        lo, hi = result.interval
        assert lo <= result.pnl <= hi or not held, f"{result.name}: P&L {result.pnl} outside its interval {lo}..{hi}"
        assert result.max_drawdown >= 0
        # the kernel's book of positions is the exchange's (fills reached it once each)
        kernel_positions = {t: p.position for t, p in desk.kernel.desk.portfolio.positions.items() if p.position}
        assert kernel_positions == held, f"{result.name}: kernel positions differ from the exchange's"
        traded += result.trades
    directional = next(r for r in short_run.strategies if r.name == "directional")
    assert directional.trades > 0, "the directional strategy never traded: the consistency checks above are empty"
    assert traded == sum(1 for f in exchange.fills if f.account_id.startswith("eval-"))


def test_json_has_the_same_numbers(short_run, tmp_path) -> None:
    doc = json_report(short_run)
    assert [s["name"] for s in doc["strategies"]] == [r.name for r in short_run.strategies]
    assert doc["strategies"][0]["pnl_micros"] == short_run.strategies[0].pnl
    assert {s["model"] for s in doc["models"]["truth"]} >= {"polls", "weather"}
    text = json.dumps(doc, allow_nan=False)  # strict JSON: no Infinity for a single event's standard error
    cpi = next(s for s in json.loads(text)["models"]["truth"] if s["model"] == "cpi")
    assert cpi["se"] is None and cpi["clusters"] == 1


def _exit_code(argv: list[str]) -> int:
    try:
        return main(["--config", "config.toml", "evaluate", *argv])
    except SystemExit as exc:  # argparse refuses a malformed value itself
        return int(exc.code or 0)


@pytest.mark.parametrize(("argv", "message"), [
    (["--days", "0"], "must be > 0"),
    (["--days", "-1"], "must be > 0"),
    (["--days", "abc"], "not a number"),
    (["--worlds", "0"], "must be > 0"),
    (["--refresh", "7", "--checkpoint", "60"], "multiple of --refresh"),
    (["--step", "3600", "--refresh", "15"], "--refresh 15: must be >= 1 minute and >= the step"),
    (["--strategy", "nope"], "no [engine.strategies.nope] table"),
])
def test_bad_arguments_say_what_is_wrong(argv, message, capsys) -> None:
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_the_same_seed_prints_the_same_report_in_separate_processes(tmp_path) -> None:
    """String hashing differs between processes: nothing may depend on set order."""
    import os
    import subprocess
    import sys

    argv = [sys.executable, "-m", "console.cli", "--config", "config.toml", "evaluate", "--days", "0.15", "--step",
            "300"]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONHASHSEED": str(h)}) for h in (1, 2)]
    outs = [p.communicate(timeout=240) for p in runs]
    for (out, err), p in zip(outs, runs, strict=True):
        assert p.returncode == 0, err
        assert "directional" in out
    assert _without_wall_time(outs[0][0]) == _without_wall_time(outs[1][0])
