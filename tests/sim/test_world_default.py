"""`edgedesk sim` as a new user starts it: the living world is on, with a busy universe over real sockets."""

import time

import httpx


def test_default_sim_has_a_living_world(sim_factory):
    sim = sim_factory("--world", "--no-demo-markets")
    desk = sim.client("desk")
    markets = desk.get("/markets", params={"status": "open", "limit": 1000}).json()["markets"]
    assert len(markets) >= 40
    series = {m["event_ticker"].split("-")[0] for m in markets}
    assert {"CONTROLS", "CONTROLH", "KXCPI"} <= series
    assert sum(s.startswith("KXSENATE") for s in series) >= 8
    assert sum(s.startswith("KXGOV") for s in series) >= 4
    assert sum(s.startswith("KXHIGH") for s in series) >= 3

    # books move on their own: the trade tape of Senate control grows while nobody but the world trades
    def tape():
        return desk.get("/markets/trades", params={"limit": 1000}).json()["trades"]

    before = len(tape())
    deadline = time.monotonic() + 10
    while len(tape()) == before and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(tape()) > before, "no trades in 10 s: the synthetic traders are not trading"

    # the data feed answers, the truth stays hidden without --reveal-truth
    polls = httpx.get(f"{sim.admin_url}/data/polls", timeout=10).json()["polls"]
    assert polls and {"pollster", "sample_size", "answers"} <= set(polls[0])
    assert httpx.get(f"{sim.admin_url}/truth", timeout=10).status_code == 404
