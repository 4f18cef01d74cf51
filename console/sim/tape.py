"""`MarketTape`: one market's trade history and top-of-book samples, and the candles built from them.

The exchange records every trade (time, YES price, count, open interest after it) and a sample of
the best YES bid and ask whenever either price changes. Candles are computed on request:

- `price`: open / low / high / close / min / max of the trades in the period (min = low, max = high),
  `mean` volume-weighted (an int when it is a whole pip, else a `Fraction` of pips), `previous` the
  last trade price before the period; all None when the period had no trade (`previous` may still
  be set).
- `yes_bid` / `yes_ask`: the quote in force at the period start, the lows and highs of every quote
  during it, and the quote at its end; None when that side was empty the whole period.
- `volume`: count traded in the period; `open_interest`: after the last trade at or before its end.

A period with `end_period_ts = e` covers (e - period, e] in seconds: a trade exactly on a boundary
belongs to the period that ends there (Kalshi's end is inclusive).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from fractions import Fraction

from console.sim.model import Candle

DAY_MS = 86_400_000
MAX_CANDLES = 10_000  # Kalshi's cap per request


class MarketTape:
    """Trades and quote samples of one market, append-only, in time order."""

    __slots__ = (
        "_recent",
        "quote_ask",
        "quote_bid",
        "quote_ts",
        "trade_count",
        "trade_oi",
        "trade_price",
        "trade_ts",
        "volume_24h",
    )

    def __init__(self) -> None:
        self.trade_ts: list[int] = []
        self.trade_price: list[int] = []
        self.trade_count: list[int] = []
        self.trade_oi: list[int] = []
        self.quote_ts: list[int] = []
        self.quote_bid: list[int | None] = []
        self.quote_ask: list[int | None] = []
        self._recent: deque[tuple[int, int]] = deque()  # (ts_ms, count) of the last 24 hours
        self.volume_24h = 0

    def record_trade(self, ts_ms: int, yes_price: int, count: int, open_interest: int) -> None:
        self.trade_ts.append(ts_ms)
        self.trade_price.append(yes_price)
        self.trade_count.append(count)
        self.trade_oi.append(open_interest)
        self._recent.append((ts_ms, count))
        self.volume_24h += count
        self.expire_volume(ts_ms)

    def fix_last_open_interest(self, open_interest: int) -> None:
        """The open interest after the last trade, once both sides of it are booked."""
        self.trade_oi[-1] = open_interest

    def record_quote(self, ts_ms: int, best_bid: int | None, best_ask: int | None) -> None:
        if self.quote_ts and self.quote_bid[-1] == best_bid and self.quote_ask[-1] == best_ask:
            return
        self.quote_ts.append(ts_ms)
        self.quote_bid.append(best_bid)
        self.quote_ask.append(best_ask)

    def expire_volume(self, now_ms: int) -> int:
        """Drop trades older than 24 hours from the rolling volume; returns it."""
        recent = self._recent
        while recent and recent[0][0] <= now_ms - DAY_MS:
            self.volume_24h -= recent.popleft()[1]
        return self.volume_24h

    # --- candles ------------------------------------------------------------------------------

    def candles(self, first_end_s: int, last_end_s: int, period_s: int) -> list[Candle]:
        """Candles for every period whose end is a multiple of `period_s` in [first_end_s, last_end_s]."""
        if period_s <= 0:
            raise ValueError("period must be positive")
        e = -(-first_end_s // period_s) * period_s
        out: list[Candle] = []
        while e <= last_end_s:
            out.append(self._candle(e, period_s))
            e += period_s
        return out

    def _candle(self, end_s: int, period_s: int) -> Candle:
        lo_ms, hi_ms = (end_s - period_s) * 1000, end_s * 1000
        i = bisect_right(self.trade_ts, lo_ms)
        j = bisect_right(self.trade_ts, hi_ms)
        previous = self.trade_price[i - 1] if i > 0 else None
        price: dict[str, object] = {"previous": previous}
        volume = 0
        if j > i:
            prices = self.trade_price[i:j]
            counts = self.trade_count[i:j]
            volume = sum(counts)
            low, high = min(prices), max(prices)
            mean = Fraction(sum(p * c for p, c in zip(prices, counts, strict=True)), volume)
            price.update(open=prices[0], low=low, high=high, close=prices[-1], min=low, max=high,
                         mean=int(mean) if mean.denominator == 1 else mean)
        else:
            price.update(open=None, low=None, high=None, close=None, min=None, max=None, mean=None)
        open_interest = self.trade_oi[j - 1] if j > 0 else 0
        return Candle(
            end_period_ts=end_s,
            yes_bid=self._quote_ohlc(self.quote_bid, lo_ms, hi_ms),
            yes_ask=self._quote_ohlc(self.quote_ask, lo_ms, hi_ms),
            price=price,
            volume=volume,
            open_interest=open_interest,
        )

    def _quote_ohlc(self, series: list[int | None], lo_ms: int, hi_ms: int) -> tuple[int, int, int, int] | None:
        start = bisect_right(self.quote_ts, lo_ms)  # samples after the period start
        stop = bisect_right(self.quote_ts, hi_ms)
        values = ([series[start - 1]] if start > 0 else []) + series[start:stop]
        present = [v for v in values if v is not None]
        if not present:
            return None
        close = series[stop - 1] if stop > 0 else None
        return (present[0], min(present), max(present), close if close is not None else present[-1])
