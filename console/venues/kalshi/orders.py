"""Outgoing V2 order requests (`POST /portfolio/events/orders`) in desk units, and their wire bodies.

An `OrderSpec` is what the execution layer hands the REST client: YES-scale price in pips, count in
hundredths, `Side.BID` (wants YES) or `Side.ASK` (wants NO). It always carries a `client_order_id`
(a fresh one when none is given) because that id is what makes a retried create safe: the REST client
sends the same id on every attempt and looks it up before sending again (see `rest.py`).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec

from console.domain.side import Side
from console.domain.units import PRICE_MAX, format_count, format_price

TimeInForce = Literal["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]


def new_client_order_id(prefix: str = "ed") -> str:
    """A fresh client_order_id within Kalshi's rules (<= 64 chars of [-\\w:+=/])."""
    return f"{prefix}-{uuid.uuid4().hex}"


class OrderSpec(msgspec.Struct, frozen=True, kw_only=True):
    ticker: str
    side: Side
    price: int  # YES-scale pips, strictly between 0 and 10000, on the market's grid
    count: int  # hundredths of a contract, > 0
    time_in_force: TimeInForce = "good_till_canceled"
    self_trade_prevention: SelfTradePrevention = "taker_at_cross"
    client_order_id: str = msgspec.field(default_factory=new_client_order_id)
    expiration_time_s: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    subaccount: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.price < PRICE_MAX:
            raise ValueError(f"order price {self.price} pips must be strictly between 0 and {PRICE_MAX}")
        if self.count <= 0:
            raise ValueError(f"order count {self.count} must be more than 0 (hundredths of a contract)")
        if not self.client_order_id or len(self.client_order_id) > 64:
            raise ValueError("client_order_id must be 1 to 64 characters")

    def to_wire(self) -> dict[str, Any]:
        """CreateOrderV2 body: dollar and count strings, optional fields only when set."""
        body: dict[str, Any] = {
            "ticker": self.ticker,
            "side": self.side.value,
            "count": format_count(self.count),
            "price": format_price(self.price),
            "time_in_force": self.time_in_force,
            "self_trade_prevention_type": self.self_trade_prevention,
            "client_order_id": self.client_order_id,
        }
        if self.expiration_time_s is not None:
            body["expiration_time"] = self.expiration_time_s
        if self.post_only:
            body["post_only"] = True
        if self.reduce_only:
            body["reduce_only"] = True
        if self.cancel_order_on_pause:
            body["cancel_order_on_pause"] = True
        if self.order_group_id is not None:
            body["order_group_id"] = self.order_group_id
        if self.subaccount is not None:
            body["subaccount"] = self.subaccount
        return body
