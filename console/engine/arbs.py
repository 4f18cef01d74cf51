"""Cross-venue arbitrage in the engine: the pair registry's state, the arb rows of the snapshot, and the
operator's instruction each time an arb strategy's Kalshi leg fills.

Everything here runs on the kernel thread (it is kernel state, built from the event sequence):

- `ArbRegistry`: the pairs (console.domain.pairs) plus what the Polymarket feed learned about each
  token from Gamma (`TokenInfo`: the other outcome, fee rate, end date, tick, closed). Arb strategies
  read it (`strategies/arb.py`); the runtime binds it to them.
- `ArbDesk`: attached to a kernel (`attach_arbs`): adds the paired tokens' books to the BookManager
  (venue "polymarket"), handles the Polymarket feed's news (`WorkDone` with tag `TAG`: token info,
  connection state, hash mismatches, stale books), builds `DeskSnapshot.arbs` and turns an arb
  strategy's `Filled` into an `Alert` that says exactly what to buy on Polymarket.

Rows: for each pair and direction, `console.domain.arb.evaluate_pair` on the two live books (net edge
after both venues' fees, executable size from walking both books, capital locked until the later of
the two resolution dates, annualized return, leg risk). A pair's rows are recomputed only when one of
its two books (or their health) changed, and at most every `[arb] refresh_ms`. The walk with exact
fees costs about a millisecond a pair (measured: ~0.8 ms for 6 levels a side), so the kernel thread
only copies the two books' levels (immutable `Job`) and the kernel's worker pool computes the rows
(`compute_rows`, tag `arb-rows`): a burst of book changes never holds up an order.

The feed's connection events reach the kernel wrapped in `WorkDone` rather than as `FeedConnected` /
`FeedDisconnected` directly: the kernel's own handlers for those are the Kalshi feed's (venue health,
reconciliation on reconnect), which a Polymarket outage must not touch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from console.domain.arb import ArbDirection, ArbOpportunity, Depth, evaluate_pair
from console.domain.grid import PriceGrid
from console.domain.pairs import Pair
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.control import ArbRow, Filled
from console.engine.messages import WorkDone
from console.venues.kalshi.ws_events import (
    FeedConnected,
    FeedDecodeError,
    FeedDisconnected,
)
from console.venues.polymarket.events import BookHashMismatch, StaleBook

if TYPE_CHECKING:
    from console.engine.kernel import Kernel

log = logging.getLogger(__name__)

VENUE = "polymarket"
TAG = "polymarket"  # the WorkDone tag the feed posts its news under
ROWS_TAG = "arb-rows"  # the worker pool's computed rows
#: Polymarket ticks are 0.01 or 0.001 (0.0001 is rare): a 0.001 grid covers both; a finer market gets a 1-pip grid
DECI_GRID = PriceGrid.for_structure("deci_cent")
PIP_GRID = PriceGrid(((0, PRICE_MAX, 1),))
#: a rate no category charges more than (crypto, 2026): used for rows while a token's rate is unknown
WORST_CASE_RATE = Fraction(72, 1000)


@dataclass(frozen=True)
class TokenInfo:
    """What Gamma says about a paired token's market (posted by the feed before its books)."""

    token_id: str
    condition_id: str
    question: str
    outcome: str  # this token's outcome name ("Yes", "Republican")
    other_token_id: str | None  # the market's other outcome token (binary markets)
    other_outcome: str
    fee_rate: Fraction | None  # taker rate; None = the venue did not say
    end_ms: int | None  # scheduled end (Polymarket may resolve later)
    tick: int | None  # pips
    closed: bool = False


@dataclass(frozen=True)
class TokensLoaded:
    infos: tuple[TokenInfo, ...]
    missing: tuple[str, ...] = ()  # tokens of the registry the venue does not know


@dataclass(frozen=True)
class FeedNote:
    level: str  # info | warn | error
    message: str


@dataclass
class ArbRegistry:
    """The pair registry and the token facts the feed loaded (kernel thread)."""

    pairs: tuple[Pair, ...] = ()
    min_net_edge: int = 100  # pips per contract after both venues' fees ([arb] min_net_edge)
    source: str = ""  # the registry file, for messages
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    by_ticker: dict[str, tuple[Pair, ...]] = field(init=False)

    def __post_init__(self) -> None:
        grouped: dict[str, list[Pair]] = {}
        for pair in self.pairs:
            grouped.setdefault(pair.kalshi_ticker, []).append(pair)
        self.by_ticker = {t: tuple(ps) for t, ps in grouped.items()}

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(self.by_ticker)

    @property
    def token_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.polymarket_token_id for p in self.pairs))

    def fee_rate(self, pair: Pair) -> Fraction | None:
        """The registry's rate if it gives one, else the venue's; None while unknown."""
        if pair.polymarket_fee_rate is not None:
            return pair.polymarket_fee_rate
        info = self.tokens.get(pair.polymarket_token_id)
        return None if info is None else info.fee_rate

    def resolution_ms(self, pair: Pair, kalshi_close_ms: int | None) -> int | None:
        """Capital is locked until both venues have paid: the later of the two dates we know."""
        info = self.tokens.get(pair.polymarket_token_id)
        dates = [d for d in (kalshi_close_ms, info.end_ms if info else None) if d]
        return max(dates) if dates else None

    def closed(self, pair: Pair) -> bool:
        info = self.tokens.get(pair.polymarket_token_id)
        return bool(info and info.closed)

    def bought_outcome(self, pair: Pair, direction: ArbDirection) -> tuple[str, str]:
        """(token id, outcome name) to buy on Polymarket for a direction (arb.py module docstring)."""
        wants_kalshi_no = direction is ArbDirection.KALSHI_YES
        token_pays_on_kalshi_no = pair.orientation.value == "inverted"
        info = self.tokens.get(pair.polymarket_token_id)
        if wants_kalshi_no == token_pays_on_kalshi_no:
            return pair.polymarket_token_id, info.outcome if info else "the registry's token"
        if info is not None and info.other_token_id:
            return info.other_token_id, info.other_outcome
        return "", f"the other outcome of condition {pair.polymarket_condition_id}"


def book_depth(book: Any, age_ms: int = 0) -> Depth:
    """A Book's levels as `Depth` (every level: the walk needs the whole visible book)."""
    return Depth(tuple(book.levels(Side.BID)), tuple(book.levels(Side.ASK)), age_ms)


def dollars(pips: int) -> str:
    """A price in dollars the way the venues write them: at least 2 decimals, no trailing zeros past that."""
    text = f"{pips / PRICE_MAX:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.split(".")[1]))


def contracts(count: int) -> str:
    return f"{count / 100:g}"


def net_edge_pips(opp: ArbOpportunity) -> float:
    """Net edge per contract after both fees at the executable size (pips); the first contract's when 0."""
    if opp.count:
        return opp.profit / opp.count  # micro-dollars per count unit = pips per contract
    return opp.top_edge * PRICE_MAX


class ArbDesk:
    """Arb rows for the snapshot and fill instructions (see the module docstring). Kernel thread only."""

    def __init__(self, kernel: Kernel, registry: ArbRegistry, *, refresh_ms: int = 250,
                 workers: bool = True) -> None:
        self.kernel = kernel
        self.workers = workers
        self.in_flight: set[Pair] = set()
        self.desk = kernel.desk
        self.registry = registry
        self.refresh_ms = refresh_ms
        self.connected: bool | None = None
        self.rows_cache: dict[Pair, tuple[tuple, tuple[ArbRow, ...]]] = {}
        self.rows_out: tuple[ArbRow, ...] = ()
        self.last_ms: int | None = None
        self.computed = 0  # pair evaluations done (tests: recomputed only on change)
        for token in registry.token_ids:
            self.desk.books.add_market(VENUE, token, DECI_GRID)
            self.desk.linked[token] = tuple(dict.fromkeys(p.kalshi_ticker for p in registry.pairs
                                                          if p.polymarket_token_id == token))

    # --- the feed's news --------------------------------------------------------------------------
    def on_news(self, done: WorkDone) -> None:
        item = done.result
        desk = self.desk
        if isinstance(item, TokensLoaded):
            for info in item.infos:
                self.registry.tokens[info.token_id] = info
                if info.tick is not None and info.tick < 10:  # finer than 0.001: exact 1-pip grid
                    desk.books.add_market(VENUE, info.token_id, PIP_GRID)
            if item.missing:
                desk.alert("error", "arb", f"Polymarket does not know {len(item.missing)} token(s) of the pair "
                           f"registry {self.registry.source} ({', '.join(t[:16] + '…' for t in item.missing[:3])}): "
                           "their rows stay empty (book red); fix the token ids (the shipped sim registry is for [sim] seed 7)")
        elif isinstance(item, FeedConnected):
            desk.books.apply(item)
            if self.connected is not True:
                desk.alert("info", "arb", f"Polymarket feed connected ({len(self.registry.token_ids)} token(s))")
            self.connected = True
        elif isinstance(item, FeedDisconnected):
            desk.books.apply(item)  # marks only the Polymarket books red
            if self.connected is not False:
                desk.alert("warn", "arb", f"Polymarket feed down ({item.reason}); arb rows show no size and arb "
                           "strategies stop until it is back (reconnecting)")
            self.connected = False
        elif isinstance(item, (BookHashMismatch, StaleBook, FeedDecodeError)):
            desk.books.apply(item)
        elif isinstance(item, FeedNote):
            desk.alert(item.level, "arb", item.message)
        desk.changed = True

    # --- rows -------------------------------------------------------------------------------------
    def rows(self) -> tuple[ArbRow, ...]:
        """The arb table (cached: a pair is re-evaluated only when one of its books changed)."""
        now = self.desk.now_ms
        if self.last_ms is not None and now - self.last_ms < self.refresh_ms:
            return self.rows_out
        self.last_ms = now
        out: list[ArbRow] = []
        for pair in self.registry.pairs:
            key = self._key(pair)
            cached = self.rows_cache.get(pair)
            if (cached is None or cached[0] != key) and pair not in self.in_flight:
                job = self._prepare(pair, key)
                if isinstance(job, Job) and self.workers:
                    # the walk with exact fees costs ~1 ms a pair: off the kernel thread (tick-to-order)
                    self.in_flight.add(pair)
                    self.kernel.run_in_worker(ROWS_TAG, compute_rows, job)
                else:
                    self._store(compute_rows(job) if isinstance(job, Job) else (pair, key, job))
                cached = self.rows_cache.get(pair)
            if cached is not None:
                out.extend(cached[1])
        threshold = self.registry.min_net_edge
        out.sort(key=lambda r: (not (r.executable_count and r.net_edge * PRICE_MAX >= threshold), -r.net_edge))
        self.rows_out = tuple(out)
        return self.rows_out

    def _store(self, result: tuple[Pair, tuple, tuple[ArbRow, ...]]) -> None:
        pair, key, rows = result
        self.rows_cache[pair] = (key, rows)
        self.computed += 1

    def _on_rows(self, done: WorkDone) -> None:
        """A pair's rows from the worker pool (compute_rows never raises: errors come back as rows)."""
        if done.result is None:
            return
        self.in_flight.discard(done.result[0])
        self._store(done.result)
        self.last_ms = None  # publish them on the next snapshot
        self.desk.changed = True

    def _key(self, pair: Pair) -> tuple:
        desk = self.desk
        k = desk.book(pair.kalshi_ticker)
        p = desk.books.book(VENUE, pair.polymarket_token_id)
        return (k.version if k else None, id(p), p.version if p else None, desk.health(pair.kalshi_ticker)[0],
                self._poly_health(pair)[0], pair.kalshi_ticker in desk.markets,
                self.registry.tokens.get(pair.polymarket_token_id))

    def _poly_health(self, pair: Pair) -> tuple[str, str]:
        try:
            h = self.desk.books.health(VENUE, pair.polymarket_token_id)
        except KeyError:
            return "red", "not subscribed"
        return h.level.value, h.reason

    def _prepare(self, pair: Pair, key: tuple) -> Job | tuple[ArbRow, ...]:
        """On the kernel thread: copy what the walk needs (immutable), or the rows saying why there is none."""
        desk, reg = self.desk, self.registry
        meta = desk.markets.get(pair.kalshi_ticker)
        k_book = desk.book(pair.kalshi_ticker)
        p_book = desk.books.book(VENUE, pair.polymarket_token_id)
        problems = []
        if meta is None or k_book is None:
            problems.append("Kalshi market not loaded")
        k_level, k_reason = desk.health(pair.kalshi_ticker)
        p_level, p_reason = self._poly_health(pair)
        if k_level == "red" and meta is not None:
            problems.append(f"Kalshi book red: {k_reason}")
        if p_level == "red":
            problems.append(f"Polymarket book red: {p_reason}")
        if reg.closed(pair):
            problems.append("Polymarket market resolved")
        if problems or meta is None or k_book is None or p_book is None:
            return tuple(ArbRow(pair.kalshi_ticker, pair.polymarket_token_id, d.value, 0.0, 0, 0.0, pair.verified,
                                "; ".join(problems) + (f"; notes: {pair.notes}" if pair.notes else ""))
                         for d in ArbDirection)
        rate = reg.fee_rate(pair)
        mono = desk.clock.mono_ns()
        k_depth = book_depth(k_book, max(0, (mono - k_book.last_recv_ns) // 1_000_000) if k_book.last_recv_ns else 0)
        p_depth = book_depth(p_book, max(0, (mono - p_book.last_recv_ns) // 1_000_000) if p_book.last_recv_ns else 0)
        resolution = reg.resolution_ms(pair, meta.close_ts * 1000 if meta.close_ts else None) or desk.now_ms
        return Job(pair, key, k_depth, p_depth, meta.fees, rate, desk.now_ms, resolution,
                   {d: reg.bought_outcome(pair, d) for d in ArbDirection})

    # --- fills of arb strategies ------------------------------------------------------------------
    def on_event(self, event: object) -> None:
        """Control subscriber (kernel thread): an arb strategy's Kalshi fill -> the Polymarket instruction."""
        if type(event) is not Filled:
            return
        for strategy in self.kernel.strategies:
            if getattr(strategy, "name", None) == event.origin and hasattr(strategy, "fill_instruction"):
                text = strategy.fill_instruction(event)
                if text:
                    self.desk.alert("warn", "arb", text)
                return


@dataclass(frozen=True)
class Job:
    """Everything one pair's rows are computed from (immutable copies: safe on a worker thread)."""

    pair: Pair
    key: tuple
    kalshi: Depth
    token: Depth
    fees: Any  # KalshiFees
    rate: Fraction | None
    now_ms: int
    resolution_ms: int
    bought: dict[ArbDirection, tuple[str, str]]  # direction -> (token id, outcome) to buy on Polymarket


def compute_rows(job: Job) -> tuple[Pair, tuple, tuple[ArbRow, ...]]:
    """Both directions of a pair as rows (pure; any thread). Never raises: a failure is a row saying so."""
    pair = job.pair
    try:
        rate_note = "" if job.rate is not None else \
            f"Polymarket fee rate unknown: rows assume {float(WORST_CASE_RATE):g}; never auto-traded"
        opps = evaluate_pair(pair, job.kalshi, job.token, job.fees,
                             job.rate if job.rate is not None else WORST_CASE_RATE,
                             now_ms=job.now_ms, resolution_ms=job.resolution_ms)
        rows = tuple(_row(pair, opp, rate_note, job.bought[opp.direction]) for opp in opps)
    except Exception as exc:
        log.exception("arb rows for %s failed", pair.kalshi_ticker)
        rows = tuple(ArbRow(pair.kalshi_ticker, pair.polymarket_token_id, d.value, 0.0, 0, 0.0, pair.verified,
                            f"internal error evaluating this pair: {exc!r}") for d in ArbDirection)
    return pair, job.key, rows


def _row(pair: Pair, opp: ArbOpportunity, rate_note: str, bought: tuple[str, str]) -> ArbRow:
    parts = []
    if opp.count and opp.kalshi and opp.polymarket:
        k_side = "YES" if opp.direction is ArbDirection.KALSHI_YES else "NO"
        token, outcome = bought
        parts.append(f"Kalshi: buy {contracts(opp.count)} {k_side} at <= {dollars(opp.kalshi.limit_price)}; "
                     f"Polymarket: buy {contracts(opp.count)} {outcome!r}"
                     + (f" (token {token})" if token else "") + f" at <= {dollars(opp.polymarket.limit_price)}; "
                     f"profit ${opp.profit / 1e6:.2f} on ${opp.capital / 1e6:.2f} locked "
                     f"{opp.days_to_resolution:.0f} days")
    if rate_note:
        parts.append(rate_note)
    parts.extend(opp.risks)
    return ArbRow(pair.kalshi_ticker, pair.polymarket_token_id, opp.direction.value,
                  net_edge_pips(opp) / PRICE_MAX, opp.count, opp.annualized_pct, pair.verified, "; ".join(parts))


def attach_arbs(kernel: Kernel, registry: ArbRegistry, *, refresh_ms: int = 250, workers: bool = True,
                strategies: Iterable[Any] | None = None) -> ArbDesk:
    """Wire arbitrage into a kernel (before it starts): books, feed news, snapshot rows, arb strategies.
    `workers=False` computes rows on the kernel thread (tests that step a kernel by hand)."""
    arbs = ArbDesk(kernel, registry, refresh_ms=refresh_ms, workers=workers)
    kernel.work_handlers[TAG] = arbs.on_news
    kernel.work_handlers[ROWS_TAG] = arbs._on_rows
    kernel.snapshots.arbs = arbs  # type: ignore[attr-defined]
    kernel.control.subscribe(arbs.on_event)
    for strategy in (kernel.strategies if strategies is None else strategies):
        bind = getattr(strategy, "bind_arbs", None)
        if bind is not None:
            bind(registry)
    return arbs

