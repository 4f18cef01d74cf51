"""Fault timing without sockets: `for_s` / `every_s` windows on a fake clock, pause windows applied to a real
exchange core (and an operator's own pause left alone), and the profiles' rules all valid.
"""

from __future__ import annotations

import pytest

from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.faults import Faults
from console.sim.faults_rules import PROFILES, FaultRule, RuleError, validate


class FakeNow:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _faults(*rules: FaultRule) -> tuple[Faults, FakeNow]:
    now = FakeNow()
    faults = Faults(seed=1, now=now)
    faults.configure(rules)
    return faults, now


def test_a_periodic_rule_is_active_for_s_once_every_s_starting_one_period_in() -> None:
    faults, now = _faults(FaultRule(kind="rate_limit", for_s=2, every_s=10))
    [rule] = faults.rules
    timeline = {}
    for offset in (0, 9.9, 10, 11.9, 12, 19.9, 20.5, 22):
        now.t = 1000 + offset
        timeline[offset] = rule.active(now.t)
    assert timeline == {0: False, 9.9: False, 10: True, 11.9: True, 12: False, 19.9: False, 20.5: True, 22: False}


def test_a_one_shot_window_ends_and_count_spends_the_rule() -> None:
    faults, now = _faults(FaultRule(kind="slow", for_s=1.5), FaultRule(kind="rate_limit", count=2))
    timed, counted = faults.rules
    assert timed.active(now.t) and not timed.active(now.t + 1.5)
    assert [counted.try_fire(faults.rng) for _ in range(3)] == [True, True, False]
    assert faults.describe()["rules"][1]["remaining"] == 0 and not faults.describe()["rules"][1]["active"]


def test_pause_windows_pause_and_resume_the_exchange_but_never_lift_an_operators_pause() -> None:
    exchange = Exchange(SimClock())
    faults, now = _faults(FaultRule(kind="trading_pause", for_s=1, every_s=5))
    faults.apply_pauses(exchange)
    assert not exchange.trading_paused
    now.t += 5.2
    faults.apply_pauses(exchange)
    assert exchange.trading_paused and faults.paused_by_faults["trading_pause"]
    now.t += 1
    faults.apply_pauses(exchange)
    assert not exchange.trading_paused
    exchange.set_trading_paused(True)  # the operator pauses by hand (POST /sim/pause)
    now.t += 4
    faults.apply_pauses(exchange)  # a window opens and closes over the operator's pause...
    now.t += 1
    faults.apply_pauses(exchange)
    assert exchange.trading_paused  # ...which is still in force
    assert [e["phase"] for e in faults.log.entries(kind="trading_pause")] == ["begin", "end", "begin", "end"]


def test_clearing_resumes_a_pause_the_fault_layer_began() -> None:
    exchange = Exchange(SimClock())
    faults, _ = _faults(FaultRule(kind="exchange_pause"))
    faults.apply_pauses(exchange)
    assert exchange.exchange_paused
    faults.clear()
    faults.apply_pauses(exchange)
    assert not exchange.exchange_paused


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_builds_a_controller(name: str) -> None:
    faults = Faults(seed=3, profile=name)
    assert faults.profile == name and len(faults.rules) == len(PROFILES[name][1])


def test_defaults_are_filled_in_and_an_unknown_profile_is_refused() -> None:
    assert validate(FaultRule(kind="lost_response")).ops == ["order_create", "batch_create"]
    assert validate(FaultRule(kind="server_error")).status == 503
    assert validate(FaultRule(kind="ws_close")).close_code == 1001
    with pytest.raises(RuleError, match="unknown fault profile 'sometimes'"):
        Faults(profile="sometimes")
