"""Private Kalshi reads: balance, positions, orders, queue positions, fills, settlements (reference 6.3, 6.4).

Every handler serves only the caller's own records: the auth middleware has put the signed-in
account id at `request[ACCOUNT_ID]`. Someone else's order id answers 404, exactly as an unknown one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from console.domain.units import format_count
from console.sim import kalshi_json as kj
from console.sim.kalshi_index import account_fills, account_orders, account_settlements
from console.sim.kalshi_params import paginate, q_choice, q_int, q_list, q_str
from console.sim.model import Account, ExchangeError, Order, OrderStatus, Position
from console.sim.state import ACCOUNT_ID, API_PREFIX, STATE

if TYPE_CHECKING:
    from console.sim.exchange import Exchange


def caller(request: web.Request) -> tuple[Exchange, Account]:
    """The exchange and the signed-in account."""
    exchange = request.app[STATE].exchange
    account_id = request.get(ACCOUNT_ID)
    account = exchange.accounts.get(account_id) if account_id is not None else None
    if account is None:
        raise ExchangeError(401, "authentication_error", "authentication required",
                            "sign the request with an API key of an existing account")
    return exchange, account


def own_order(exchange: Exchange, account: Account, order_id: str) -> Order:
    order = exchange.orders.get(order_id)
    if order is None or order.account_id != account.account_id:
        raise ExchangeError(404, "order_not_found", "order not found", f"you have no order {order_id!r}")
    return order


async def get_balance(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    return web.json_response(kj.balance_json(account, exchange, request.app[STATE].clock.now_ms()))


# --- positions ----------------------------------------------------------------------------------


def _event_of(exchange: Exchange, ticker: str) -> str:
    market = exchange.markets.get(ticker)
    return market.event_ticker if market is not None else ""


async def get_positions(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    settlement_status = q_choice(request, "settlement_status", ("unsettled", "settled", "all")) or "unsettled"
    ticker = q_str(request, "ticker")
    event_ticker = q_str(request, "event_ticker")
    count_filter = set(q_list(request, "count_filter"))
    unknown = count_filter - {"position", "total_traded"}
    if unknown:
        raise ExchangeError(400, "bad_request", "bad request",
                            f"count_filter: unknown value(s) {', '.join(sorted(unknown))}; use position, total_traded")

    def keep(position: Position) -> bool:
        if settlement_status == "unsettled" and position.settled:
            return False
        if settlement_status == "settled" and not position.settled:
            return False
        if ticker is not None and position.ticker != ticker:
            return False
        if event_ticker is not None and _event_of(exchange, position.ticker) != event_ticker:
            return False
        if "position" in count_filter and position.position == 0:
            return False
        if "total_traded" in count_filter and position.total_traded == 0:
            return False
        return True

    page, cursor = paginate(enumerate(account.positions.values()), request, default_limit=100, max_limit=1000,
                            newest_first=False, keep=keep)
    # event positions cover the events on this page, aggregated over all matching positions
    page_events = list(dict.fromkeys(_event_of(exchange, p.ticker) for p in page))
    by_event: dict[str, list[Position]] = {e: [] for e in page_events}
    for position in account.positions.values():
        event = _event_of(exchange, position.ticker)
        if event in by_event and keep(position):
            by_event[event].append(position)
    return web.json_response({
        "market_positions": [
            kj.market_position_json(p, exchange.markets[p.ticker].exchange_index if p.ticker in exchange.markets else 0)
            for p in page
        ],
        "event_positions": [kj.event_position_json(e, ps) for e, ps in by_event.items()],
        "cursor": cursor,
    })


# --- orders -------------------------------------------------------------------------------------


async def list_orders(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    ticker = q_str(request, "ticker")
    event_tickers = set(q_list(request, "event_ticker"))
    if len(event_tickers) > 10:
        raise ExchangeError(400, "bad_request", "bad request", "event_ticker: at most 10 events per request")
    status = q_choice(request, "status", tuple(s.value for s in OrderStatus))
    min_ts, max_ts = q_int(request, "min_ts"), q_int(request, "max_ts")

    def keep(order: Order) -> bool:
        if order.account_id != account.account_id:
            return False
        if ticker is not None and order.ticker != ticker:
            return False
        if event_tickers and _event_of(exchange, order.ticker) not in event_tickers:
            return False
        if status is not None and order.status != status:
            return False
        ts = order.created_time_ms // 1000
        return (min_ts is None or ts >= min_ts) and (max_ts is None or ts <= max_ts)

    page, cursor = paginate(account_orders(request, exchange, account.account_id), request, default_limit=100,
                            max_limit=1000, newest_first=True, keep=keep)
    return web.json_response({"orders": [kj.order_json(o) for o in page], "cursor": cursor})


async def get_order(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    return web.json_response({"order": kj.order_json(own_order(exchange, account, request.match_info["order_id"]))})


async def get_queue_position(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    order = own_order(exchange, account, request.match_info["order_id"])
    ahead = exchange.queue_position(account.account_id, order.order_id)
    return web.json_response({"queue_position_fp": format_count(ahead)})


async def get_queue_positions(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    tickers = set(q_list(request, "market_tickers"))
    event_ticker = q_str(request, "event_ticker")
    if not tickers and event_ticker is None:
        raise ExchangeError(400, "missing_parameters", "missing parameters",
                            "market_tickers or event_ticker is required")
    out: list[dict[str, Any]] = []
    for _, order in account_orders(request, exchange, account.account_id):
        if order.status != OrderStatus.RESTING:
            continue
        if tickers and order.ticker not in tickers:
            continue
        if event_ticker is not None and _event_of(exchange, order.ticker) != event_ticker:
            continue
        ahead = exchange.queue_position(account.account_id, order.order_id)
        out.append({"order_id": order.order_id, "market_ticker": order.ticker,
                    "queue_position_fp": format_count(ahead)})
    return web.json_response({"queue_positions": out})


# --- fills and settlements ----------------------------------------------------------------------


async def list_fills(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    tickers = set(q_list(request, "ticker"))
    order_id = q_str(request, "order_id")
    min_ts, max_ts = q_int(request, "min_ts"), q_int(request, "max_ts")

    def keep(fill: Any) -> bool:
        ts = fill.created_time_ms // 1000
        return (
            fill.account_id == account.account_id
            and (not tickers or fill.ticker in tickers)
            and (order_id is None or fill.order_id == order_id)
            and (min_ts is None or ts >= min_ts)
            and (max_ts is None or ts <= max_ts)
        )

    page, cursor = paginate(account_fills(request, exchange, account.account_id), request, default_limit=100,
                            max_limit=1000, newest_first=True, keep=keep)
    return web.json_response({"fills": [kj.fill_json(f) for f in page], "cursor": cursor})


async def list_settlements(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    ticker = q_str(request, "ticker")
    event_ticker = q_str(request, "event_ticker")
    min_ts, max_ts = q_int(request, "min_ts"), q_int(request, "max_ts")

    def keep(s: Any) -> bool:
        ts = s.settled_time_ms // 1000
        return (
            s.account_id == account.account_id
            and (ticker is None or s.ticker == ticker)
            and (event_ticker is None or s.event_ticker == event_ticker)
            and (min_ts is None or ts >= min_ts)
            and (max_ts is None or ts <= max_ts)
        )

    page, cursor = paginate(account_settlements(request, exchange, account.account_id), request,
                            default_limit=100, max_limit=1000, newest_first=True, keep=keep)
    return web.json_response({"settlements": [kj.settlement_json(s) for s in page], "cursor": cursor})


def setup_routes(app: web.Application) -> None:
    p = f"{API_PREFIX}/portfolio"
    app.router.add_get(f"{p}/balance", get_balance)
    app.router.add_get(f"{p}/positions", get_positions)
    app.router.add_get(f"{p}/orders", list_orders)
    app.router.add_get(f"{p}/orders/queue_positions", get_queue_positions)
    app.router.add_get(f"{p}/orders/{{order_id}}", get_order)
    app.router.add_get(f"{p}/orders/{{order_id}}/queue_position", get_queue_position)
    app.router.add_get(f"{p}/fills", list_fills)
    app.router.add_get(f"{p}/settlements", list_settlements)
