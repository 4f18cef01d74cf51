"""Cash, positions and collateral of simulator accounts: the money side of every fill.

All amounts are micro-dollars; one count unit (0.01 contract) paying out $1 is 10000 micro-dollars.

Fills (`book_fill`). A bid fill of n units at YES price p costs p x n, an ask fill (10000 - p) x n.
The cash change is `balance_change(-cost, trade_fee, DIRECT_MEMBER_PRECISION)`: the fee is rounded up
to $0.0001 by `KalshiFees`, the change is floored to the member's precision, and that rounding counts
as fee too. (Kalshi refunds accumulated rounding in whole cents; the simulator keeps balances at
$0.0001 and never refunds, which only matters for prices finer than a pip-cent product.)

Netting. A YES and a NO contract in the same market are together worth exactly $1, so they cancel
the moment they meet: a fill that buys YES while the account is long NO (or the reverse) closes
min(n, held) pairs and pays 10000 per count unit at once. Realized P&L of the closed pairs is the
payout minus the cost of both legs: the new leg at the fill price and the closed leg at its average
cost (integer division; the remainder stays with the open contracts, so nothing is lost). Fees are
not in realized P&L; they are reported in `fees_paid`.

Collateral (`console.sim.collateral`). A resting or incoming order must be able to pay for the
contracts it could open. Each order's remaining count is split into a closing part, which nets an
opposite position the account already holds (a bid closes a NO position, an ask a YES position),
and an opening part. Only the opening part is reserved, at the order's limit price (bid: p per unit,
ask: 10000 - p), which bounds what any fill at that limit or better can cost. Nothing is reserved
for fees, so fees may leave `available` slightly negative; the next order that needs collateral is
then refused. The closing capacity (the size of the opposite position) is shared by the account's
orders in that market in a fixed order: reduce-only orders first, then orders by age. The split is
brought up to date whenever the position or any of those orders changes, so the reservation is
always exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.domain.fees import DIRECT_MEMBER_PRECISION, balance_change
from console.domain.units import PAYOUT_PER_COUNT_UNIT, PRICE_MAX
from console.sim.events import BookSide
from console.sim.model import Account, Position


@dataclass(slots=True)
class FillBooking:
    """What one side of a fill did to its account."""

    cost: int  # micro-dollars paid for the contracts bought, before fees
    fee: int  # trade fee plus rounding fee
    netted: int  # count units that closed an opposite position (paid out at $1)
    post_position: int  # signed position after the fill
    yes_held_delta: int  # change in YES contracts held (for the market's open interest)


def unit_cost(side: BookSide, yes_price: int) -> int:
    """Micro-dollars per count unit that an order on `side` at `yes_price` pays at most."""
    return yes_price if side is BookSide.BID else PRICE_MAX - yes_price


def book_fill(account: Account, position: Position, side: BookSide, yes_price: int, count: int,
              trade_fee: int, now_ms: int) -> FillBooking:
    """Apply one side of a fill: cash, fee, netting payout, position, cost basis, realized P&L."""
    cost = unit_cost(side, yes_price) * count
    change, rounding_fee = balance_change(-cost, trade_fee, DIRECT_MEMBER_PRECISION)
    fee = trade_fee + rounding_fee
    account.balance += change
    position.fees_paid += fee
    position.volume += count
    position.total_traded += cost
    position.last_updated_ms = now_ms

    before = position.position
    # signed direction of this fill: +1 adds YES, -1 adds NO
    direction = 1 if side is BookSide.BID else -1
    held_opposite = -before * direction  # > 0 when the account holds the other outcome
    netted = min(count, held_opposite) if held_opposite > 0 else 0
    if netted:
        closed_cost = position.position_cost * netted // held_opposite
        payout = PAYOUT_PER_COUNT_UNIT * netted
        account.balance += payout
        position.realized_pnl += payout - closed_cost - unit_cost(side, yes_price) * netted
        position.position_cost -= closed_cost
    opened = count - netted
    if opened:
        position.position_cost += unit_cost(side, yes_price) * opened
    after = before + direction * count
    position.position = after
    return FillBooking(cost, fee, netted, after, max(after, 0) - max(before, 0))


def settle_position(account: Account, position: Position, yes_value: int) -> tuple[int, int, int, int, int]:
    """Pay out a position at settlement: `yes_value` pips per YES unit, the rest per NO unit.

    Returns (revenue, yes_count, yes_cost, no_count, no_cost) and leaves the position flat.
    """
    held = position.position
    yes_count, no_count = max(held, 0), max(-held, 0)
    revenue = yes_count * yes_value + no_count * (PRICE_MAX - yes_value)
    cost = position.position_cost
    account.balance += revenue
    position.realized_pnl += revenue - cost
    position.position = 0
    position.position_cost = 0
    position.settled = True
    if yes_count:
        return revenue, yes_count, cost, 0, 0
    return revenue, 0, 0, no_count, cost
