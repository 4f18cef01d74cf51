"""The fault layer's controls: `edgedesk sim --faults PROFILE`, GET/POST/DELETE /sim/faults, refusals that
name the bad field and change nothing, the log's filters, and a profile doing its job end to end.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import httpx
import pytest
from fault_helpers import clear_faults, fault_log, set_faults
from kalshi_ws_client import new_trader, order_body

from console.venues.kalshi.auth import KalshiAuth

from console.sim.faults_rules import PROFILES, REST_KINDS, WS_KINDS


def test_help_lists_every_profile_and_a_bad_profile_exits_2() -> None:
    shown = subprocess.run([sys.executable, "-m", "console.cli", "sim", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    for name, (description, _) in PROFILES.items():
        assert f"{name}  " in shown.stdout and description in shown.stdout
    bad = subprocess.run([sys.executable, "-m", "console.cli", "sim", "--faults", "sometimes"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--faults" in bad.stderr and "flaky" in bad.stderr


def test_flaky_covers_every_websocket_and_rest_fault_at_low_rates() -> None:
    rules = PROFILES["flaky"][1]
    assert {r.kind for r in rules} >= WS_KINDS | REST_KINDS | {"trading_pause"}
    assert all(r.rate is None or r.rate <= 0.02 for r in rules)


def test_start_profile_then_switch_append_and_clear_at_run_time(sim_factory) -> None:
    server = sim_factory("--faults", "ws-gaps", "--seed", "5")
    state = httpx.get(f"{server.admin_url}/faults").json()
    assert state["profile"] == "ws-gaps" and state["seed"] == 5
    assert [r["kind"] for r in state["rules"]] == ["ws_drop", "ws_duplicate", "ws_reorder", "ws_skip_seq"]
    assert set(state["profiles"]) == set(PROFILES)

    state = httpx.post(f"{server.admin_url}/faults", json={"profile": "slow"}).json()
    assert state["profile"] == "slow" and [r["kind"] for r in state["rules"]] == ["slow"]
    state = set_faults(server, {"kind": "rate_limit", "count": 2}, append=True)
    assert [(r["kind"], r["remaining"]) for r in state["rules"]] == [("slow", None), ("rate_limit", 2)]
    state = clear_faults(server)
    assert state["rules"] == [] and state["profile"] is None
    assert httpx.get(f"{server.admin_url}/faults/profiles").json()["chaos"] == PROFILES["chaos"][0]


@pytest.mark.parametrize(("rule", "complaint"), [
    ({"kind": "ws_explode"}, "kind='ws_explode'"),
    ({"kind": "ws_drop", "delay_s": 1}, "delay_s does not apply to kind ws_drop"),
    ({"kind": "rate_limit", "rate": 1.5}, "rate=1.5"),
    ({"kind": "server_error", "status": 418}, "status=418"),
    ({"kind": "trading_pause", "every_s": 10}, "every_s needs for_s"),
    ({"kind": "lost_response", "ops": ["order_teleport"]}, "order_teleport"),
    ({"kind": "ws_drop", "channels": ["tickr"]}, "tickr"),
])
def test_a_bad_rule_is_refused_with_the_field_named_and_changes_nothing(sim_factory, rule, complaint) -> None:
    server = sim_factory()
    set_faults(server, {"kind": "slow", "delay_s": 0.1, "count": 1})
    r = httpx.post(f"{server.admin_url}/faults", json={"rules": [{"kind": "rate_limit"}, rule]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_parameters" and complaint in r.json()["error"]["details"]
    assert [x["kind"] for x in httpx.get(f"{server.admin_url}/faults").json()["rules"]] == ["slow"]
    typo = httpx.post(f"{server.admin_url}/faults", json={"rules": [{"kind": "slow", "dealy_s": 1}]})
    assert typo.status_code == 400 and typo.json()["code"] == "bad_request" and "dealy_s" in typo.text


def test_the_log_filters_by_kind_and_since(sim_factory) -> None:
    server = sim_factory()
    trader = server.new_account()
    set_faults(server, {"kind": "rate_limit", "count": 1}, {"kind": "server_error", "count": 1, "status": 500})
    assert trader.get("/portfolio/balance").status_code == 429
    assert trader.get("/portfolio/balance").status_code == 500
    everything = fault_log(server)
    assert [e["kind"] for e in everything] == ["rate_limit", "server_error"]
    assert everything[0]["id"] < everything[1]["id"] and everything[0]["ts_ms"] <= everything[1]["ts_ms"]
    assert fault_log(server, since=everything[0]["id"]) == everything[1:]
    assert fault_log(server, kind="server_error") == everything[1:]
    bad = httpx.get(f"{server.admin_url}/faults/log", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()["error"]["details"]


def test_lost_responses_profile_loses_some_creates_and_every_order_exists_exactly_once(sim_factory) -> None:
    server = sim_factory("--faults", "lost-responses", "--seed", "3")
    ticker = server.new_market()
    signer, _ = new_trader(server)  # a high tier, so 30 quick creates stay inside the real rate limit
    trader = httpx.Client(base_url=server.base_url, auth=KalshiAuth(signer), timeout=10)
    lost: list[str] = []
    answered: list[str] = []
    for n in range(30):
        client_order_id = f"p{n}-{uuid.uuid4().hex[:6]}"
        try:
            r = trader.post("/portfolio/events/orders", json=order_body(ticker, "bid", "0.25", "1",
                                                                           client_order_id=client_order_id))
            assert r.status_code == 201, r.text
            answered.append(client_order_id)
        except httpx.TransportError:
            lost.append(client_order_id)
    assert 0 < len(lost) < 30
    r = trader.get("/portfolio/orders", params={"ticker": ticker, "limit": 100})
    trader.close()
    by_client_id = [o["client_order_id"] for o in r.json()["orders"]]
    assert sorted(by_client_id) == sorted(answered + lost)  # each exactly once, lost ones included
    assert sorted(e["client_order_id"] for e in fault_log(server, "lost_response")) == sorted(lost)
