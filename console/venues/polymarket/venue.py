"""Which Polymarket the desk reads: the simulator's built-in mirror (default) or the real venue.

- sim (default): the mirror's root `url` (default http://127.0.0.1:8766) for the CLOB, `<url>/gamma` for
  Gamma, `ws://<host>/ws/market`; price_change hashes are checked (the mirror's follow the book recipe);
- prod: https://clob.polymarket.com, https://gamma-api.polymarket.com,
  wss://ws-subscriptions-clob.polymarket.com/ws/market; only book hashes are checked.

`edgedesk sim` prints the mirror's URL on its second line (`edgedesk sim polymarket on URL`); pass it
as `url`. Reads need no key. `token_meta(market)` gives what the book hash needs per token from Gamma
(nothing when Gamma does not say the minimum size: those hashes then go unchecked, never guessed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from console.venues.polymarket.codec import GammaMarket
from console.venues.polymarket.events import TokenMeta
from console.venues.polymarket.rest import PolymarketRest, RetryPolicy
from console.venues.polymarket.ws import PolymarketWs, Sink

SIM_DEFAULT_URL = "http://127.0.0.1:8766"
PROD = ("https://clob.polymarket.com", "https://gamma-api.polymarket.com",
        "wss://ws-subscriptions-clob.polymarket.com/ws/market")


class PolymarketConfigError(ValueError):
    """The Polymarket venue could not be set up; the message says what to fix."""


@dataclass(frozen=True)
class PolymarketVenue:
    name: str  # sim | prod
    clob_url: str
    gamma_url: str
    ws_url: str
    check_change_hashes: bool
    timeout_s: float = 5.0

    def rest(self, *, policy: RetryPolicy | None = None, **kwargs: Any) -> PolymarketRest:
        return PolymarketRest(self.clob_url, self.gamma_url, timeout_s=self.timeout_s, policy=policy, **kwargs)

    def ws(self, sink: Sink, **kwargs: Any) -> PolymarketWs:
        kwargs.setdefault("check_change_hashes", self.check_change_hashes)
        return PolymarketWs(self.ws_url, sink, **kwargs)


def _ws_for(root: str) -> str:
    parts = urlsplit(root)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/ws/market", "", ""))


def resolve_polymarket(name: str = "sim", *, url: str | None = None, timeout_s: float = 5.0) -> PolymarketVenue:
    """The built-in mirror at `url` (its root; default SIM_DEFAULT_URL), or the real venue ("prod")."""
    if name == "sim":
        root = (url or SIM_DEFAULT_URL).rstrip("/")
        if urlsplit(root).scheme not in ("http", "https"):
            raise PolymarketConfigError(f"{root!r} is not an http(s) URL; pass the mirror's URL as printed by "
                                        "`edgedesk sim` (edgedesk sim polymarket on http://127.0.0.1:PORT)")
        return PolymarketVenue("sim", root, f"{root}/gamma", _ws_for(root), True, timeout_s)
    if name == "prod":
        clob, gamma, ws = PROD
        return PolymarketVenue("prod", clob, gamma, ws, False, timeout_s)
    raise PolymarketConfigError(f"unknown Polymarket venue {name!r}: use 'sim' (the built-in mirror) or 'prod'")


def token_meta(market: GammaMarket) -> dict[str, TokenMeta]:
    """Per token of a Gamma market: the min order size string and neg-risk flag its book hash covers."""
    tokens = market.token_ids or ()
    if market.min_order_size is None:
        return {}  # unknown: those books' hashes go unchecked rather than checked against a guess
    whole, frac = divmod(int(market.min_order_size), 100)
    size = str(whole) if not frac else f"{whole}.{frac:02d}".rstrip("0")
    return {token: TokenMeta(size, market.neg_risk) for token in tokens}
