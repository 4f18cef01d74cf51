"""The model runner: data errors become message text and a retry; end to end, the desk holds fair values
for the built-in world's race, control, weather and CPI markets within seconds of starting."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from engine_helpers import Account, config, wait_until

from console.config import DeskConfig, ModelsConfig
from console.engine.fair import FairValues
from console.engine.modelrun import ModelRunner
from console.engine.runtime import build_engine

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)
EXPIRY = dt.datetime(2026, 12, 14, 15, 0, tzinfo=dt.UTC)
SIM_NOW = NOW + dt.timedelta(hours=30)  # the built-in exchange's clock may run ahead of the desk's ([sim] speed)


def market(ticker: str, event: str, **strikes: Any) -> SimpleNamespace:
    return SimpleNamespace(ticker=ticker, event_ticker=event, status="active", title="", yes_sub_title="",
                           strike_type=strikes.get("strike_type"), floor_strike=strikes.get("floor"),
                           cap_strike=strikes.get("cap"), expected_expiration_time=EXPIRY)


def events() -> list[SimpleNamespace]:
    ga = [market(f"KXSENATEGA-26-{p}", "KXSENATEGA-26") for p in "DR"]
    ctl = [market(f"CONTROLS-2026-{p}", "CONTROLS-2026") for p in "DR"]
    wx = "KXHIGHNY-26NOV23"
    weather = [market(f"{wx}-T46", wx, strike_type="less", cap=46),
               *(market(f"{wx}-B{lo + 0.5}", wx, strike_type="between", floor=lo, cap=lo + 1) for lo in (46, 48, 50, 52)),
               market(f"{wx}-T53", wx, strike_type="greater", floor=53)]
    cpi = [market("KXCPI-26OCT-T0.0", "KXCPI-26OCT", strike_type="less", cap=0.0),
           *(market(f"KXCPI-26OCT-B{v / 10:.1f}", "KXCPI-26OCT", strike_type="between", floor=v / 10, cap=v / 10)
             for v in range(5)),
           market("KXCPI-26OCT-T0.4", "KXCPI-26OCT", strike_type="greater", floor=0.4)]
    return [SimpleNamespace(series_ticker="KXSENATEGA", markets=ga),
            SimpleNamespace(series_ticker="CONTROLS", markets=ctl),
            SimpleNamespace(series_ticker="KXHIGHNY", markets=weather),
            SimpleNamespace(series_ticker="KXCPI", markets=cpi)]


class FakeRest:
    def __init__(self) -> None:
        self.fail = False
        self.closed: list[SimpleNamespace] = []  # events whose markets are no longer open
        self.asked: list[tuple[str, str | None]] = []

    async def get_user_data_timestamp(self) -> SimpleNamespace:
        return SimpleNamespace(as_of_time=SIM_NOW)

    async def iter_events(self, *, status: str = "open", series_ticker: str | None = None, **_: Any):
        self.asked.append((status, series_ticker))
        if self.fail:
            raise httpx.ConnectError("connection refused")
        closed = {e.series_ticker for e in self.closed}
        chosen = [e for e in events() if e.series_ticker not in closed
                  and series_ticker in (None, e.series_ticker)] if status == "open" else \
            [e for e in self.closed if e.series_ticker == series_ticker and status == "closed"]
        for e in chosen:
            yield e


def poll(i: int, kind: str, d: int, r: int, race: str | None = None) -> dict:
    end = (NOW.date() - dt.timedelta(days=2 + i)).isoformat()
    out = {"poll_id": f"{kind}{i}", "kind": kind, "pollster": f"P{i % 3}", "population": "lv", "sample_size": 900,
           "start_date": (NOW.date() - dt.timedelta(days=4 + i)).isoformat(), "end_date": end,
           "answers": [{"choice": "D", "party": "D", "pct": d}, {"choice": "R", "party": "R", "pct": r}]}
    if race:
        out["race"] = race
    return out


DATA: dict[str, Any] = {
    "/sim/data/polls": {"polls": [poll(i, "senate", 48, 45, "SEN-GA") for i in range(6)]},
    "/sim/data/generic_ballot": {"polls": [poll(i, "generic_ballot", 47, 46) for i in range(4)]},
    "/sim/data/approval": {"polls": [{**poll(i, "approval", 0, 0), "answers": [
        {"choice": "Approve", "pct": 44}, {"choice": "Disapprove", "pct": 52}]} for i in range(3)]},
    "/sim/data/weather": {"cities": [{"city": "ny", "name": "NYC", "station": "Central Park", "series_ticker":
                                      "KXHIGHNY", "office": "OKX", "gridX": 33, "gridY": 37,
                                      "timezone": "America/New_York", "forecast": "/sim/data/weather/ny"}]},
    "/sim/data/weather/ny": {"type": "Feature", "properties": {"generatedAt": "2026-11-22T15:00:00+00:00", "periods": [
        {"isDaytime": True, "startTime": "2026-11-23T06:00:00-05:00", "temperature": 50, "temperatureUnit": "F",
         "edgedesk": {"temperatureSpreadF": 2.0, "leadHours": 25}}]}},
    "/sim/data/weather/ny/observations": {"station": "Central Park", "observations": []},
    "/sim/data/cpi": {"reference_month": "2026-10", "release_time": "2026-11-26T13:30:00Z",
                      "event_ticker": "KXCPI-26OCT", "consensus": {"as_of": "2026-11-22T14:00:00Z", "median": 0.3,
                                                                   "mean": 0.28, "forecasts": []},
                      "history": [], "actual": None},
}


NO_WORLD = {"error": {"code": "world_not_running", "message": "the market world is not running"}}


class Faults:
    def __init__(self) -> None:
        self.by_path: dict[str, str] = {}  # path -> "500" | "json" | "timeout"
        self.seen: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        fault = self.by_path.get(request.url.path)
        if fault == "503":
            return httpx.Response(503, json=NO_WORLD)
        if fault == "500":
            return httpx.Response(500, json={"error": {"code": "internal"}})
        if fault == "json":
            return httpx.Response(200, content=b'{"reference_month": ', headers={"content-type": "application/json"})
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if request.url.host == "api.weather.gov":
            assert request.url.path == "/gridpoints/OKX/33,37/forecast"
            assert request.headers["User-Agent"] == "edgedesk test (ops@example.invalid)"
            return httpx.Response(200, json=DATA["/sim/data/weather/ny"])
        return httpx.Response(200, content=json.dumps(DATA[request.url.path]).encode(),
                              headers={"content-type": "application/json"})


def runner(venue: str = "sim", **cfg: Any) -> tuple[ModelRunner, list, list, FakeRest, Faults]:
    posted: list = []
    watched: list = []
    rest, faults = FakeRest(), Faults()
    r = ModelRunner(ModelsConfig(**cfg), venue, "http://127.0.0.1:9/trade-api/v2", rest=lambda: rest,
                    post=posted.append, watch=watched.append, now_ms=lambda: NOW_MS)
    r._http = httpx.AsyncClient(transport=httpx.MockTransport(faults.handler))
    return r, posted, watched, rest, faults


def models_by_ticker(msg: FairValues) -> dict[str, str]:
    return {v.ticker: v.model for v in msg.values}


async def test_a_round_prices_every_kind_and_asks_the_desk_to_watch_them():
    r, posted, watched, _, _ = runner()
    msg = await r.refresh()
    assert posted == [msg] and msg.source == "sim data feed" and msg.errors == ()
    models = models_by_ticker(msg)
    assert models["KXSENATEGA-26-D"] == "polls" and models["CONTROLS-2026-D"] == "control"
    assert models["KXHIGHNY-26NOV23-B50.5"] == "weather" and models["KXCPI-26OCT-B0.3"] == "cpi"
    ga = {v.ticker: v.prob_yes for v in msg.values if v.ticker.startswith("KXSENATEGA")}
    assert ga["KXSENATEGA-26-D"] > 0.5 and sum(ga.values()) == pytest.approx(1.0)
    assert msg.election is not None and msg.election.markets["CONTROLS-2026-D"].chamber
    assert watched == [tuple(v.ticker for v in msg.values)]
    # the models reason in the exchange's time (CPI release 2026-11-26 13:30 UTC: 2.7 days on)
    assert {v.as_of_ms for v in msg.values} == {int(SIM_NOW.timestamp() * 1000)} and msg.ts_ms == NOW_MS
    assert "2.7 days to release" in next(v.detail for v in msg.values if v.model == "cpi")
    await r.refresh()
    assert len(watched) == 1  # asked once per market


async def test_markets_are_asked_for_again_while_the_desk_is_not_ready_for_them():
    r, _, _, _, _ = runner()
    asks: list[tuple[str, ...]] = []
    ready = False

    def watch(tickers: tuple[str, ...]) -> bool:
        asks.append(tickers)
        return ready

    r.watch = watch
    await r.refresh()
    ready = True
    r._flush_watch()  # what the run loop does every second meanwhile
    await r.refresh()
    assert len(asks) == 2 and asks[0] == asks[1] and len(asks[0]) == 2 + 2 + 6 + 7


async def test_a_race_whose_markets_closed_is_called_from_their_result():
    r, _, _, rest, _ = runner()
    first = await r.refresh()
    assert "(0 called)" in next(v.detail for v in first.values if v.ticker == "CONTROLS-2026-D")
    called = [market(f"KXSENATEGA-26-{p}", "KXSENATEGA-26") for p in "DR"]
    for m, result in zip(called, ("no", "yes"), strict=True):
        m.status, m.result = "determined", result
    rest.closed = [SimpleNamespace(series_ticker="KXSENATEGA", markets=called)]
    msg = await r.refresh()
    assert ("closed", "KXSENATEGA") in rest.asked
    control = next(v for v in msg.values if v.ticker == "CONTROLS-2026-D")
    assert "(1 called)" in control.detail and control.prob_yes < 1e-6  # the only modelled race went R
    assert not any(v.ticker.startswith("KXSENATEGA") for v in msg.values)
    assert msg.election is not None and msg.election.model.race_probability("SEN-GA") == 0.0
    rest.asked.clear()
    await r.refresh()
    assert rest.asked == [("open", None)]  # a called race is not looked up again


async def test_data_errors_become_message_text_and_the_next_round_retries():
    r, posted, _, rest, faults = runner()
    good = await r.refresh()
    faults.by_path = {"/sim/data/polls": "500", "/sim/data/cpi": "json", "/sim/data/weather/ny": "timeout"}
    rest.fail = True
    bad = await r.refresh()
    text = "\n".join(bad.errors)
    assert "sim data polls: HTTP 500; retrying next round" in text
    assert "sim data cpi: malformed JSON" in text
    assert "sim data weather ny: timed out" in text
    assert "markets (GET /events): connection failed" in text
    assert "Authorization" not in text and "KALSHI" not in text
    # the last good data of each source keeps the markets priced meanwhile
    assert models_by_ticker(bad) == models_by_ticker(good)
    faults.by_path = {}
    rest.fail = False
    again = await r.refresh()
    assert again.errors == () and len(posted) == 3
    assert sum(1 for q in faults.seen if q.url.path == "/sim/data/polls") == 3  # read again every round


async def test_demo_without_data_sources_says_so_once_and_stops():
    r, posted, watched, _, _ = runner("demo")
    await asyncio.wait_for(r.run(), 2)
    assert len(posted) == 1 and posted[0].values == ()
    assert "no data source configured" in posted[0].errors[0] and "polls_csv" in posted[0].errors[0]
    assert watched == []


async def test_an_exchange_without_its_world_is_said_once_and_the_runner_stops():
    r, posted, watched, _, faults = runner(refresh_s=1.0)
    faults.by_path = dict.fromkeys(DATA, "503")
    await asyncio.wait_for(r.run(), 2)
    assert len(posted) == 1 and posted[0].values == () and watched == []
    assert posted[0].errors == (("models: the built-in exchange runs without its market world ([sim] world = "
                                 "false), so it publishes no data and no market is modelled"),)


async def test_demo_with_a_polls_csv_prices_the_races(tmp_path):
    csv = tmp_path / "polls.csv"
    rows = ["race,pollster,population,sample_size,start_date,end_date,dem_pct,rep_pct"]
    rows += [f"SEN-GA,P{i},lv,800,2026-11-{10 + i:02d},2026-11-{12 + i:02d},49,44" for i in range(5)]
    csv.write_text("\n".join(rows) + "\n")
    r, _, _, _, faults = runner("demo", polls_csv=str(csv))
    msg = await r.refresh()
    assert r.source == "polls CSV"
    # a real venue lists thousands of events: only the series the polls can price are read
    assert r._series_wanted() == ["CONTROLS", "CONTROLH", "KXSENATEGA", "SENATEGA"]
    assert [a for a in r.rest().asked if a[0] == "open"] == [("open", s) for s in r._series_wanted()]
    assert models_by_ticker(msg)["KXSENATEGA-26-D"] == "polls"  # no generic ballot or approval: no prior
    assert not faults.seen  # nothing fetched from the simulator's data feed
    csv.write_text("race,pollster\nSEN-GA,P1\n")
    broken = await r.refresh()
    assert any("polls CSV" in e and "missing column" in e for e in broken.errors)


def test_end_to_end_the_desk_holds_fair_values_for_the_world(sim_factory, tmp_path):
    sim = sim_factory("--world", "--no-demo-markets")
    account = Account(sim)
    cfg = DeskConfig.model_validate({**config([]).model_dump(), "engine": {"watch": [], "forward_test_log": False}})
    eng = build_engine(cfg, home=tmp_path / "home", venue=account.venue(), strategies=[])
    alerts: list = []
    eng.control.subscribe(alerts.append)
    eng.start()
    try:
        assert eng.wait_ready(30)
        desk = eng.kernel.desk  # written on the kernel thread; a test may read a copy
        wait_until(lambda: desk.election is not None and len(desk.fairs) > 60, 20, "the desk's fair values")
        values = list(dict(desk.fairs).values())
        assert not [a for a in alerts if getattr(a, "kind", "") == "model"], alerts
        by_model: dict[str, list[str]] = {}
        for v in values:
            by_model.setdefault(v.model, []).append(v.ticker)
        assert {"control", "weather", "cpi"} <= set(by_model)
        assert {"CONTROLS-2026-D", "CONTROLH-2026-D"} <= set(by_model["control"])
        # every race of the world is polled from the start (four weeks are backfilled): the polls model
        assert sum(t.startswith("KXSENATE") for t in by_model["polls"]) == 20
        assert sum(t.startswith("KXGOV") for t in by_model["polls"]) == 8
        fair = {v.ticker: v.prob_yes for v in values}
        for event in {v.ticker.rsplit("-", 1)[0] for v in values if v.model in ("weather", "cpi")}:
            assert sum(p for t, p in fair.items() if t.rsplit("-", 1)[0] == event) == pytest.approx(1.0, abs=1e-9)
        state = desk.election
        assert state is not None and state.markets["CONTROLH-2026-R"].chamber
        assert fair["CONTROLS-2026-D"] == pytest.approx(state.model.control_probability("senate"))
        # the desk watches every market the models price (more than the 50 max_watch loads at start)
        wanted = set(fair)
        assert len(wanted) > 60
        wait_until(lambda: wanted <= set(eng.kernel.desk.markets), 20, "every modelled market watched")
    finally:
        eng.stop("cancel")


async def test_demo_with_nws_cities_prices_their_weather_events():
    city = {"office": "OKX", "grid_x": 33, "grid_y": 37, "timezone": "America/New_York", "name": "NYC"}
    r, _, _, _, faults = runner("demo", nws_cities={"KXHIGHNY": city},
                                nws_user_agent="edgedesk test (ops@example.invalid)")
    msg = await r.refresh()
    assert r.source == "NWS" and msg.errors == ()
    weather = {v.ticker: v.prob_yes for v in msg.values if v.model == "weather"}
    assert len(weather) == 6 and sum(weather.values()) == pytest.approx(1.0)
    assert max(weather, key=weather.get) == "KXHIGHNY-26NOV23-B50.5"
    assert not any(v.model in ("polls", "cpi", "control") for v in msg.values)  # no polls CSV, no CPI source
    assert {q.url.host for q in faults.seen} == {"api.weather.gov"}
    assert r.rest().asked == [("open", "KXHIGHNY")]
    faults.by_path = {"/gridpoints/OKX/33,37/forecast": "500"}
    again = await r.refresh()
    assert again.errors == ("NWS OKX 33,37: HTTP 500; retrying next round",)
    assert {v.ticker for v in again.values} == set(weather)  # the last good forecast meanwhile
