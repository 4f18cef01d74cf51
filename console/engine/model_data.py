"""The model runner's data: what each source said last, read through the adapters of console.models.sources.

`ModelData` reads the built-in exchange's data feed (`read_sim`) or, for demo / prod, the polls CSV and
the NWS gridpoint forecasts that are configured (`read_files_and_nws`). A failed read appends one line
to `errors` (`describe_error`: what and where, never a header or a key) and leaves that source's last
good data in place, so the markets stay priced until the next round reads it again. Forecast highs are
kept per (series, day) after the source stops listing a day (the NWS-style forecast drops today's high
in the afternoon, while the day's market still trades). Used on the io thread's loop only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from console.engine.fair_map import CityForecast, CpiInput
from console.models.polls import ApprovalPoll, Poll
from console.models.sources import SourceFormatError
from console.models.sources.nws import NWS_BASE_URL, DailyHigh, parse_forecast
from console.models.sources.polls_csv import load_polls_csv
from console.models.sources.sim_feed import SimDataClient


class NoData(Exception):
    """There is no data source at all (not a passing error): said once, and the runner stops."""


def describe_error(where: str, exc: BaseException) -> str:
    """A data error as one line for the operator (no URLs with query secrets, no headers)."""
    if isinstance(exc, httpx.HTTPStatusError):
        what = f"HTTP {exc.response.status_code}"
    elif isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(exc, httpx.TransportError):
        what = f"connection failed ({type(exc).__name__})"
    elif isinstance(exc, json.JSONDecodeError):
        what = "malformed JSON"
    elif isinstance(exc, SourceFormatError):
        what = f"unexpected shape: {exc}"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return f"{where}: {what}; retrying next round"


class ModelData:
    """The latest data of every source (module docstring)."""

    def __init__(self, cfg: Any, data_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.cfg = cfg  # console.config.ModelsConfig
        self.data_url = data_url
        self.http = http
        self.polls: tuple[Poll, ...] = ()
        self.approval: tuple[ApprovalPoll, ...] = ()
        self.cities: dict[str, CityForecast] = {}
        self.highs: dict[tuple[str, dt.date], DailyHigh] = {}  # kept after the source stops listing a day
        self.cpi: CpiInput | None = None

    async def _read(self, where: str, errors: list[str], coro) -> Any:
        try:
            return await coro
        except Exception as exc:  # noqa: BLE001 - see describe_error
            errors.append(describe_error(where, exc))
            return None

    async def read_sim(self, errors: list[str]) -> None:
        """The built-in exchange's data feed; each source keeps its last good data when a read fails."""
        assert self.http is not None
        feed = SimDataClient(self.data_url, self.http)
        await self._read_cities(feed, errors)
        polls = await self._read("sim data polls", errors, feed.polls())
        generic = await self._read("sim data generic ballot", errors, feed.generic_ballot())
        if polls is not None and generic is not None:
            self.polls = (*polls, *generic)
        approval = await self._read("sim data approval", errors, feed.approval())
        if approval is not None:
            self.approval = tuple(approval)
        for code, city in list(self.cities.items()):
            highs = await self._read(f"sim data weather {code}", errors, feed.forecast(code))
            observed = await self._read(f"sim data observations {code}", errors, feed.observations(code))
            self._remember(city, highs, observed)
        cpi = await self._read("sim data cpi", errors, feed.cpi())
        if cpi is not None:
            consensus = cpi.mean if cpi.mean is not None else cpi.median
            self.cpi = CpiInput(int(cpi.release_time.timestamp() * 1000), consensus, cpi.actual, cpi.event_ticker)

    async def _read_cities(self, feed: SimDataClient, errors: list[str]) -> None:
        """The weather cities (read until they are known); a world-less exchange is recognised here."""
        if self.cities:
            return
        try:
            cities = await feed.cities()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 503 and b"world_not_running" in exc.response.content:
                raise NoData("models: the built-in exchange runs without its market world ([sim] world = "
                             "false), so it publishes no data and no market is modelled") from None
            errors.append(describe_error("sim data weather cities", exc))
        except Exception as exc:  # noqa: BLE001 - see describe_error
            errors.append(describe_error("sim data weather cities", exc))
        else:
            for c in cities:
                self.cities[c.city] = CityForecast(c.series_ticker, c.name, c.tz)

    async def read_files_and_nws(self, errors: list[str], pool: Any = None) -> None:
        """Demo / prod: the polls CSV and the NWS forecasts that are configured."""
        if self.cfg.polls_csv:
            try:
                polls, approval = await asyncio.get_running_loop().run_in_executor(
                    pool, load_polls_csv, self.cfg.polls_csv)
            except Exception as exc:  # noqa: BLE001
                errors.append(describe_error(f"polls CSV {self.cfg.polls_csv}", exc))
            else:
                self.polls, self.approval = tuple(polls), tuple(approval)
        for series, city_cfg in self.cfg.nws_cities.items():
            city = self.cities.get(series)
            if city is None:
                city = self.cities[series] = CityForecast(series, city_cfg.name or series, ZoneInfo(city_cfg.timezone))
            highs = await self._read(f"NWS {city_cfg.office} {city_cfg.grid_x},{city_cfg.grid_y}", errors,
                                     self._nws(city_cfg))
            self._remember(city, highs, None)

    async def _nws(self, city_cfg: Any) -> list[DailyHigh]:
        assert self.http is not None
        r = await self.http.get(f"{NWS_BASE_URL}/gridpoints/{city_cfg.office}/{city_cfg.grid_x},{city_cfg.grid_y}"
                                 "/forecast", headers={"User-Agent": self.cfg.nws_user_agent,
                                                       "Accept": "application/geo+json"})
        r.raise_for_status()
        return parse_forecast(r.json())

    def _remember(self, city: CityForecast, highs: list[DailyHigh] | None, observed: dict | None) -> None:
        for h in highs or ():
            key = (city.series_ticker, h.day)
            old = self.highs.get(key)
            if old is None or h.issued >= old.issued:
                self.highs[key] = h
        if self.highs:  # forget days long past (the runner lives as long as the desk)
            cutoff = max(day for _, day in self.highs) - dt.timedelta(days=10)
            self.highs = {k: h for k, h in self.highs.items() if k[1] >= cutoff}
        if observed is not None:
            code = next(k for k, c in self.cities.items() if c is city)
            self.cities[code] = CityForecast(city.series_ticker, city.name, city.tz, observed=dict(observed))

    def city_inputs(self) -> list[CityForecast]:
        out = []
        for city in self.cities.values():
            highs = tuple(h for (series, _), h in sorted(self.highs.items()) if series == city.series_ticker)
            out.append(CityForecast(city.series_ticker, city.name, city.tz, highs, city.observed))
        return out
