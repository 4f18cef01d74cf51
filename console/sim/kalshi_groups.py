"""Kalshi order groups over REST (reference 6.5): create, list, get, set limit, trigger, reset, delete.

A group caps the contracts its orders may match in a rolling 15-second window; at the cap the core
cancels every order of the group and refuses new ones until the group is reset. Someone else's group
id answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from console.domain.units import format_count
from console.sim.kalshi_orders import count_field, subaccount_field
from console.sim.kalshi_params import convert, read_json_object
from console.sim.kalshi_portfolio import caller
from console.sim.model import Account, ExchangeError
from console.sim.state import API_PREFIX

if TYPE_CHECKING:
    from console.sim.exchange import Exchange


class OrderGroupBody(msgspec.Struct, forbid_unknown_fields=True):
    contracts_limit: int | None = None
    contracts_limit_fp: str | None = None
    subaccount: int | None = None
    exchange_index: int | None = None


# --- order groups -------------------------------------------------------------------------------


def _own_group(exchange: Exchange, account: Account, group_id: str) -> Any:
    group = exchange.order_groups.get(group_id)
    if group is None or group.account_id != account.account_id:
        raise ExchangeError(404, "order_group_not_found", "order group not found",
                            f"you have no order group {group_id!r}")
    return group


def _group_limit(body: OrderGroupBody) -> int:
    if body.contracts_limit is None and body.contracts_limit_fp is None:
        raise ExchangeError(400, "missing_parameters", "missing parameters",
                            "contracts_limit (whole contracts) or contracts_limit_fp is required")
    if body.contracts_limit is not None:
        if body.contracts_limit < 1:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters", "contracts_limit must be >= 1")
        limit = body.contracts_limit * 100
        if body.contracts_limit_fp is not None and count_field(body.contracts_limit_fp, "contracts_limit_fp") != limit:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                "contracts_limit and contracts_limit_fp disagree; send one")
        return limit
    assert body.contracts_limit_fp is not None
    limit = count_field(body.contracts_limit_fp, "contracts_limit_fp")
    if limit <= 0:
        raise ExchangeError(400, "invalid_parameters", "invalid parameters", "contracts_limit_fp must be more than 0")
    return limit


async def create_order_group(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    body = convert(await read_json_object(request), OrderGroupBody)
    limit = _group_limit(body)
    subaccount = subaccount_field(body.subaccount)
    group = exchange.create_order_group(account.account_id, limit)
    return web.json_response({"order_group_id": group.order_group_id, "subaccount": subaccount,
                              "exchange_index": group.exchange_index}, status=201)


def group_json(group: Any) -> dict[str, Any]:
    return {
        "id": group.order_group_id,
        "contracts_limit_fp": format_count(group.contracts_limit),
        # auto-cancel on the limit is always on in the simulator; `is_triggered` is the simulator's extra
        "is_auto_cancel_enabled": True,
        "is_triggered": group.triggered,
        "exchange_index": group.exchange_index,
    }


async def list_order_groups(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    groups = [group_json(g) for g in exchange.order_groups.values() if g.account_id == account.account_id]
    return web.json_response({"order_groups": groups})


async def get_order_group(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    group = _own_group(exchange, account, request.match_info["group_id"])
    body = group_json(group)
    del body["id"]
    body["orders"] = list(group.order_ids)
    return web.json_response(body)


async def update_group_limit(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    group = _own_group(exchange, account, request.match_info["group_id"])
    body = convert(await read_json_object(request), OrderGroupBody)
    exchange.update_order_group_limit(account.account_id, group.order_group_id, _group_limit(body))
    return web.json_response({})


async def trigger_group(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    group = _own_group(exchange, account, request.match_info["group_id"])
    exchange.trigger_order_group(account.account_id, group.order_group_id)
    return web.json_response({})


async def reset_group(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    group = _own_group(exchange, account, request.match_info["group_id"])
    exchange.reset_order_group(account.account_id, group.order_group_id)
    return web.json_response({})


async def delete_group(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    group = _own_group(exchange, account, request.match_info["group_id"])
    exchange.delete_order_group(account.account_id, group.order_group_id)
    return web.json_response({})


def setup_routes(app: web.Application) -> None:
    p = f"{API_PREFIX}/portfolio/order_groups"
    r = app.router
    r.add_post(f"{p}/create", create_order_group)
    r.add_get(p, list_order_groups)
    r.add_get(f"{p}/{{group_id}}", get_order_group)
    r.add_put(f"{p}/{{group_id}}/limit", update_group_limit)
    r.add_put(f"{p}/{{group_id}}/trigger", trigger_group)
    r.add_put(f"{p}/{{group_id}}/reset", reset_group)
    r.add_delete(f"{p}/{{group_id}}", delete_group)
