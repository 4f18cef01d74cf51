"""The engine's model runner, in process: published data + public market listings -> `FairValues`.

It does what `console.engine.modelrun.ModelRunner` does each round with the built-in exchange, with
the HTTP reads replaced by `published.read_published` (the same JSON, parsed by the same adapters):
the open markets as their listing describes them, polls + generic ballot, approval, each city's
forecast highs (a day's last forecast is kept after the source stops listing it, as the runner
does) and reported highs, the CPI consensus; then the same pure function,
`console.engine.fair_map.compute_fair_values`, with the runner's `[models]` election settings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from console.config import DeskConfig
from console.engine.fair import FairValues
from console.engine.fair_map import (
    CityForecast,
    CpiInput,
    MarketDesc,
    ModelInputs,
    compute_fair_values,
)
from console.engine.modelrun import ModelRunner
from console.evaluate.published import Published, read_published
from console.models.sources.nws import DailyHigh
from console.sim.model import MarketStatus

SOURCE = "sim data feed (in process)"


def market_descs(exchange: Any) -> tuple[MarketDesc, ...]:
    """The open markets as a listing describes them (public fields only, as modelrun.market_desc)."""
    return tuple(MarketDesc(mk.ticker, mk.event_ticker, mk.series_ticker, mk.title or "", mk.yes_sub_title or "",
                            mk.strike_type, mk.floor_strike, mk.cap_strike, mk.expected_expiration_time_ms)
                 for mk in exchange.markets.values() if mk.status is MarketStatus.ACTIVE)


class InProcessModels:
    """One model runner per world (it remembers forecasts between rounds, like the engine's)."""

    def __init__(self, config: DeskConfig) -> None:
        # the runner's own election settings from [models]; it is built only to read them (no I/O here)
        self.settings = ModelRunner(config.models, "sim", "http://127.0.0.1", rest=lambda: None,
                                    post=lambda _msg: None).settings
        self.highs: dict[tuple[str, dt.date], DailyHigh] = {}

    def refresh(self, world: Any, now_ms: int) -> FairValues:
        data = read_published(world)
        out = compute_fair_values(ModelInputs(market_descs(world.exchange), tuple(data.polls), tuple(data.approval),
                                              self._cities(data), self._cpi(data), self.settings), now_ms)
        return FairValues(out.values, now_ms, out.election, SOURCE, out.errors)

    def _cities(self, data: Published) -> tuple[CityForecast, ...]:
        out = []
        for city in data.cities:
            for h in data.forecasts.get(city.series_ticker, ()):
                key = (city.series_ticker, h.day)
                old = self.highs.get(key)
                if old is None or h.issued >= old.issued:
                    self.highs[key] = h
            highs = tuple(h for (series, _), h in sorted(self.highs.items()) if series == city.series_ticker)
            out.append(CityForecast(city.series_ticker, city.name, city.tz, highs,
                                    data.observed.get(city.series_ticker, {})))
        return tuple(out)

    @staticmethod
    def _cpi(data: Published) -> CpiInput | None:
        cpi = data.cpi
        if cpi is None:
            return None
        consensus = cpi.mean if cpi.mean is not None else cpi.median
        return CpiInput(int(cpi.release_time.timestamp() * 1000), consensus, cpi.actual, cpi.event_ticker)
