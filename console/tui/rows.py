"""Snapshot to table rows: what each table pane shows, as plain data (no widgets, easy to test).

Every function takes the immutable `DeskSnapshot` (and the clock where time matters) and returns rows
keyed by what identifies them (ticker, client_order_id, intent_id), in display order. Cells are plain
text or `(text, theme_variable)` pairs; the widgets turn them into styled cells.
"""

from __future__ import annotations

import math

from console.domain.side import Side
from console.engine.control import ArbRow, DeskSnapshot, EdgeRow, MarketRow
from console.tui import format as fmt
from console.tui.widgets.cursor_table import MUTED, Col, RowSpec

MARKET_COLS = (
    Col("health", "", 1), Col("ticker", "market", 20), Col("venue", "ven", 4), Col("last", "last", 6, "right"),
    Col("bid", "bid", 5, "right"), Col("ask", "ask", 5, "right"), Col("spread", "sprd", 5, "right"),
    Col("edge", "edge", 6, "right"),
)
POSITION_COLS = (
    Col("ticker", "market", 18), Col("qty", "qty", 9, "right"), Col("avg", "avg", 6, "right"),
    Col("mark", "mark", 5, "right"), Col("realized", "realized", 8, "right"),
    Col("unrealized", "unreal.", 8, "right"), Col("locked", "locked", 8, "right"),
    Col("resolves", "resolves", 8),
)
ARB_COLS = (
    Col("pair", "Kalshi / Polymarket", 30), Col("direction", "Kalshi", 9), Col("net", "net", 6, "right"),
    Col("size", "size", 7, "right"), Col("annual", "annual", 7, "right"), Col("verified", "verif.", 6),
)
ORDER_COLS = (
    Col("ticker", "market", 18), Col("side", "side", 7), Col("price", "price", 6, "right"),
    Col("filled", "filled", 6, "right"), Col("left", "left", 6, "right"), Col("state", "state", 7),
    Col("origin", "origin", 7),
)
PROPOSAL_COLS = (
    Col("left", "ttl", 4, "right"), Col("ticker", "market", 20), Col("side", "side", 7),
    Col("price", "price", 6, "right"), Col("count", "qty", 5, "right"), Col("edge", "edge", 6, "right"),
    Col("strategy", "strategy", 8), Col("reason", "reason", 0),
)
EDGE_COLS = (  # one space between columns; narrow panes drop the model and then bid/ask (the details
    # line under the table still names them), so the side, the edge and the reason always fit
    Col("ticker", "market", 18), Col("model", "model", 8, hide_below=86), Col("prob", "p %", 5, "right"),
    Col("bid", "bid", 5, "right", hide_below=76), Col("ask", "ask", 5, "right", hide_below=76),
    Col("side", "side", 7), Col("edge", "edge", 6, "right"), Col("size", "size", 5, "right"),
    Col("signal", "signal / why not", 0),
)


VENUE_SHORT = {"kalshi": "K", "polymarket": "PM", "sim": "sim"}


def _side_cell(side: Side) -> tuple[str, str]:
    return ("BUY YES", "bid") if side is Side.BID else ("BUY NO", "ask")


def _edge_cell(edge: float | None) -> tuple[str, str] | str:
    """A signed edge coloured by its sign (`$edge-pos` / `$edge-neg`: blue/orange in the colour-blind
    theme); the sign is in the text too, so it reads without colour."""
    if edge is None or math.isnan(edge):  # no number to show
        return "-"
    text = fmt.pct(edge, signed=True)
    if text in ("+0.0%", "-0.0%"):
        return "0.0%"
    return (text, "edge-pos" if edge > 0 else "edge-neg")


def market_matches(row: MarketRow, query: str) -> bool:
    """Every word of the query appears in the ticker, title, venue or category (case-insensitive)."""
    haystack = f"{row.ticker} {row.title} {row.venue} {row.category}".lower()
    return all(word in haystack for word in query.lower().split())


def market_rows(snap: DeskSnapshot, query: str = "", hidden: frozenset[str] | set[str] = frozenset()
                ) -> dict[str, RowSpec]:
    """Watchlist rows, keyed by ticker: those matching `query`, minus those the operator removed (`hidden`)."""
    rows: dict[str, RowSpec] = {}
    for m in snap.markets:
        if m.ticker in hidden or query and not market_matches(m, query):
            continue
        badge = (fmt.health_badge(m.health), fmt.HEALTH_VAR.get(m.health, "risk-breach"))
        rows[m.ticker] = (badge, m.ticker, VENUE_SHORT.get(m.venue, m.venue[:4]), fmt.price(m.last_price),
                          (fmt.price(m.yes_bid), "bid"), (fmt.price(m.yes_ask), "ask"),
                          fmt.spread(m.yes_bid, m.yes_ask), _edge_cell(m.edge_after_fees))
    return rows


def market_details(snap: DeskSnapshot, ticker: str | None) -> str:
    """One line under the watchlist: the selected market's title and why its book is not green."""
    row = next((m for m in snap.markets if m.ticker == ticker), None)
    if row is None:
        return "no market selected"
    text = f"{row.title} [{row.category}, {row.venue}]"
    if row.health != "green":
        text += f" - book {row.health}: {row.health_reason or 'no reason given'}"
    blocked = dict(snap.blocked_markets).get(row.ticker)
    if blocked:
        text += f" - blocked: {blocked}"
    return text


def position_rows(snap: DeskSnapshot, now_ms: int) -> dict[str, RowSpec]:
    rows: dict[str, RowSpec] = {}
    for p in snap.positions:
        qty = (fmt.position(p.position), "bid" if p.position > 0 else "ask")
        unreal = p.unrealized_pnl
        resolves = "-" if p.resolves_ms is None else _days_left(p.resolves_ms, now_ms)
        rows[p.ticker] = (p.ticker, qty, fmt.price(p.average_price), fmt.price(p.mark),
                          _money_cell(p.realized_pnl), _money_cell(unreal), fmt.money_short(p.capital_locked),
                          resolves)
    return rows


def _money_cell(micros: int | None) -> tuple[str, str] | str:
    if micros is None:
        return "-"
    return (fmt.money_short(micros, signed=True), "edge-pos" if micros >= 0 else "edge-neg")


def _days_left(resolves_ms: int, now_ms: int) -> str:
    hours = max(0, resolves_ms - now_ms) // 3_600_000
    if hours >= 240:
        return f"{hours // 24}d"
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


ARB_DIRECTIONS = {"kalshi_yes": ("BUY YES", "bid"), "kalshi_no": ("BUY NO", "ask")}


def arb_key(a: ArbRow) -> str:
    return f"{a.kalshi_ticker}|{a.polymarket_token}|{a.direction}"


def short_token(token: str, width: int = 14) -> str:
    """Polymarket token ids are 70-odd digits: keep the head and tail, which is how people compare them."""
    return token if len(token) <= width else f"{token[:6]}…{token[-(width - 7):]}"


def _annual_cell(a: ArbRow) -> str:
    # the engine publishes the annualized return in percent (console.domain.arb: annualized_pct)
    if not a.executable_count:
        return "-"
    if a.annualized_return == float("inf") or a.annualized_return >= 10_000:
        return ">9999%"
    return f"{a.annualized_return:.1f}%"


def arb_rows(snap: DeskSnapshot) -> dict[str, RowSpec]:
    """Arb rows keyed by pair and direction, the best net edge after both venues' fees first."""
    rows: dict[str, RowSpec] = {}
    for a in sorted(snap.arbs, key=lambda a: (-a.net_edge, a.kalshi_ticker, a.polymarket_token, a.direction)):
        direction = ARB_DIRECTIONS.get(a.direction, (a.direction, None))
        verified = ("yes", "risk-ok") if a.verified else ("NO", "risk-warn")
        pair = f"{a.kalshi_ticker} / {short_token(a.polymarket_token)}"
        rows[arb_key(a)] = (pair, direction if direction[1] else direction[0], _edge_cell(a.net_edge),
                            fmt.count(a.executable_count) if a.executable_count else "-", _annual_cell(a), verified)
    return rows


def arb_details(snap: DeskSnapshot, key: str | None) -> str:
    """Content markup for the line under the arb table: what to do on each venue (the engine's
    instruction), or why the pair is not tradeable; an unverified pair says so first."""
    row = next((a for a in snap.arbs if arb_key(a) == key), None)
    if row is None:
        return "[$text-muted]no arbitrage pairs[/]" if not snap.arbs else ""
    parts = []
    if not row.verified:
        parts.append("[b $risk-warn]UNVERIFIED pair[/] [$risk-warn](check both settle alike)[/]")
    parts.append(_esc(row.notes) if row.notes else
                 f"[$text-muted]{_esc(row.kalshi_ticker)} / {_esc(row.polymarket_token)}: no instruction[/]")
    return " ".join(parts)


def _esc(text: str) -> str:
    return text.replace("[", r"\[")


def order_rows(snap: DeskSnapshot) -> dict[str, RowSpec]:
    return {o.client_order_id: (o.ticker, _side_cell(o.side), fmt.price(o.price), fmt.count(o.filled),
                                fmt.count(o.remaining), o.state, o.origin) for o in snap.orders}


def proposal_details(snap: DeskSnapshot, key: str | None, now_ms: int) -> str:
    """Content markup for the line under the proposals: the selected intent in full, with its reason, so
    the operator reads what `y` would send."""
    p = next((p for p in snap.proposals if p.intent_id == key), None)
    if p is None:
        return ""
    left = fmt.seconds_left(p.expires_ms, now_ms)
    expired = "[b $risk-breach]EXPIRED, y will not send it:[/] " if left == "expired" else ""
    when = "" if expired else f", {left} left"
    return (f"{expired}[b]{fmt.side_label(p.side)} {fmt.count(p.count)} {_esc(p.ticker)} @{fmt.price(p.price)}[/] "
            f"edge {fmt.pct(p.edge_after_fees, signed=True)} ({_esc(p.strategy)}{when}): {_esc(p.reason)}")


def proposal_rows(snap: DeskSnapshot, now_ms: int, strategy: str | None = None) -> dict[str, RowSpec]:
    rows: dict[str, RowSpec] = {}
    for p in snap.proposals:
        if strategy is not None and p.strategy != strategy:
            continue
        left = fmt.seconds_left(p.expires_ms, now_ms)
        expired = left == "expired"
        ttl = ("exp", "risk-breach") if expired else (left, "risk-ok")
        rows[p.intent_id] = (ttl, p.ticker, _side_cell(p.side),
                             fmt.price(p.price), fmt.count(p.count), _edge_cell(p.edge_after_fees), p.strategy,
                             p.reason)
    return rows


def edge_key(e: EdgeRow) -> str:
    return f"{e.ticker}|{e.model}"


def _traded(e: EdgeRow) -> bool:
    return e.side is not None and e.suggested_count > 0


def edge_rows(snap: DeskSnapshot) -> dict[str, RowSpec]:
    """Model edges keyed by market and model, the best edge after fees first (ties by ticker, so equal
    edges do not swap places between snapshots). The side is explicit; an untraded market shows why."""
    rows: dict[str, RowSpec] = {}
    for e in sorted(snap.edges, key=lambda e: (-e.edge_after_fees, e.ticker, e.model)):
        side = _side_cell(e.side) if e.side is not None else "-"
        signal = (e.signal, "edge-pos" if e.edge_after_fees > 0 else "edge-neg") if _traded(e) else \
            (e.signal or "no trade", MUTED)
        rows[edge_key(e)] = (e.ticker, (e.model, MUTED), f"{e.model_prob * 100:.1f}",
                             (fmt.price(e.yes_bid), "bid"), (fmt.price(e.yes_ask), "ask"), side,
                             _edge_cell(e.edge_after_fees),
                             fmt.count(e.suggested_count) if _traded(e) else "-", signal)
    return rows


def edge_details(snap: DeskSnapshot, key: str | None) -> str:
    """Content markup for the line under the edges table: the selected row in words, verdict first (the
    line is cut at the pane's edge)."""
    e = next((e for e in snap.edges if edge_key(e) == key), None)
    if e is None:
        return ""
    side = fmt.side_label(e.side) if e.side is not None else "no side"
    verdict = (f"[b]{side} {fmt.count(e.suggested_count)}[/]" if _traded(e)
               else f"no trade ({_esc(e.signal or 'no reason given')}):")
    edge = fmt.pct(e.edge_after_fees, signed=True) + " after fees"
    return (f"{verdict} {_esc(e.ticker)}: {edge if _traded(e) else f'{side} {edge}'}; "
            f"{_esc(e.model)} p={e.model_prob * 100:.1f}% vs YES bid/ask {fmt.price(e.yes_bid)}/{fmt.price(e.yes_ask)}")
