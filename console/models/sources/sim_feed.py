"""The built-in exchange's data feed (/sim/data/...): polls, approval, generic ballot, forecasts, CPI.

Shapes (the simulator's docs/world.md is the reference; these parsers reject anything else):

    GET /sim/data/polls[?race=SEN-GA&kind=senate&since=<unix s>] -> {"polls": [poll]}
    GET /sim/data/generic_ballot, /sim/data/approval            -> {"polls": [poll]}
    poll: {poll_id, kind, pollster, population, sample_size, start_date, end_date, published_time,
           race?, state?, office?, event_ticker?, answers: [{choice, party?, pct}]}
    GET /sim/data/weather            -> {"cities": [{city, name, station, series_ticker, office, gridX, gridY,
                                                     timezone, forecast}]}
    GET /sim/data/weather/{city}     -> an NWS gridpoint forecast (console.models.sources.nws)
    GET /sim/data/weather/{city}/observations -> {"station", "observations": [{date, max_temperature_f}]}
    GET /sim/data/cpi -> {measure, reference_month, release_time, event_ticker,
                          consensus: {as_of, median, mean, low, high, forecasts: [{source, value}]} | null,
                          history: [{as_of, median, mean}], actual: number | null}

`SimDataClient` is the thin async HTTP wrapper (httpx.AsyncClient) the io thread uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from console.models.polls import GENERIC, ApprovalPoll, Poll
from console.models.sources import SourceFormatError
from console.models.sources.nws import DailyHigh, parse_forecast


def _get(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SourceFormatError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _date(text: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise SourceFormatError(f"{where}: {text!r} is not a YYYY-MM-DD date") from None


def _list(doc: Any, key: str, what: str) -> list[Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise SourceFormatError(f"{what}: expected an object with a '{key}' list")
    return doc[key]


def parse_polls(doc: Any) -> tuple[list[Poll], list[ApprovalPoll]]:
    """Race and generic-ballot polls (generic ballot under race "generic"), and approval polls."""
    polls: list[Poll] = []
    approval: list[ApprovalPoll] = []
    for i, item in enumerate(_list(doc, "polls", "polls")):
        where = f"polls[{i}]"
        if not isinstance(item, dict):
            raise SourceFormatError(f"{where}: expected an object")
        kind = _get(item, "kind", str, where)
        pollster = _get(item, "pollster", str, where)
        population = _get(item, "population", str, where)
        n = _get(item, "sample_size", int, where)
        start = _date(item.get("start_date"), f"{where}.start_date")
        end = _date(item.get("end_date"), f"{where}.end_date")
        answers = _get(item, "answers", list, where)
        pid = str(item.get("poll_id", ""))
        if kind == "approval":
            pct = {str(a.get("choice")): a.get("pct") for a in answers if isinstance(a, dict)}
            if not isinstance(pct.get("Approve"), (int, float)) or not isinstance(pct.get("Disapprove"), (int, float)):
                raise SourceFormatError(f"{where}.answers: an approval poll needs Approve and Disapprove")
            approval.append(ApprovalPoll(pollster, population, n, start, end, float(pct["Approve"]),
                                         float(pct["Disapprove"]), pid))
            continue
        by_party = {a.get("party"): a.get("pct") for a in answers if isinstance(a, dict) and a.get("party")}
        d, r = by_party.get("D"), by_party.get("R")
        if not isinstance(d, (int, float)) or not isinstance(r, (int, float)):
            raise SourceFormatError(f"{where}.answers: needs a D and an R answer with a pct")
        race = GENERIC if kind == "generic_ballot" else _get(item, "race", str, where)
        try:
            polls.append(Poll(race, pollster, population, n, start, end, float(d), float(r), pid, kind))
        except ValueError as exc:
            raise SourceFormatError(f"{where}: {exc}") from None
    return polls, approval


@dataclass(frozen=True)
class City:
    city: str
    name: str
    station: str
    series_ticker: str
    office: str
    grid_x: int
    grid_y: int
    tz: ZoneInfo


def parse_cities(doc: Any) -> list[City]:
    out = []
    for i, c in enumerate(_list(doc, "cities", "weather cities")):
        where = f"cities[{i}]"
        if not isinstance(c, dict):
            raise SourceFormatError(f"{where}: expected an object")
        try:
            tz = ZoneInfo(_get(c, "timezone", str, where))
        except (KeyError, ValueError):
            raise SourceFormatError(f"{where}.timezone: unknown time zone {c.get('timezone')!r}") from None
        out.append(City(_get(c, "city", str, where), _get(c, "name", str, where), _get(c, "station", str, where),
                        _get(c, "series_ticker", str, where), _get(c, "office", str, where),
                        _get(c, "gridX", int, where), _get(c, "gridY", int, where), tz))
    return out


def parse_observations(doc: Any) -> dict[dt.date, int]:
    """Reported daily highs (whole degrees F) by date."""
    out = {}
    for i, o in enumerate(_list(doc, "observations", "observations")):
        where = f"observations[{i}]"
        if not isinstance(o, dict):
            raise SourceFormatError(f"{where}: expected an object")
        out[_date(o.get("date"), f"{where}.date")] = _get(o, "max_temperature_f", int, where)
    return out


@dataclass(frozen=True)
class CpiConsensus:
    reference_month: str  # "2026-10"
    release_time: dt.datetime
    event_ticker: str | None
    median: float | None  # percent, month over month
    mean: float | None
    forecasts: tuple[tuple[str, float], ...]
    history: tuple[tuple[dt.datetime, float], ...]  # (as of, median)
    actual: float | None


def parse_cpi(doc: Any) -> CpiConsensus:
    if not isinstance(doc, dict):
        raise SourceFormatError("cpi: expected an object")
    release = _time(doc.get("release_time"), "cpi.release_time")
    consensus = doc.get("consensus")
    median = mean = None
    forecasts: tuple[tuple[str, float], ...] = ()
    if consensus is not None:
        if not isinstance(consensus, dict):
            raise SourceFormatError("cpi.consensus: expected an object or null")
        median = float(_get(consensus, "median", (int, float), "cpi.consensus"))
        mean = float(_get(consensus, "mean", (int, float), "cpi.consensus"))
        forecasts = tuple((str(f.get("source")), float(f.get("value"))) for f in consensus.get("forecasts", [])
                          if isinstance(f, dict) and isinstance(f.get("value"), (int, float)))
    history = tuple((_time(h.get("as_of"), f"cpi.history[{i}].as_of"),
                     float(_get(h, "median", (int, float), f"cpi.history[{i}]")))
                    for i, h in enumerate(doc.get("history") or []))
    actual = doc.get("actual")
    if actual is not None and not isinstance(actual, (int, float)):
        raise SourceFormatError(f"cpi.actual: expected a number or null, got {actual!r}")
    return CpiConsensus(_get(doc, "reference_month", str, "cpi"), release, doc.get("event_ticker"), median, mean,
                        forecasts, history, None if actual is None else float(actual))


def _time(text: Any, where: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise SourceFormatError(f"{where}: {text!r} is not an RFC 3339 time") from None
    if t.tzinfo is None:
        raise SourceFormatError(f"{where}: {text!r} has no UTC offset")
    return t


class SimDataClient:
    """Thin async reader of /sim/data (module docstring). Errors: httpx errors, SourceFormatError."""

    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._owns = client is None

    async def _json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        r = await self._client.get(f"{self.base_url}{path}", params=params)
        r.raise_for_status()
        return r.json()

    async def polls(self, race: str | None = None, since_s: int | None = None) -> list[Poll]:
        params = {k: v for k, v in (("race", race), ("since", since_s)) if v is not None}
        return parse_polls(await self._json("/sim/data/polls", params))[0]

    async def generic_ballot(self, since_s: int | None = None) -> list[Poll]:
        return parse_polls(await self._json("/sim/data/generic_ballot", _since(since_s)))[0]

    async def approval(self, since_s: int | None = None) -> list[ApprovalPoll]:
        return parse_polls(await self._json("/sim/data/approval", _since(since_s)))[1]

    async def cities(self) -> list[City]:
        return parse_cities(await self._json("/sim/data/weather"))

    async def forecast(self, city: str) -> list[DailyHigh]:
        return parse_forecast(await self._json(f"/sim/data/weather/{city.lower()}"))

    async def observations(self, city: str) -> dict[dt.date, int]:
        return parse_observations(await self._json(f"/sim/data/weather/{city.lower()}/observations"))

    async def cpi(self) -> CpiConsensus:
        return parse_cpi(await self._json("/sim/data/cpi"))

    async def aclose(self) -> None:
        if self._owns:
            await self._client.aclose()


def _since(since_s: int | None) -> dict[str, Any] | None:
    return None if since_s is None else {"since": since_s}
