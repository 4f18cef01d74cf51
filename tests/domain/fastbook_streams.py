"""Random Kalshi order-book message streams for the fast-path tests: valid traffic plus every kind of
damage a feed can carry (bad JSON, wrong types, bad decimals, unknown sids and markets, seq gaps and
duplicates, off-grid prices, deltas that would go negative, escapes, non-ASCII, repeated keys)."""

from __future__ import annotations

import json
import random
from typing import Any

from console.domain.grid import PriceGrid
from console.domain.units import PRICE_MAX, format_count, format_price

GRIDS = {
    "KXA-LIN": PriceGrid.for_structure("linear_cent"),
    "KXB-DECI": PriceGrid.for_structure("deci_cent"),
    "KXC-TAPER": PriceGrid.for_structure("tapered_deci_cent"),
    "KXD-COMBO": PriceGrid.for_structure("center_deci_edge_centi_cent"),
}
SIDS = {1: False, 2: True}  # sid -> use_yes_price
SID_MARKETS = {1: ["KXA-LIN", "KXB-DECI"], 2: ["KXC-TAPER", "KXD-COMBO"]}

BAD_DECIMALS = ["0.56x", "-0.50", "1.5", "0.56001", "", ".", "5.", " 0.5", "+0.5", "1e2", "0,5", "0.5.1",
                "١", "0.5\n", "--1", "0x10", "99999999999999999999.00", "1.001"]
GOOD_ODD_PRICES = ["0.5", ".5", "0.50000000", "00.4100", "0.41"]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class StreamMaker:
    """Builds one stream; `seq[sid]` is the next seq the exchange would use on that sid."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = {sid: 1 for sid in SIDS}
        self.ts = 1_767_225_600_000
        self.touch = {t: g.prices[len(g) // 2] for t, g in GRIDS.items()}

    def _price_on_grid(self, ticker: str) -> int:
        grid = GRIDS[ticker]
        i = grid.prices.index(self.touch[ticker]) + int(self.rng.gauss(0, 4))
        return grid.prices[max(0, min(len(grid) - 1, i))]

    def _next(self, sid: int) -> int:
        r = self.rng.random()
        seq = self.seq[sid]
        if r < 0.01:
            seq += self.rng.randint(1, 3)  # a gap
        elif r < 0.02:
            seq -= self.rng.randint(1, 2)  # a duplicate or late message
        self.seq[sid] = max(seq, 1) + 1
        return max(seq, 1)

    def snapshot(self, sid: int, ticker: str) -> dict[str, Any]:
        use_yes = SIDS[sid]
        bids = sorted({self._price_on_grid(ticker) for _ in range(self.rng.randint(0, 6))})
        asks = sorted({p for p in (self._price_on_grid(ticker) for _ in range(self.rng.randint(0, 6)))
                       if not bids or p > bids[-1]})
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": "m-" + ticker}
        if bids:
            msg["yes_dollars_fp"] = [[format_price(p), format_count(self.rng.randint(1, 5000))] for p in bids]
        if asks:
            no = [(p if use_yes else PRICE_MAX - p) for p in asks]
            msg["no_dollars_fp"] = [[format_price(p), format_count(self.rng.randint(1, 5000))] for p in sorted(no)]
        return {"type": "orderbook_snapshot", "sid": sid, "seq": self._next(sid), "msg": msg}

    def delta(self, sid: int, ticker: str) -> dict[str, Any]:
        rng = self.rng
        side = rng.choice(["yes", "no"])
        yes_price = self._price_on_grid(ticker)
        wire_price = yes_price if side == "yes" or SIDS[sid] else PRICE_MAX - yes_price
        delta = rng.choice([1, 1, 1, -1]) * rng.randint(1, 3000)
        self.ts += rng.randint(0, 5)
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": "m-" + ticker,
                               "price_dollars": format_price(wire_price), "delta_fp": format_count(delta),
                               "side": side, "ts_ms": self.ts}
        if rng.random() < 0.05:
            msg["client_order_id"] = "c-%d" % rng.randint(0, 99)
            msg["subaccount"] = rng.randint(0, 3)
        if rng.random() < 0.01:
            self.touch[ticker] = self._price_on_grid(ticker)
        return {"type": "orderbook_delta", "sid": sid, "seq": self._next(sid), "msg": msg}

    def message(self) -> bytes | str:
        rng = self.rng
        sid = rng.choice(list(SIDS))
        ticker = rng.choice(SID_MARKETS[sid])
        r = rng.random()
        if r < 0.03:
            env = self.snapshot(sid, ticker)
        elif r < 0.04:
            env = {"type": rng.choice(["ok", "subscribed", "ticker", "error"]), "sid": sid, "msg": {"x": 1}}
        else:
            env = self.delta(sid, ticker)
        raw = self.damage(env) if rng.random() < 0.25 else dumps(env)
        return raw.decode("utf-8", "surrogateescape") if rng.random() < 0.2 and _is_utf8(raw) else raw

    def damage(self, env: dict[str, Any]) -> bytes:
        """One of many ways to spoil (or merely oddly shape) a message."""
        rng = self.rng
        msg = env.get("msg") if isinstance(env.get("msg"), dict) else {}
        kind = rng.randrange(20)
        if kind == 0:  # byte-level noise
            raw = bytearray(dumps(env))
            i = rng.randrange(len(raw))
            raw[i] = ord(rng.choice('"{}[],: x\\\x01\xe90-.e'))
            return bytes(raw)
        if kind == 1:
            raw = dumps(env)
            return raw[: rng.randrange(len(raw))]
        if kind == 2 and msg:
            msg.pop(rng.choice(list(msg)))
        elif kind == 3:
            env.pop(rng.choice(list(env)))
        elif kind == 4 and msg:
            msg[rng.choice(list(msg))] = rng.choice([None, 1, 1.5, [], {}, True, "x", -3])
        elif kind == 5:  # (a valid seq far ahead would turn the rest of the stream stale: not here)
            key = rng.choice(["sid", "seq", "type", "msg"])
            env[key] = rng.choice([None, 1.0, "1", -1, 2**60, 10**30, 2**53 + 1, [], {}, True]
                                  + ([2**53] if key == "sid" else []))
        elif kind == 6 and msg:
            msg[rng.choice(["price_dollars", "delta_fp"])] = rng.choice(BAD_DECIMALS + GOOD_ODD_PRICES)
        elif kind == 7:  # off-grid price, $0, $1
            msg["price_dollars"] = rng.choice(["0.5050", "0.0000", "1.0000", "0.0001", "0.9999", "0.1234"])
        elif kind == 8:
            msg["market_ticker"] = rng.choice(["KXNOPE", "", "kxa-lin"])
        elif kind == 9:
            env["sid"] = rng.choice([3, 0, 99, 10**7])
        elif kind == 10:  # unknown fields of every JSON shape, deep nesting
            msg["extra"] = rng.choice([{"a": [1, 2.5e-3, {"b": None}]}, "é", [[[[]]]], -0.0, 1e300, "\u2603"])
            env["id"] = rng.choice([7, "x", None])
            if rng.random() < 0.2:
                deep: Any = 1
                for _ in range(rng.randint(20, 40)):
                    deep = [deep]
                env["deep"] = deep
        elif kind == 11:  # escapes that decode to the very same ticker, or to a different one
            raw = dumps(env).decode()
            raw = raw.replace('"KX', rng.choice(['"\\u004bX', '"K\\u0058', '"\\"KX', '"KX\\/']), 1)
            return raw.encode()
        elif kind == 12:  # a repeated key (msgspec keeps the last one)
            raw = dumps(env).decode()
            key = rng.choice(['"side":', '"price_dollars":', '"sid":', '"type":', '"delta_fp":'])
            dup = {'"side":': '"side":"yes",', '"price_dollars":': '"price_dollars":"0.9900",',
                   '"sid":': '"sid":2,', '"type":': '"type":"ok",', '"delta_fp":': '"delta_fp":"-1.00",'}[key]
            return raw.replace(key, dup + key, 1).encode()
        elif kind == 13:  # whitespace everywhere JSON allows it, and where it does not
            raw = dumps(env).decode()
            ws = rng.choice([" ", "\t", "\r", "\n ", "\x0b", "\xa0"])
            return (ws + raw.replace(",", ws + "," + ws).replace(":", ": ") + ws).encode()
        elif kind == 14:
            msg["ts_ms"] = rng.choice([-1, 2**53, 2**53 + 1, 10**20, 1.0, "1", None, 0])
        elif kind == 15:
            msg["side"] = rng.choice(["YES", "No", "bid", "", "yes ", None])
        elif kind == 16:  # trailing garbage, two messages glued, top level not an object
            raw = dumps(env)
            return rng.choice([raw + b"x", raw + raw, b"[" + raw + b"]", b'"text"', b"", b"  ", b"null", raw + b" "])
        elif kind == 17:  # big integers in known and unknown places
            env["seq"] = rng.choice([10**18, 10**19, 99999999999999999999, 123456789012345678])
        elif kind == 18:
            msg["delta_fp"] = rng.choice(["10000000000000.00", "10000000000000.01", "-10000000000000.00",
                                          "-0", "0", "-0.00", "0.001", "1.10"])
        else:  # non-ASCII and invalid UTF-8 in various places
            raw = dumps(env)
            return raw.replace(b'"m-', rng.choice([b'"\xc3\xa9m-', b'"\xffm-', b'"\xed\xa0\x80m-']), 1)
        return dumps(env)

    def stream(self, n: int) -> list[bytes | str]:
        out: list[bytes | str] = []
        for sid, tickers in SID_MARKETS.items():
            for ticker in tickers:
                out.append(dumps(self.snapshot(sid, ticker)))
        out.extend(self.message() for _ in range(n))
        return out


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
