"""The Polymarket feed for the arb table: the paired tokens' books, streamed into the kernel's inbox.

Runs as a task on the io thread's asyncio loop (`PolyFeed.start(loop)`), beside the Kalshi clients:

1. Gamma: look up the registry's tokens (`clob_token_ids`, 100 a request) for what the rows and the
   operator's instructions need (the other outcome, taker fee rate, end date, tick) and what the book
   hash covers (`TokenMeta`). Posted as `TokensLoaded` before any book, so the kernel has the books'
   grids first. An unreachable venue is reported once (`FeedNote`) and retried every `retry_s`.
2. The market channel (`console.venues.polymarket.ws.PolymarketWs`): the tokens are subscribed; its
   `BookSnapshot` / `BookLevelSet` events (venue "polymarket") go straight to the kernel inbox, which
   routes them into the BookManager like Kalshi's. Connection state, hash mismatches and stale books go
   as `WorkDone(TAG, event)` for `ArbDesk.on_news` (see console/engine/arbs.py for why). The client
   reconnects by itself (jittered backoff) and resubscribes every token with fresh books.

Nothing here decides anything, and nothing here trades: the desk only reads Polymarket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from console.config import DeskConfig
from console.domain.pairs import PairRegistryError, load_pairs
from console.engine.arbs import (
    TAG,
    ArbRegistry,
    FeedNote,
    TokenInfo,
    TokensLoaded,
    attach_arbs,
)
from console.engine.messages import Note, WorkDone
from console.venues.errors import VenueError
from console.venues.events import BookLevelSet, BookSnapshot
from console.venues.kalshi.ws_events import (
    FeedConnected,
    FeedDecodeError,
    FeedDisconnected,
)
from console.venues.polymarket.codec import GammaMarket
from console.venues.polymarket.events import BookHashMismatch, StaleBook
from console.venues.polymarket.venue import (
    PolymarketConfigError,
    PolymarketVenue,
    resolve_polymarket,
    token_meta,
)

log = logging.getLogger(__name__)

GAMMA_BATCH = 100
#: the registry shipped for the built-in exchange's mirror (default seed)
SHIPPED_SIM_PAIRS = Path(__file__).resolve().parents[2] / "pairs.sim.toml"
_NEWS = (FeedConnected, FeedDisconnected, FeedDecodeError, BookHashMismatch, StaleBook)


def token_infos(market: GammaMarket) -> list[TokenInfo]:
    """Per outcome token of a Gamma market: what the arb rows and instructions need."""
    tokens = market.token_ids or ()
    if market.fees_enabled is False:
        rate: Fraction | None = Fraction(0)
    elif market.fee_schedule is not None:
        rate = Fraction(Decimal(market.fee_schedule.rate))
    else:
        rate = None  # asked for with GET /fee-rate
    tick = int(market.tick_size) if market.tick_size is not None else None
    out = []
    for i, token in enumerate(tokens):
        other = [j for j in range(len(tokens)) if j != i]
        binary = len(tokens) == 2
        out.append(TokenInfo(token, market.condition_id, market.question, market.outcomes[i],
                             tokens[other[0]] if binary else None, market.outcomes[other[0]] if binary else "",
                             rate, market.end_ms, tick, bool(market.closed)))
    return out


class PolyFeed:
    """Gamma look-up, then the market channel for the paired tokens (module docstring)."""

    def __init__(self, venue: PolymarketVenue, tokens: tuple[str, ...], post: Callable[[object], None], *,
                 retry_s: float = 30.0, connect_timeout_s: float = 10.0) -> None:
        self.venue = venue
        self.tokens = tokens
        self.post = post
        self.retry_s = retry_s
        self.connect_timeout_s = connect_timeout_s
        self.ws: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.future: Future[None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run on `loop` (the io thread's); returns at once."""
        self.loop = loop
        self.future = asyncio.run_coroutine_threadsafe(self._main(), loop)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the socket and end the task (any thread but the loop's)."""
        loop, future = self.loop, self.future
        if loop is None or future is None or loop.is_closed():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout_s)
        future.cancel()

    async def _close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def _news(self, item: object) -> None:
        self.post(WorkDone(TAG, item, ""))

    def _sink(self, event: object) -> None:
        if type(event) is BookLevelSet or type(event) is BookSnapshot:
            self.post(event)
        elif isinstance(event, _NEWS):
            self._news(event)
        # trades, tick-size and resolution messages are not needed by the rows (a tick change arrives as
        # StaleBook + a fresh book; a resolution empties the book)

    async def _main(self) -> None:
        where = f"Polymarket ({self.venue.name}: {self.venue.clob_url})"
        try:
            meta = await self._load_tokens(where)
            self.ws = self.venue.ws(self._sink)
            await self.ws.subscribe(self.tokens, meta)
            try:
                await self.ws.start(self.connect_timeout_s)
            except VenueError as exc:  # the client keeps trying by itself
                self._news(FeedNote("error", f"{where} market channel unreachable ({exc}); arb rows stay empty "
                                    "until it answers (retrying)"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("polymarket feed failed")
            self._news(FeedNote("error", f"{where} feed stopped: {exc!r}; arb rows stay empty"))

    async def _load_tokens(self, where: str) -> dict[str, Any]:
        """Gamma facts for every token (retrying until the venue answers); returns the hash metadata."""
        told = False
        while True:
            try:
                async with self.venue.rest() as rest:
                    found: dict[str, TokenInfo] = {}
                    meta: dict[str, Any] = {}
                    for start in range(0, len(self.tokens), GAMMA_BATCH):
                        batch = list(self.tokens[start:start + GAMMA_BATCH])
                        for market in await rest.all_markets(closed=None, clob_token_ids=batch):
                            meta.update(token_meta(market))
                            for info in token_infos(market):
                                found[info.token_id] = info
                    for token, info in list(found.items()):
                        if token in self.tokens and info.fee_rate is None:
                            bps = await rest.fee_rate_bps(token)
                            found[token] = replace(info, fee_rate=Fraction(bps, 10_000))
            except VenueError as exc:
                if not told:
                    told = True
                    self._news(FeedNote("error", f"{where} unreachable ({exc}); no arb rows until it answers "
                                        f"(retrying every {self.retry_s:g} s)"))
                await asyncio.sleep(self.retry_s)
                continue
            missing = tuple(t for t in self.tokens if t not in found)
            self.post(WorkDone(TAG, TokensLoaded(tuple(found[t] for t in self.tokens if t in found), missing), ""))
            if told:
                self._news(FeedNote("info", f"{where} answered; loading the paired books"))
            return meta



# --- wiring (runtime.build_engine) ----------------------------------------------------------------


def polymarket_source(config: DeskConfig, mirror_url: str | None) -> PolymarketVenue | None:
    """Where the Polymarket books come from ([arb] polymarket), or None when no source is known."""
    arb = config.arb
    if arb.polymarket_url:
        return resolve_polymarket("sim", url=arb.polymarket_url)
    kind = arb.polymarket if arb.polymarket != "auto" else ("sim" if config.venue.name == "sim" else "prod")
    if kind == "prod":
        return resolve_polymarket("prod")
    return resolve_polymarket("sim", url=mirror_url) if mirror_url else None


def registry_path(config: DeskConfig, home: Path, venue: PolymarketVenue) -> Path | None:
    """[arb] pairs_file, else pairs.toml in the data directory, else (the built-in mirror) the shipped file."""
    if config.arb.pairs_file:
        return Path(config.arb.pairs_file).expanduser()
    own = home / "pairs.toml"
    if own.exists():
        return own
    if venue.name == "sim" and SHIPPED_SIM_PAIRS.exists():
        return SHIPPED_SIM_PAIRS
    return None


def prepare_arbitrage(config: DeskConfig, home: Path, mirror_url: str | None,
                      kernel: Any) -> tuple[PolyFeed | None, tuple[str, ...]]:
    """Load the pair registry and attach arbitrage to the kernel (before it starts). Returns the feed to
    start on the io loop (None: nothing to stream) and the Kalshi tickers the pairs need watched.

    A bad registry file does not stop the desk: the error (file, pair, key) is logged and raised as an
    Alert, and the desk runs without arbitrage. Arbitrage is an add-on, and the operator must still be
    able to trade, cancel and flatten on Kalshi; nothing is ever traded from a registry that did not parse.
    """
    if not config.arb.enabled:
        return None, ()
    try:
        venue = polymarket_source(config, mirror_url)
    except PolymarketConfigError as exc:
        kernel.post(Note("error", "arb", f"config.toml: [arb] polymarket_url: {exc}; running without arbitrage"))
        return None, ()
    if venue is None:
        log.info("arb: no Polymarket source (no mirror URL for the sim venue); arbitrage off")
        return None, ()
    path = registry_path(config, home, venue)
    if path is None:
        log.info("arb: no pair registry (set [arb] pairs_file or write %s); arbitrage off", home / "pairs.toml")
        return None, ()
    try:
        pairs = load_pairs(path)
    except PairRegistryError as exc:
        log.error("arb: %s", exc)
        kernel.post(Note("error", "arb", f"pair registry not loaded: {exc}. The desk runs without arbitrage; "
                         "fix the file and restart"))
        return None, ()
    registry = ArbRegistry(tuple(pairs), config.arb.min_net_edge, str(path))
    attach_arbs(kernel, registry, refresh_ms=config.arb.refresh_ms)
    if not pairs:
        return None, ()
    verified = sum(1 for p in pairs if p.verified)
    kernel.post(Note("info", "arb", f"{len(pairs)} pair(s) from {path} ({verified} verified: only those may be "
                     f"traded); Polymarket books from {venue.name} {venue.clob_url}"))
    return PolyFeed(venue, registry.token_ids, kernel.post), registry.tickers
