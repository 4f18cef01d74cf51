"""The model runner: data in, `FairValues` out, every `[models] refresh_s`, on the io thread's loop.

Each round:

1. reads the data: with the built-in exchange (`[venue] name = "sim"`) its data feed `/sim/data`
   (polls, generic ballot, approval, the four cities' forecasts and reported highs, the CPI
   consensus) through `SimDataClient`; with demo / prod the polls CSV (`[models] polls_csv`) and the
   NWS gridpoint forecasts of `[models.nws_cities]` when configured, otherwise nothing (said once);
2. reads the markets the models can price from the venue (`GET /events?status=open` with nested
   markets: series, event and strikes, the same data a human would read on the venue): every open
   event of the built-in exchange; on demo / prod only the series the data implies (`_series_wanted`);
3. runs `console.engine.fair_map.compute_fair_values` on its own worker thread (never on the io
   loop: the Kalman filter and the quadrature take milliseconds the order path should not wait for);
4. posts one `FairValues` to the kernel inbox (`post`, thread-safe), and asks the kernel to watch
   every market it priced that it has not asked for before (`Watch`), so the desk watches what the
   models price, including events listed after start-up (tomorrow's weather).

A data error (an HTTP error, malformed JSON, a timeout) becomes a line in `FairValues.errors`; the
last good data of that source is used meanwhile and the source is read again next round. Nothing
here raises into the io loop, and no request headers or keys are ever put in a message or a log
(the data endpoints are unsigned; the venue's REST client signs and keeps its key to itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx

from console.engine.fair import FairValues
from console.engine.fair_map import (
    ElectionSettings,
    MarketDesc,
    ModelInputs,
    compute_fair_values,
    party_of,
    race_of,
)
from console.engine.model_data import ModelData, NoData, describe_error

log = logging.getLogger(__name__)
OPEN_STATUSES = ("active", "open", "inactive")  # a paused market still has a value


def market_desc(market: Any, series_ticker: str) -> MarketDesc:
    """A REST market (console.venues.kalshi.codec_rest.Market) as the pure function sees it."""
    exp = market.expected_expiration_time
    return MarketDesc(
        market.ticker, market.event_ticker, series_ticker, market.title or "", market.yes_sub_title or "",
        market.strike_type, None if market.floor_strike is None else float(market.floor_strike),
        None if market.cap_strike is None else float(market.cap_strike),
        None if exp is None else int(exp.timestamp() * 1000))


class ModelRunner:
    """Runs the models for an engine (module docstring). `run()` is the coroutine for the io loop."""

    def __init__(self, cfg: Any, venue_name: str, rest_url: str, *, rest: Callable[[], Any],
                 post: Callable[[object], None], watch: Callable[[tuple[str, ...]], bool | None] | None = None,
                 now_ms: Callable[[], int] | None = None) -> None:
        self.cfg = cfg  # console.config.ModelsConfig
        self.venue_name = venue_name
        self.rest = rest
        self.post = post
        self.watch = watch
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))
        parts = urlsplit(rest_url)
        self.settings = ElectionSettings(
            election_day=cfg.election_day,
            senate_seats_fixed=cfg.senate_seats_fixed, senate_seats_needed=cfg.senate_seats_needed,
            house_tipping_margin=cfg.house_tipping_margin, house_sd=cfg.house_sd,
            house_drift_sd=cfg.house_drift_sd, leans=dict(cfg.leans), lean_sd=cfg.lean_sd,
            prior_max_polls=cfg.prior_max_polls)
        self.rounds = 0
        self.done = False  # no data source: nothing more to do
        self.last: FairValues | None = None
        self._markets: tuple[MarketDesc, ...] = ()
        self.data = ModelData(cfg, f"{parts.scheme}://{parts.netloc}")
        self._asked: set[str] = set()
        self._race_series: dict[str, str] = {}  # race -> series ticker, from markets seen open
        self._decided: dict[str, bool] = {}  # race -> the Democrat won, from its settled markets
        self._pending: tuple[str, ...] = ()
        self._pool: ThreadPoolExecutor | None = None
        self._http: httpx.AsyncClient | None = None

    # --- the loop -------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        if self.venue_name == "sim":
            return "sim data feed"
        parts = [p for p, on in (("polls CSV", self.cfg.polls_csv), ("NWS", self.cfg.nws_cities)) if on]
        return " + ".join(parts)

    async def run(self) -> None:
        """Refresh until cancelled (the io thread cancels it on stop)."""
        if not self.source:
            message = (f"models: venue {self.venue_name!r} has no data source configured, so no market is "
                       "modelled; set [models] polls_csv and/or [models.nws_cities] in config.toml")
            log.warning(message)
            self.post(FairValues((), self.now_ms(), source="none", errors=(message,)))
            return
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgedesk-models")
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.cfg.timeout_s)
        try:
            while not self.done:
                deadline = time.monotonic() + self.cfg.refresh_s
                await self.refresh()
                while (left := deadline - time.monotonic()) > 0:
                    # markets the desk could not take yet (still starting) are offered again every second
                    await asyncio.sleep(min(left, 1.0) if self._pending else left)
                    self._flush_watch()
        finally:
            await self._http.aclose()
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def refresh(self) -> FairValues | None:
        """One round (module docstring); returns the message it posted."""
        errors: list[str] = []
        try:
            data = self.data
            data.http = self._http
            if self.venue_name == "sim":
                await data.read_sim(errors)
            else:
                await data.read_files_and_nws(errors, self._pool)
            await self._read_markets(errors)
            now = await self._model_now()
            inputs = ModelInputs(self._markets, data.polls, data.approval, tuple(data.city_inputs()), data.cpi,
                                 self.settings, dict(self._decided))
            loop = asyncio.get_running_loop()
            out = await loop.run_in_executor(self._pool, compute_fair_values, inputs, now)
        except asyncio.CancelledError:
            raise
        except NoData as exc:
            log.warning("models: %s", exc)
            self.done = True
            msg = FairValues((), self.now_ms(), source=self.source, errors=(str(exc),))
            self.post(msg)
            return msg
        except Exception as exc:  # the runner must never take the io loop down
            log.exception("models: round failed")
            msg = FairValues((), self.now_ms(), source=self.source,
                             errors=(*errors, f"models: round failed ({type(exc).__name__}: {exc}); retrying"))
            self.post(msg)
            return msg
        msg = FairValues(out.values, self.now_ms(), out.election, self.source, (*errors, *out.errors))
        self.rounds += 1
        self.last = msg
        self.post(msg)
        self._pending = tuple(v.ticker for v in out.values if v.ticker not in self._asked)
        self._flush_watch()
        return msg

    async def _model_now(self) -> int:
        """The time the models reason in: the built-in exchange's own clock (it may run faster than the
        wall, `[sim] speed`), read from the venue; the desk's clock for a real venue."""
        rest = self.rest()
        if self.venue_name == "sim" and rest is not None:
            try:
                return int((await rest.get_user_data_timestamp()).as_of_time.timestamp() * 1000)
            except Exception as exc:  # noqa: BLE001 - the desk's clock is the fallback
                log.info("models: the exchange's clock could not be read (%s); using the desk's", exc)
        return self.now_ms()

    def _flush_watch(self) -> None:
        """Ask the desk to watch the priced markets it was not asked for yet (False from `watch`: not yet)."""
        if self._pending and self.watch is not None and self.watch(self._pending) is not False:
            self._asked.update(self._pending)
            self._pending = ()

    # --- reads ----------------------------------------------------------------------------------
    async def _read_markets(self, errors: list[str]) -> None:
        rest = self.rest()
        if rest is None:
            errors.append("markets: the venue connection is not up yet; retrying next round")
            return
        try:
            out = []
            # the built-in exchange lists a few dozen events; a real venue thousands: ask only for the
            # series the data can price
            for series in (None,) if self.venue_name == "sim" else self._series_wanted():
                async for event in rest.iter_events(status="open", series_ticker=series, with_nested_markets=True):
                    for market in event.markets or ():
                        if market.status in OPEN_STATUSES:
                            out.append(market_desc(market, event.series_ticker))
        except Exception as exc:  # noqa: BLE001 - VenueError and transport trouble alike
            errors.append(describe_error("markets (GET /events)", exc))
            return
        self._markets = tuple(out)
        open_races: set[str] = set()
        for m in out:
            race = race_of(m.series_ticker)
            if race is not None:
                self._race_series[race] = m.series_ticker
                open_races.add(race)
        for race, series in self._race_series.items():
            if race not in open_races and race not in self._decided:
                await self._read_result(rest, race, series, errors)

    def _series_wanted(self) -> list[str]:
        """Demo / prod: the series the configured data can price (`[models] series` adds more)."""
        wanted = list(self.cfg.series) + list(self.cfg.nws_cities)
        if self.data.polls or self.data.approval:
            wanted += ["CONTROLS", "CONTROLH"]
            for race in sorted({p.race for p in self.data.polls if "-" in p.race}):
                office, state = race.split("-", 1)
                name = {"SEN": "SENATE", "GOV": "GOV"}.get(office)
                if name is not None:
                    wanted += [f"KX{name}{state}", f"{name}{state}"]
        return list(dict.fromkeys(wanted))

    async def _read_result(self, rest: Any, race: str, series: str, errors: list[str]) -> None:
        """A race whose markets are no longer open: once they are determined, it is called (for the chamber)."""
        try:
            for status in ("closed", "settled"):
                async for event in rest.iter_events(status=status, series_ticker=series, with_nested_markets=True):
                    for market in event.markets or ():
                        dem = party_of(market_desc(market, series))
                        if market.result in ("yes", "no") and dem is not None:
                            self._decided[race] = (market.result == "yes") == dem
                            return
        except Exception as exc:  # noqa: BLE001
            errors.append(describe_error(f"result of {race} (GET /events?series_ticker={series})", exc))
