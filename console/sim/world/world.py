"""`World`: the living market world, stepped on simulated time.

Each step (default 250 simulated ms) the world
1. applies time on the exchange (`tick`),
2. runs every truth tick (one per simulated minute) that is due: creates the weather days entering
   the forecast horizon, advances every hidden process, fields and publishes polls, moves the crowd,
   and reprices every open market (truth, crowd, and the informed traders' lagged truth),
3. runs the calendar: forecast issuances, CPI consensus updates, weather listings, the debate-night
   burst, determinations (exchange.determine_market) and, should the exchange not have done it when
   the settlement timer ran out, exchange.settle_market,
4. lets the agents act on a Poisson-sized random sample of the tradeable markets, weighted by kind,
   uncertainty (4p(1-p)) and bursts after releases.

`run()` does this in real time (sleeping step / speed between steps); `step_until()` does it without
sleeping, jumping the clock (tests, backtests). Every draw comes from generators seeded by
(seed, component), and everything is iterated in insertion order, so a seed and no client activity
give one trade tape.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import logging
import math
import random
from dataclasses import dataclass
from typing import Any

from console.sim.events import BookSide, TradePrinted
from console.sim.model import ExchangeError, MarketStatus
from console.sim.world.agents import Agents, Quote
from console.sim.world.crowd import Crowd
from console.sim.world.feed import NWS_HOURS, DataFeed, Release, poisson
from console.sim.world.scalars import WeatherTruth, make_cpi_truth
from console.sim.world.simtime import (
    DAY_MS,
    ET,
    HOUR_MS,
    MINUTE_MS,
    WorldCalendar,
    local_date,
    local_ms,
)
from console.sim.world.truth import ElectionTruth
from console.sim.world.universe import (
    CITIES,
    GOVERNOR_RACES,
    HOUSE,
    SENATE,
    MarketSpec,
    list_cpi,
    list_elections,
    list_weather_day,
    weather_day_of,
    weather_listing_ms,
    weather_peak_ms,
    weather_report_ms,
)

log = logging.getLogger(__name__)

KIND_WEIGHT = {"senate": 1.5, "house": 1.5, "race": 1.0, "weather": 0.8, "cpi": 0.8}
KIND_TOUCH = {"senate": 400, "house": 400, "race": 150, "weather": 60, "cpi": 80}  # contracts at the touch


@dataclass(frozen=True)
class WorldParams:
    step_ms: int = 250
    truth_tick_ms: int = 60_000
    control_every_ms: int = 300_000  # control repricing cadence outside election night
    mm_rate: float = 0.8  # maker requotes per second per unit of market weight (at the 250 ms step)
    noise_rate: float = 0.04
    informed_rate: float = 0.01
    informed_lag_min: float = 10.0
    flow_impact: float = 0.02  # crowd log-odds moved per touch-size of net taker flow
    flow_decay_min: float = 20.0  # how fast that impact fades
    burst_factor: float = 4.0
    burst_ms: int = 10 * MINUTE_MS
    debate_burst_ms: int = 2 * HOUR_MS
    close_guard_ms: int = 5_000  # agents stop this long before a market's close
    determine_delay_ms: int = 10 * MINUTE_MS
    max_catch_up_steps: int = 40  # further behind than this (a clock jump): skip the agents


def default_step_ms(speed: float) -> int:
    """250 ms up to speed 4; beyond, steps grow so that about four happen per real second."""
    return 250 if speed <= 4 else min(60_000, int(250 * speed / 4) // 250 * 250 or 250)


class World:
    """The default world on an exchange (see the module docstring)."""

    def __init__(self, exchange, clock, seed: int, reveal_truth: bool = False, *, step_ms: int | None = None,
                 params: WorldParams | None = None) -> None:
        self.exchange, self.clock, self.seed, self.reveal_truth = exchange, clock, seed, reveal_truth
        self.params = p = params or WorldParams()
        self.step_ms = step_ms or default_step_ms(clock.speed)
        self.activity = min(1.0, p.step_ms / self.step_ms)
        self.start_ms = t0 = clock.now_ms()
        self.cal = cal = WorldCalendar.starting_at(t0)
        self._rng = {name: random.Random(f"edgedesk-world:{seed}:{name}")
                     for name in ("election", "weather", "cpi", "data", "crowd", "agents", "world")}
        self.election = ElectionTruth(SENATE, GOVERNOR_RACES, HOUSE, cal, self._rng["election"])
        self.weather = WeatherTruth(CITIES, self._rng["weather"])
        self.weather.ensure_days(t0)
        self.cpi = make_cpi_truth(cal, self._rng["cpi"])
        self.feed = DataFeed(cal, self.election, self.weather, self.cpi, self._rng["data"])
        for city in CITIES:
            self.feed.issue_forecast(city, t0)
        self.feed.update_cpi(t0)
        self.crowd = Crowd(self.election, self.weather, self.cpi, self.feed, self._rng["crowd"])
        self.agents = Agents(exchange, self._rng["agents"])
        self._cities = {c.code: c for c in CITIES}
        self.specs: dict[str, MarketSpec] = {}
        self.by_key: dict[str, list[str]] = {}
        self.truth_p: dict[str, float] = {}
        self.crowd_p: dict[str, float] = {}
        self.informed_p: dict[str, float] = {}
        self.determined: dict[str, str] = {}  # ticker -> result
        self.realized_highs: dict[tuple[str, dt.date], int] = {}
        self._closing: set[str] = set()
        self._burst_until: dict[str, int] = {}
        self._schedule: list[tuple[int, int, str, Any]] = []
        self._seq = 0
        self._truth_t = t0
        self._control_t = -1
        self._control = (0.5, 0.5, 0.5, 0.5)  # truth senate, truth house, crowd senate, crowd house
        self._flow: dict[str, int] = {}  # net taker count (YES buys minus NO buys) since the last tick
        self._flow_offset: dict[str, float] = {}  # the crowd's log-odds shift from recent flow
        exchange.add_listener(self._on_exchange_event)
        self._tradeable: list[str] = []
        self._cum_weights: list[float] = []
        self._next_step_ms = t0 + self.step_ms
        self.steps = 0
        self.step_hooks: list[Any] = []  # fn(t_ms) called after every step (the Polymarket mirror steps here)
        self._build(t0)

    # --- set-up -------------------------------------------------------------------------------

    def _at(self, t_ms: int, kind: str, arg: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._schedule, (t_ms, self._seq, kind, arg))

    def _add_specs(self, specs: list[MarketSpec]) -> None:
        for spec in specs:
            self.specs[spec.ticker] = spec
            group = spec.key.split(":")[0] if spec.kind == "weather" else spec.key
            self.by_key.setdefault(group, []).append(spec.ticker)

    def _build(self, t0: int) -> None:
        ex, cal, e = self.exchange, self.cal, self.election
        self._add_specs(list_elections(ex, cal, t0))
        self._add_specs(list_cpi(ex, cal, t0))
        for city in CITIES:
            today = local_date(t0, city.tz)
            # today's event unless its high is already in; tomorrow's once it has been listed (10:00 local)
            day = today if t0 < weather_peak_ms(city, today) else today + dt.timedelta(days=1)
            while weather_listing_ms(city, day) <= t0:
                self._list_weather(city, day, t0)
                day += dt.timedelta(days=1)
            self._at(weather_listing_ms(city, day), "list", (city.code, day))
            for hour in NWS_HOURS:  # the next issuance of each of the four daily runs
                t = local_ms(today, hour, city.tz)
                self._at(t if t > t0 else t + DAY_MS, "nws", city.code)
        day = local_date(t0, ET)
        for i in range(8):
            t = local_ms(day + dt.timedelta(days=i), 9.0, ET)
            if t0 < t < cal.cpi_release_ms:
                self._at(t, "cpi_update")
        self._at(cal.cpi_release_ms + 2 * MINUTE_MS, "cpi_update")
        self._at(cal.cpi_release_ms + 5 * MINUTE_MS, "determine_cpi")
        self._at(cal.debate_ms, "debate")
        for key in e.race_specs:
            self._at(e.race_done_ms(key), "close_race", key)
        self._at(e.senate_done_ms(), "close_race", "senate")
        self._at(e.house_done_ms(), "close_race", "house")
        ex.tick()  # open what is due, so the makers can quote at once
        self._reprice(t0, 0, force_control=True)
        for ticker in self._tradeable:  # every maker quotes every market at once, so books start two-sided
            for mm in self.agents.mms:
                self.agents.requote(mm, self._quote(ticker, t0))

    def _list_weather(self, city, day: dt.date, t_ms: int) -> None:
        published = self.feed.forecast_high(city.code, day)
        center = published[0] if published else round(city.normal_high(day))
        specs = list_weather_day(self.exchange, city, day, center, weather_listing_ms(city, day), t_ms)
        self._add_specs(specs)
        self._at(weather_report_ms(city, day), "determine_weather", (city.code, day))

    # --- pricing ------------------------------------------------------------------------------

    def _on_exchange_event(self, event: Any) -> None:
        """Watch the public tape: net taker flow nudges the crowd (so informed flow moves prices)."""
        if isinstance(event, TradePrinted) and event.ticker in self.specs:
            signed = event.count if event.taker_side is BookSide.BID else -event.count
            self._flow[event.ticker] = self._flow.get(event.ticker, 0) + signed

    def _flow_adjusted(self, ticker: str, crowd: float, dt_ms: int) -> float:
        p = self.params
        offset = self._flow_offset.get(ticker, 0.0)
        if dt_ms:
            offset *= math.exp(-dt_ms / (p.flow_decay_min * MINUTE_MS))
        flow = self._flow.pop(ticker, 0)
        if flow:
            offset += p.flow_impact * flow / (self._touch(ticker) * 100)
        offset = max(-1.5, min(1.5, offset))
        self._flow_offset[ticker] = offset
        if not offset:
            return crowd
        c = min(1 - 1e-6, max(1e-6, crowd))
        return 1.0 / (1.0 + math.exp(-(math.log(c / (1 - c)) + offset)))

    def _open_specs(self) -> list[MarketSpec]:
        return [s for s in self.specs.values() if s.ticker not in self.determined]

    def _reprice(self, t_ms: int, dt_ms: int, force_control: bool = False) -> None:
        e, p = self.election, self.params
        night = e.cal.election_ms(e.params.first_close_h) - HOUR_MS <= t_ms <= e.house_done_ms() + HOUR_MS
        if force_control or night or t_ms - self._control_t >= p.control_every_ms:
            self._control_t = t_ms
            self._control = (e.senate_prob_d(t_ms), e.house_prob_d(t_ms),
                             e.senate_prob_d(t_ms, self.crowd.senate_shifts(t_ms)),
                             e.house_prob_d(t_ms, self.crowd.house_shift(t_ms)))
        ts, th, cs, ch = self._control
        alpha = 1.0 - math.exp(-dt_ms / (p.informed_lag_min * MINUTE_MS))  # a new market starts at the truth
        tradeable, weights = [], []
        for spec in self._open_specs():
            truth = self._truth_prob(spec, t_ms, ts, th)
            self.truth_p[spec.ticker] = truth
            crowd = self._flow_adjusted(spec.ticker, self.crowd.prob(spec, t_ms, cs, ch), dt_ms)
            self.crowd_p[spec.ticker] = crowd
            prev = self.informed_p.get(spec.ticker, truth)
            self.informed_p[spec.ticker] = prev + alpha * (truth - prev)
            market = self.exchange.markets[spec.ticker]
            if (spec.ticker in self._closing or market.status is not MarketStatus.ACTIVE
                    or t_ms >= market.close_time_ms - p.close_guard_ms):
                continue
            w = KIND_WEIGHT[spec.kind] * (0.7 if spec.key.startswith("GOV") else 1.0)
            w *= min(1.0, max(0.1, 4.0 * crowd * (1.0 - crowd)))
            if self._burst_until.get(spec.ticker, 0) > t_ms:
                w *= p.burst_factor
            tradeable.append(spec.ticker)
            weights.append(w)
        self._tradeable = tradeable
        total, cum = 0.0, []
        for w in weights:
            total += w
            cum.append(total)
        self._cum_weights = cum

    def _truth_prob(self, spec: MarketSpec, t_ms: int, senate_d: float, house_d: float) -> float:
        if spec.kind == "race":
            p_d = self.election.race_prob_d(spec.key, t_ms)
        elif spec.kind in ("senate", "house"):
            p_d = senate_d if spec.kind == "senate" else house_d
        elif spec.kind == "weather":
            return self.weather.days[weather_day_of(spec.key)].bucket_prob(spec.lo, spec.hi, t_ms)
        else:
            return self.cpi.bucket_prob(spec.lo, spec.hi, t_ms)
        return p_d if spec.party == "D" else 1.0 - p_d

    def _touch(self, ticker: str) -> int:
        spec = self.specs[ticker]
        return KIND_TOUCH[spec.kind] * (2 if spec.key.startswith("GOV") else 3) // 3

    def _quote(self, ticker: str, t_ms: int) -> Quote:
        return Quote(self.exchange.markets[ticker], self.crowd_p[ticker], self.informed_p[ticker],
                     self._touch(ticker), self._burst_until.get(ticker, 0) > t_ms)

    # --- time ---------------------------------------------------------------------------------

    def _truth_tick(self, t_ms: int) -> None:
        dt_ms = t_ms - self._truth_t
        self._truth_t = t_ms
        self.weather.ensure_days(t_ms)
        self.election.advance(t_ms)
        self.weather.advance(t_ms)
        self.cpi.latent.advance(self._rng["cpi"], t_ms)
        for release in self.feed.tick(t_ms, dt_ms):
            self._on_release(release, t_ms)
        self.crowd.update(t_ms, dt_ms)
        self._reprice(t_ms, dt_ms)

    def _on_release(self, release: Release, t_ms: int) -> None:
        self.crowd.react(release)
        if release.kind == "poll":
            keys = [release.key] if release.key in self.by_key else ["senate", "house"]
            if release.key.startswith("SEN"):
                keys.append("senate")
        else:
            keys = [release.key]
        self._burst(keys, t_ms + self.params.burst_ms)

    def _burst(self, keys: list[str], until_ms: int) -> None:
        for key in keys:
            for ticker in self.by_key.get(key, ()):
                if ticker not in self.determined:
                    self._burst_until[ticker] = max(self._burst_until.get(ticker, 0), until_ms)

    def _run_schedule(self, t_ms: int) -> None:
        while self._schedule and self._schedule[0][0] <= t_ms:
            when, _, kind, arg = heapq.heappop(self._schedule)
            try:
                self._scheduled(when, kind, arg)
            except ExchangeError:
                log.exception("world: %s %s refused by the exchange", kind, arg)

    def _scheduled(self, when: int, kind: str, arg: Any) -> None:
        city_by_code = self._cities
        if kind == "list":
            code, day = arg
            city = city_by_code[code]
            self._list_weather(city, day, when)
            self._at(weather_listing_ms(city, day + dt.timedelta(days=1)), "list", (code, day + dt.timedelta(days=1)))
            self.exchange.tick()
            self._reprice(self._truth_t, 0)
            for ticker in self.by_key[code][-6:]:
                for mm in self.agents.mms:
                    if ticker in self._tradeable:
                        self.agents.requote(mm, self._quote(ticker, when))
        elif kind == "nws":
            self._on_release(self.feed.issue_forecast(city_by_code[arg], when), when)
            self._at(when + DAY_MS, "nws", arg)
        elif kind == "cpi_update":
            self._on_release(self.feed.update_cpi(when), when)
        elif kind == "debate":
            self._burst(["SEN-NC", "senate"], when + self.params.debate_burst_ms)
        elif kind == "close_race":
            self._closing.update(self.by_key.get(arg, ()))
            self._at(when + self.params.determine_delay_ms, "determine_race", arg)
        elif kind == "determine_race":
            e = self.election
            if arg == "senate":
                winner = "D" if e.senate_seats_d() >= e.senate.d_needs else "R"
            elif arg == "house":
                winner = "D" if e.house_seats_d() >= e.house.d_needs else "R"
            else:
                winner = e.race_winner(arg)
            for ticker in self.by_key.get(arg, ()):
                self._determine(ticker, "yes" if self.specs[ticker].party == winner else "no", when)
        elif kind == "determine_weather":
            code, day = arg
            truth = self.weather.days[(code, day)]
            high = truth.reported()
            self.realized_highs[(code, day)] = high
            event = f"{city_by_code[code].series}-"
            for ticker in list(self.by_key.get(code, ())):
                spec = self.specs[ticker]
                if spec.key == f"{code}:{day.isoformat()}" and ticker.startswith(event):
                    inside = (spec.lo is None or high >= spec.lo) and (spec.hi is None or high <= spec.hi)
                    self._determine(ticker, "yes" if inside else "no", when)
            self.weather.drop(code, day)
            self.crowd.forget_day(code, day)
            self.feed.forget_day(code, day)
        elif kind == "determine_cpi":
            value = self.cpi.reported()
            for ticker in self.by_key.get("cpi", ()):
                spec = self.specs[ticker]
                inside = (spec.lo is None or value >= spec.lo) and (spec.hi is None or value <= spec.hi)
                self._determine(ticker, "yes" if inside else "no", when)
        elif kind == "settle":
            if self.exchange.markets[arg].status is MarketStatus.DETERMINED:
                self.exchange.settle_market(arg)

    def _determine(self, ticker: str, result: str, when: int) -> None:
        market = self.exchange.markets[ticker]
        self.determined[ticker] = result
        self._closing.discard(ticker)
        self._burst_until.pop(ticker, None)
        self.agents.forget(ticker)
        if market.status in (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE,
                             MarketStatus.CLOSED):
            self.exchange.determine_market(ticker, result)
            self._at(when + market.settlement_timer_seconds * 1000 + 5_000, "settle", ticker)

    def _act(self, t_ms: int) -> None:
        if not self._tradeable:
            return
        p, rng, agents = self.params, self._rng["world"], self.agents
        seconds = self.step_ms / 1000 * self.activity
        total = self._cum_weights[-1]
        for rate, who in ((p.mm_rate, "mm"), (p.noise_rate, "noise"), (p.informed_rate, "informed")):
            k = poisson(rng, total * rate * seconds)
            if not k:
                continue
            for ticker in rng.choices(self._tradeable, cum_weights=self._cum_weights, k=k):
                market = self.exchange.markets[ticker]
                if (market.status is not MarketStatus.ACTIVE or ticker in self._closing
                        or t_ms >= market.close_time_ms - p.close_guard_ms):
                    continue
                quote = self._quote(ticker, t_ms)
                if who == "mm":
                    agents.requote(agents.mms[rng.randrange(len(agents.mms))], quote)
                elif who == "noise":
                    agents.noise_trade(quote)
                else:
                    agents.informed_trade(quote)

    def _step(self, t_ms: int, act: bool = True) -> None:
        self.exchange.tick()
        tick = self.params.truth_tick_ms
        while self._truth_t + tick <= t_ms:
            self._truth_tick(self._truth_t + tick)
        self._run_schedule(t_ms)
        if act:
            self._act(t_ms)
        self.steps += 1
        for hook in self.step_hooks:
            hook(t_ms)

    def step_until(self, sim_ms: int) -> None:
        """Run every step up to `sim_ms` at once, jumping the clock instead of sleeping (tests, backtests)."""
        while self._next_step_ms <= sim_ms:
            t = self._next_step_ms
            now = self.clock.now_ms()
            if now < t:
                self.clock.advance(t - now)
            self._step(t)
            self._next_step_ms += self.step_ms

    async def run(self) -> None:
        """Step in real time until cancelled (the server runs this as a task)."""
        failures = 0
        while True:
            now = self.clock.now_ms()
            if now < self._next_step_ms:
                await asyncio.sleep(max(0.001, self.clock.real_seconds(self._next_step_ms - now)))
                continue
            behind = (now - self._next_step_ms) // self.step_ms
            if behind > self.params.max_catch_up_steps:
                # the clock jumped (admin) or the loop stalled: one quiet step at the latest boundary runs
                # every truth tick and calendar item in between; the agents resume from there
                self._next_step_ms += behind * self.step_ms
                act = False
            else:
                act = True
            try:
                self._step(self._next_step_ms, act=act)
                failures = 0
            except Exception:
                failures += 1
                if failures == 1 or failures % 100 == 0:
                    log.exception("world step failed (%d in a row); the world keeps running", failures)
            self._next_step_ms += self.step_ms
            if behind > 0:
                await asyncio.sleep(0)  # catching up: let the server answer requests in between

    # --- views --------------------------------------------------------------------------------

    def truth_snapshot(self) -> dict[str, Any]:
        """True probability of every undetermined market (only served when reveal_truth is on)."""
        return {"as_of_ms": self._truth_t,
                "markets": {t: round(self.truth_p[t], 6) for t in self.specs if t not in self.determined}}

    def open_market_count(self) -> int:
        return sum(1 for t in self.specs if self.exchange.markets[t].status is MarketStatus.ACTIVE)
