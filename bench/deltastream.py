"""A generated stream of Kalshi `orderbook_delta` WebSocket messages, for bench/book.py and bench/feed.py.

Markets: 50 by default, on a mix of price grids (cent, deci-cent, tapered), split over two subscriptions:
sid 1 without `use_yes_price` (NO side in NO prices, Kalshi's default) and sid 2 with it (NO side in YES
prices). Activity is skewed: a few markets carry most messages, and within a market most changes land
within a few ticks of the touch (distance from the touch ~ geometric). Each market keeps an uncrossed
model book, so removals never exceed what rests there and the stream is one a venue could send; the
touch drifts now and then (the level in the way is traded out first). Messages are byte-for-byte in the
shape of docs/sim-websocket.md / kalshi-api.md 9.5: type, sid, seq, msg{market_ticker, market_id,
price_dollars, delta_fp, side, ts_ms} with client_order_id and subaccount on ~1% (our own orders).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field

from console.domain.grid import PriceGrid
from console.domain.units import PRICE_MAX, format_count, format_price

STRUCTURES = ["linear_cent"] * 6 + ["deci_cent"] * 2 + ["tapered_deci_cent"] * 2
SERIES = ["KXSENATE", "KXHOUSE", "KXGOVPA", "KXHIGHNY", "KXCPI", "KXFEDDECISION", "KXHIGHCHI", "KXSENATEGA",
          "KXSENATEOH", "KXGOVAZ"]


@dataclass
class Market:
    ticker: str
    market_id: str
    grid: PriceGrid
    sid: int
    use_yes_price: bool
    boundary: int  # bids rest at level indices below it, asks at or above it
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)

    def snapshot_message(self, seq: int) -> bytes:
        prices = self.grid.prices
        msg: dict = {"market_ticker": self.ticker, "market_id": self.market_id}
        if self.bids:
            msg["yes_dollars_fp"] = [[format_price(prices[i]), format_count(c)] for i, c in sorted(self.bids.items())]
        if self.asks:
            no = sorted((prices[i] if self.use_yes_price else PRICE_MAX - prices[i], c) for i, c in self.asks.items())
            msg["no_dollars_fp"] = [[format_price(p), format_count(c)] for p, c in no]
        env = {"type": "orderbook_snapshot", "sid": self.sid, "seq": seq, "msg": msg}
        return json.dumps(env, separators=(",", ":")).encode()


@dataclass
class DeltaStream:
    markets: list[Market]
    snapshots: list[bytes]  # one per market, seq 1.. on each sid, sent before the deltas
    deltas: list[bytes]
    sids: dict[int, bool]  # sid -> use_yes_price


def make_markets(n: int, rng: random.Random, use_yes_price: bool | None = None) -> list[Market]:
    """`use_yes_price` None: markets alternate between sid 1 (NO prices) and sid 2 (YES prices);
    True/False: every market on sid 1 with that flag (what one client subscription looks like)."""
    markets = []
    for k in range(n):
        structure = STRUCTURES[k % len(STRUCTURES)]
        grid = PriceGrid.for_structure(structure)
        ticker = f"{SERIES[k % len(SERIES)]}-26NOV03-{chr(65 + k // len(SERIES))}{k:02d}"
        sid = 1 if k % 2 == 0 or use_yes_price is not None else 2
        flag = sid == 2 if use_yes_price is None else use_yes_price
        mid = rng.randint(len(grid) // 5, 4 * len(grid) // 5)
        m = Market(ticker, str(uuid.UUID(int=rng.getrandbits(128))), grid, sid, flag, mid)
        for d in range(10):
            m.bids[mid - 1 - d] = 100 * rng.randint(1, 200)
            m.asks[mid + d] = 100 * rng.randint(1, 200)
        markets.append(m)
    return markets


def _size(rng: random.Random) -> int:
    contracts = min(int(rng.expovariate(1 / 25)) + 1, 5000)
    return contracts * 100 + (rng.choice((25, 50, 75)) if rng.random() < 0.1 else 0)


def generate(n_messages: int = 1_000_000, n_markets: int = 50, seed: int = 2026,
             use_yes_price: bool | None = None) -> DeltaStream:
    rng = random.Random(seed)
    markets = make_markets(n_markets, rng, use_yes_price)
    sids = {1: False, 2: True} if use_yes_price is None else {1: use_yes_price}
    seq = {1: 0, 2: 0}
    snapshots = []
    for m in markets:
        seq[m.sid] += 1
        snapshots.append(m.snapshot_message(seq[m.sid]))
    weights = [1 / (k + 1) ** 0.8 for k in range(n_markets)]  # a few busy markets, a long quiet tail
    # picks from their own generator: a shorter stream is then an exact prefix of a longer one
    picks = random.Random(seed + 1).choices(range(n_markets), weights, k=n_messages)
    ts = 1_767_225_600_000
    head = b'{"type":"orderbook_delta","sid":%d,"seq":%d,"msg":{"market_ticker":"%s","market_id":"%s",'
    body = b'"price_dollars":"%s","delta_fp":"%s","side":"%s","ts_ms":%d%s}}'
    deltas: list[bytes] = []
    append = deltas.append
    random_ = rng.random
    expo = rng.expovariate
    for k in picks:
        m = markets[k]
        n_levels = len(m.grid)
        edge = -1
        if random_() < 0.002:  # the touch drifts one level; the level now on the wrong side trades out
            if random_() < 0.5 and m.boundary < n_levels - 2:
                is_bid, edge = False, m.boundary
                m.boundary += 1
            elif m.boundary > 2:
                is_bid, edge = True, m.boundary - 1
                m.boundary -= 1
        levels_at_edge = (m.bids if edge >= 0 and is_bid else m.asks)
        if edge >= 0 and edge in levels_at_edge:
            i, delta = edge, -levels_at_edge[edge]
        else:
            is_bid = random_() < 0.5
            d = min(int(expo(0.6)), 40)  # ticks away from the touch
            i = max(m.boundary - 1 - d, 0) if is_bid else min(m.boundary + d, n_levels - 1)
            have = (m.bids if is_bid else m.asks).get(i, 0)
            if have and random_() < 0.47:
                delta = -have if random_() < 0.5 else -rng.randint(1, have)
            else:
                delta = _size(rng)
        levels = m.bids if is_bid else m.asks
        now = levels.get(i, 0) + delta
        if now:
            levels[i] = now
        else:
            levels.pop(i, None)
        price = m.grid.prices[i]
        if not is_bid and not m.use_yes_price:
            price = PRICE_MAX - price
        ts += 1 if random_() < 0.3 else 0
        seq[m.sid] += 1
        own = b""
        if random_() < 0.01:
            own = b',"client_order_id":"%s","subaccount":%d' % (str(uuid.UUID(int=rng.getrandbits(128))).encode(),
                                                                 rng.randint(0, 2))
        append(head % (m.sid, seq[m.sid], m.ticker.encode(), m.market_id.encode())
               + body % (format_price(price).encode(), format_count(delta).encode(),
                         b"yes" if is_bid else b"no", ts, own))
    return DeltaStream(markets, snapshots, deltas, sids)
