"""Benchmark of the simulator's exchange core: order actions per second.

    .venv/bin/python bench/exchange.py                 # in-process, 1 market and 50 markets
    .venv/bin/python bench/exchange.py -n 200000 --markets 1

The in-process mode drives `console.sim.exchange.Exchange` directly, with one no-op listener attached
so every event is built as it would be for the WebSocket fan-out. The action mix is fixed: 40% creates
that rest (a few ticks away from the middle), 20% creates that cross (IOC or GTC at a marketable
price, walking one or more levels), 25% cancels and 15% amends of live orders, spread over 20
accounts, on books that start with 10 levels a side. Actions are drawn from a seeded generator
before the clock starts, so the timing covers the exchange only. Target: >= 20,000 actions/s. Both
wall-clock and process CPU time are reported; on a busy shared machine the CPU figure is the steadier
measure of the engine itself.

`--http` also runs a similar mix (creates that rest or cross, cancels, decreases) as signed requests
through the REST API of a real `edgedesk sim` child process on loopback (bench/exchange_http.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout without install

from console.domain.fees import FeeType  # noqa: E402
from console.domain.grid import PriceGrid  # noqa: E402
from console.domain.units import dollars  # noqa: E402
from console.sim.clock import SimClock  # noqa: E402
from console.sim.events import BookSide  # noqa: E402
from console.sim.exchange import Exchange  # noqa: E402
from console.sim.model import (  # noqa: E402
    Event,
    ExchangeError,
    Market,
    OrderRequest,
    OrderStatus,
    SelfTradePrevention,
    Series,
    TimeInForce,
)

TARGET_ACTIONS_PER_S = 20_000
ACCOUNTS = 20
MID = 5000  # pips
TICK = 100  # linear_cent
MIX = (("rest", 40), ("cross", 20), ("cancel", 25), ("amend", 15))


@dataclass
class BenchResult:
    markets: int
    actions: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time: steadier than wall time on a shared machine
    trades: int
    refused: int
    resting_at_end: int

    @property
    def actions_per_s(self) -> float:
        return self.actions / self.seconds if self.seconds else float("inf")

    @property
    def actions_per_cpu_s(self) -> float:
        return self.actions / self.cpu_seconds if self.cpu_seconds else float("inf")

    def line(self) -> str:
        best = max(self.actions_per_s, self.actions_per_cpu_s)
        verdict = "ok" if best >= TARGET_ACTIONS_PER_S else f"BELOW TARGET {TARGET_ACTIONS_PER_S:,}"
        return (f"{self.markets:>3} market(s): {self.actions:>8,} actions in {self.seconds:6.2f} s wall = "
                f"{self.actions_per_s:>7,.0f}/s, {self.cpu_seconds:6.2f} s CPU = {self.actions_per_cpu_s:>7,.0f}/s  "
                f"({self.trades:,} trades, {self.refused:,} refused, {self.resting_at_end:,} resting at end)  "
                f"[{verdict}]")


def build_exchange(markets: int, seed: int = 0) -> tuple[Exchange, list[str]]:
    """An exchange with `markets` linear-cent markets (maker fees on) and `ACCOUNTS` rich accounts."""
    clock = SimClock(speed=1.0)
    ex = Exchange(clock, seed=seed)
    ex.add_listener(lambda event: None)
    now = clock.now_ms()
    ex.add_series(Series("KXBENCH", "Bench", "Bench", fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES))
    ex.add_event(Event("KXBENCH-1", "KXBENCH", "Bench event"))
    tickers = []
    for i in range(markets):
        ticker = f"KXBENCH-1-M{i:03d}"
        ex.add_market(Market(ticker=ticker, event_ticker="KXBENCH-1", series_ticker="KXBENCH", title=ticker,
                             yes_sub_title="yes", no_sub_title="no", open_time_ms=now - 1000,
                             close_time_ms=now + 86_400_000, grid=PriceGrid.for_structure("linear_cent")))
        tickers.append(ticker)
    for a in range(ACCOUNTS):
        ex.create_account(f"acct{a:02d}", dollars("100000000"))
    ex.tick()
    return ex, tickers


def _plan(n: int, tickers: list[str], rng: random.Random) -> list[tuple]:
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    plan = []
    for kind in rng.choices(kinds, weights, k=n):
        ticker = rng.choice(tickers)
        account = f"acct{rng.randrange(ACCOUNTS):02d}"
        side = BookSide.BID if rng.random() < 0.5 else BookSide.ASK
        away = rng.randint(1, 10) * TICK  # distance from the middle
        count = rng.randint(1, 20) * 100
        plan.append((kind, ticker, account, side, away, count, rng.random()))
    return plan


def bench_in_process(n: int, markets: int = 1, seed: int = 0) -> BenchResult:
    """Run `n` order actions of the fixed mix against an in-process Exchange with `markets` markets."""
    ex, tickers = build_exchange(markets, seed)
    rng = random.Random(seed)
    plan = _plan(n, tickers, rng)
    live: list[tuple[str, str]] = []  # (account_id, order_id) of orders that rested
    gtc, ioc = TimeInForce.GTC, TimeInForce.IOC
    stp = SelfTradePrevention.MAKER
    refused = 0
    create, cancel, amend, orders = ex.create_order, ex.cancel_order, ex.amend_order, ex.orders
    resting = OrderStatus.RESTING

    # a book to work against: every market starts with 10 levels a side, two orders a level
    for ticker in tickers:
        for level in range(1, 11):
            for side in (BookSide.BID, BookSide.ASK):
                for _ in range(2):
                    account = f"acct{rng.randrange(ACCOUNTS):02d}"
                    price = MID - level * TICK if side is BookSide.BID else MID + level * TICK
                    o = create(account, OrderRequest(ticker, side, price, rng.randint(1, 20) * 100, gtc, stp))
                    live.append((account, o.order_id))

    started, started_cpu = time.perf_counter(), time.process_time()
    for kind, ticker, account, side, away, count, u in plan:
        try:
            target = None
            if kind in ("cancel", "amend"):
                # a random live order; ones filled or cancelled since they rested are dropped on the way
                while live and target is None:
                    i = int(u * len(live))
                    account_id, order_id = live[i]
                    live[i] = live[-1]
                    live.pop()
                    if orders[order_id].status is resting:
                        target = orders[order_id]
            if kind == "rest" or (kind in ("cancel", "amend") and target is None):
                price = MID - away if side is BookSide.BID else MID + away
                o = create(account, OrderRequest(ticker, side, price, count, gtc, stp))
                if o.status is resting:
                    live.append((account, o.order_id))
            elif kind == "cross":
                price = MID + away if side is BookSide.BID else MID - away
                o = create(account, OrderRequest(ticker, side, price, count, ioc if u < 0.5 else gtc, stp))
                if o.status is resting:
                    live.append((account, o.order_id))
            elif kind == "cancel":
                assert target is not None
                cancel(target.account_id, target.order_id)
            else:
                assert target is not None
                step = (TICK if target.side is BookSide.BID else -TICK) * (1 if u < 0.5 else -1)
                new_price = min(max(target.price + step, TICK), 10_000 - TICK)
                o = amend(target.account_id, target.order_id, ticker=target.ticker, side=target.side,
                          price=new_price, count=target.fill_count + target.remaining_count)
                if o.status is resting:
                    live.append((target.account_id, target.order_id))
        except ExchangeError:
            refused += 1
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    resting_now = sum(len(ex.live_orders(ticker=t)) for t in tickers)
    return BenchResult(markets, n, seconds, cpu_seconds, len(ex.trades), refused, resting_now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--actions", type=int, default=100_000, help="order actions per run (default 100000)")
    parser.add_argument("--markets", type=int, action="append",
                        help="markets per run; repeat for several runs (default: 1 and 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--http", action="store_true",
                        help="also run the mix over signed HTTP against a real `edgedesk sim` on loopback")
    parser.add_argument("--http-actions", type=int, default=20_000, help="actions in the HTTP run (default 20000)")
    args = parser.parse_args(argv)
    ok = True
    if args.http:
        from bench.exchange_http import bench_http

        print(bench_http(args.http_actions, seed=args.seed).line(), flush=True)
    for markets in args.markets or [1, 50]:
        result = bench_in_process(args.actions, markets, args.seed)
        print(result.line(), flush=True)
        ok &= max(result.actions_per_s, result.actions_per_cpu_s) >= TARGET_ACTIONS_PER_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
