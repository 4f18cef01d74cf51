"""Data adapters on samples the tests generate: the sim data feed, NWS forecast JSON, the polls CSV."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import httpx
import pytest

from console.models.polls import GENERIC
from console.models.sources import SourceFormatError
from console.models.sources.nws import fetch_forecast, parse_forecast, parse_gridpoint_max
from console.models.sources.polls_csv import load_polls_csv, parse_polls_csv
from console.models.sources.sim_feed import SimDataClient, parse_cpi, parse_polls

NY = ZoneInfo("America/New_York")


def _answers(d: int, r: int) -> list[dict]:
    return [{"choice": "Democratic candidate", "party": "D", "pct": d},
            {"choice": "Republican candidate", "party": "R", "pct": r}, {"choice": "Undecided", "pct": 100 - d - r}]


def sample_polls() -> dict:
    base = {"population": "lv", "sample_size": 812, "start_date": "2026-10-12", "end_date": "2026-10-15",
            "published_time": "2026-10-16T14:00:00Z"}
    return {"polls": [
        {**base, "poll_id": "P00001", "kind": "senate", "pollster": "Keystone Research", "race": "SEN-GA",
         "state": "GA", "office": "senate", "event_ticker": "KXSENATEGA-26", "answers": _answers(47, 45)},
        {**base, "poll_id": "P00002", "kind": "generic_ballot", "pollster": "Civic Pulse", "answers": _answers(46, 44)},
        {**base, "poll_id": "P00003", "kind": "approval", "pollster": "Bluewater Survey", "population": "a",
         "answers": [{"choice": "Approve", "pct": 43}, {"choice": "Disapprove", "pct": 52},
                     {"choice": "Not sure", "pct": 5}]},
    ]}


def sample_forecast(spread: bool = True) -> dict:
    def period(n: int, start: str, end: str, day: bool, temp: int) -> dict:
        p = {"number": n, "name": "x", "startTime": start, "endTime": end, "isDaytime": day, "temperature": temp,
             "temperatureUnit": "F", "shortForecast": "Sunny"}
        if day and spread:
            p["edgedesk"] = {"temperatureSpreadF": 2.4, "leadHours": 30.0}
        return p

    return {"type": "Feature", "properties": {
        "generatedAt": "2026-11-22T15:00:00+00:00", "updateTime": "2026-11-22T15:00:00+00:00",
        "periods": [period(1, "2026-11-22T10:00:00-05:00", "2026-11-22T18:00:00-05:00", True, 58),
                    period(2, "2026-11-22T18:00:00-05:00", "2026-11-23T06:00:00-05:00", False, 44),
                    period(3, "2026-11-23T06:00:00-05:00", "2026-11-23T18:00:00-05:00", True, 61)]}}


def sample_cpi() -> dict:
    return {"measure": "CPI-U", "reference_month": "2026-10", "release_time": "2026-11-26T13:30:00Z",
            "event_ticker": "KXCPI-26OCT",
            "consensus": {"as_of": "2026-11-22T14:00:00Z", "median": 0.25, "mean": 0.258, "low": 0.1, "high": 0.4,
                          "forecasts": [{"source": "Atlas Economics", "value": 0.3}]},
            "history": [{"as_of": "2026-11-21T14:00:00Z", "median": 0.2, "mean": 0.21}], "actual": None}


def test_parse_sim_polls_into_race_generic_and_approval() -> None:
    polls, approval = parse_polls(sample_polls())
    assert [(p.race, p.pollster, p.margin) for p in polls] == [
        ("SEN-GA", "Keystone Research", pytest.approx(100 * 2 / 92)),
        (GENERIC, "Civic Pulse", pytest.approx(100 * 2 / 90))]
    assert polls[0].start_date == dt.date(2026, 10, 12) and polls[0].kind == "senate"
    assert approval[0].share == pytest.approx(100 * 43 / 95)


def test_parse_sim_polls_rejects_malformed_rows_with_where() -> None:
    doc = sample_polls()
    doc["polls"][0]["sample_size"] = "812"
    with pytest.raises(SourceFormatError, match=r"polls\[0\]\.sample_size"):
        parse_polls(doc)
    doc = sample_polls()
    doc["polls"][1]["answers"] = [{"choice": "Democratic candidate", "party": "D", "pct": 46}]
    with pytest.raises(SourceFormatError, match=r"polls\[1\]\.answers: needs a D and an R"):
        parse_polls(doc)
    with pytest.raises(SourceFormatError, match="'polls' list"):
        parse_polls({"data": []})


def test_parse_cpi_consensus() -> None:
    cpi = parse_cpi(sample_cpi())
    assert (cpi.median, cpi.actual, cpi.event_ticker) == (0.25, None, "KXCPI-26OCT")
    assert cpi.release_time == dt.datetime(2026, 11, 26, 13, 30, tzinfo=dt.UTC)
    assert cpi.forecasts == (("Atlas Economics", 0.3),) and cpi.history[0][1] == 0.2


def test_nws_forecast_daily_highs_and_lead() -> None:
    highs = parse_forecast(sample_forecast())
    assert [(h.day, h.high_f, h.spread_f) for h in highs] == [(dt.date(2026, 11, 22), 58.0, 2.4),
                                                             (dt.date(2026, 11, 23), 61.0, 2.4)]
    # issued 10:00 ET on the 22nd: the 23rd's high (16:00 ET) is 30 hours away
    assert highs[1].lead_hours(NY) == pytest.approx(30.0)
    assert parse_forecast(sample_forecast(spread=False))[0].spread_f is None


def test_nws_forecast_in_celsius_and_newer_temperature_objects() -> None:
    doc = sample_forecast(spread=False)
    doc["properties"]["periods"][0]["temperatureUnit"] = "C"
    doc["properties"]["periods"][0]["temperature"] = 15
    doc["properties"]["periods"][2]["temperature"] = {"unitCode": "wmoUnit:degF", "value": 62}
    highs = parse_forecast(doc)
    assert highs[0].high_f == pytest.approx(59.0) and highs[1].high_f == 62.0
    doc["properties"]["periods"][0]["temperatureUnit"] = "K"
    with pytest.raises(SourceFormatError, match=r"periods\[0\]: unknown temperature unit 'k'"):
        parse_forecast(doc)


def test_nws_raw_gridpoint_max_temperature() -> None:
    doc = {"properties": {"updateTime": "2026-11-22T09:41:00+00:00", "maxTemperature": {
        "uom": "wmoUnit:degC", "values": [{"validTime": "2026-11-22T12:00:00+00:00/PT13H", "value": 14.4},
                                          {"validTime": "2026-11-23T12:00:00+00:00/PT13H", "value": None},
                                          {"validTime": "2026-11-24T12:00:00+00:00/PT13H", "value": 10.0}]}}}
    highs = parse_gridpoint_max(doc, NY)
    assert [(h.day, round(h.high_f, 2)) for h in highs] == [(dt.date(2026, 11, 22), 57.92),
                                                          (dt.date(2026, 11, 24), 50.0)]


def test_fetch_nws_forecast_sends_a_user_agent() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["ua"] = str(request.url), request.headers.get("user-agent")
        return httpx.Response(200, json=sample_forecast())

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        highs = fetch_forecast(client, "OKX", 33, 37, user_agent="edgedesk (ops@example.invalid)")
    assert seen == {"url": "https://api.weather.gov/gridpoints/OKX/33,37/forecast",
                    "ua": "edgedesk (ops@example.invalid)"}
    assert len(highs) == 2


async def test_sim_data_client_reads_every_route() -> None:
    routes = {"/sim/data/polls": sample_polls(), "/sim/data/generic_ballot": sample_polls(),
              "/sim/data/approval": sample_polls(), "/sim/data/weather/ny": sample_forecast(),
              "/sim/data/cpi": sample_cpi(),
              "/sim/data/weather/ny/observations": {"station": "x", "observations": [
                  {"date": "2026-11-21", "max_temperature_f": 57}]},
              "/sim/data/weather": {"cities": [{"city": "ny", "name": "NYC", "station": "Central Park",
                                                "series_ticker": "KXHIGHNY", "office": "OKX", "gridX": 33, "gridY": 37,
                                                "timezone": "America/New_York", "forecast": "/sim/data/weather/ny"}]}}
    params = []

    def handler(request: httpx.Request) -> httpx.Response:
        params.append(dict(request.url.params))
        body = routes.get(request.url.path)
        return httpx.Response(200, content=json.dumps(body)) if body else httpx.Response(404, json={"error": {}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        feed = SimDataClient("http://127.0.0.1:1/", http)
        polls = await feed.polls(race="SEN-GA", since_s=1_700_000_000)
        assert params[-1] == {"race": "SEN-GA", "since": "1700000000"} and len(polls) == 2
        assert len(await feed.approval()) == 1 and len(await feed.generic_ballot()) == 2
        assert (await feed.cities())[0].tz == NY
        assert (await feed.forecast("NY"))[1].high_f == 61.0
        assert await feed.observations("ny") == {dt.date(2026, 11, 21): 57}
        assert (await feed.cpi()).median == 0.25
        with pytest.raises(httpx.HTTPStatusError):
            await feed.forecast("atlantis")


def test_polls_csv_round_trip(tmp_path) -> None:
    text = ("\ufeffpoll_id,race,pollster,population,sample_size,start_date,end_date,dem_pct,rep_pct,undecided_pct\n"
            "P1,SEN-GA,Keystone Research,lv,812,2026-10-12,2026-10-15,47,45,8\n"
            "P2,generic,Civic Pulse,RV,1540,2026-10-13,2026-10-16,46,44,10\n"
            "\n"
            "P3,approval,Bluewater Survey,a,1210,2026-10-13,2026-10-15,43,52,5\n")
    path = tmp_path / "polls.csv"
    path.write_text(text, encoding="utf-8")
    polls, approval = load_polls_csv(path)
    assert [(p.poll_id, p.race, p.population, p.sample_size) for p in polls] == [
        ("P1", "SEN-GA", "lv", 812), ("P2", GENERIC, "rv", 1540)]
    assert approval[0].approve_pct == 43 and approval[0].end_date == dt.date(2026, 10, 15)


@pytest.mark.parametrize(("text", "message"), [
    ("race,pollster,population,sample_size,start_date,end_date,dem_pct\n", "missing column(s) rep_pct"),
    ("race,pollster,population,sample_sise,sample_size,start_date,end_date,dem_pct,rep_pct\n",
     "unknown column(s) sample_sise"),
    ("race,pollster,population,sample_size,start_date,end_date,dem_pct,rep_pct\nX,P,lv,n/a,2026-10-01,2026-10-02,40,40\n",
     "polls.csv:2: sample_size 'n/a' is not a whole number"),
    ("race,pollster,population,sample_size,start_date,end_date,dem_pct,rep_pct\nX,P,lv,500,2026-10-05,2026-10-02,40,40\n",
     "polls.csv:2: end_date 2026-10-02 is before start_date 2026-10-05"),
    ("race,pollster,population,sample_size,start_date,end_date,dem_pct,rep_pct\nX,P,likely,500,2026-10-01,2026-10-02,40,40\n",
     "population 'likely'"),
    ("race,pollster,population,sample_size,start_date,end_date,dem_pct,rep_pct\nX,P,lv,500,2026-10-01,2026-10-02,140,40\n",
     "dem_pct 140 is outside 0..100"),
])
def test_polls_csv_errors_name_the_line_and_column(text: str, message: str) -> None:
    with pytest.raises(SourceFormatError) as err:
        parse_polls_csv(text)
    assert message in str(err.value)
