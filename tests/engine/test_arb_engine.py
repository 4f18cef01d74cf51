"""Cross-venue arbitrage in the engine: arb rows in the snapshot from the live Kalshi and Polymarket books
(checked against a brute-force walk of both books), inverted pairs, rows recomputed only when a book
changed, a Polymarket outage that leaves the Kalshi feed alone, a bad registry file that leaves the desk
running, and the whole path over real sockets against the built-in exchange's mirror."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

from engine_helpers import Account, config, wait_until
from kernel_harness import FEES, Harness

from console.domain.fees import polymarket_taker_fee
from console.domain.pairs import Orientation, Pair, load_pairs
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine import polyfeed
from console.engine.arbs import (
    TAG,
    ArbRegistry,
    FeedNote,
    TokenInfo,
    TokensLoaded,
    attach_arbs,
)
from console.engine.control import Alert
from console.engine.messages import WorkDone
from console.engine.runtime import build_engine
from console.venues.events import BookLevelSet, BookSnapshot
from console.venues.kalshi.ws_events import FeedConnected, FeedDisconnected

TOKEN = "1111"
OTHER = "2222"
RATE = Fraction(4, 100)
ROOT = Path(__file__).resolve().parents[2]


def info(token: str = TOKEN, other: str = OTHER, rate: Fraction | None = RATE) -> TokenInfo:
    return TokenInfo(token, "0xcond", "Will it?", "Yes", other, "No", rate, None, 100)


def arb_harness(orientation: Orientation = Orientation.SAME, *, verified: bool = True,
                refresh_ms: int = 0) -> tuple[Harness, object]:
    h = Harness()
    pair = Pair("KXA", TOKEN, "0xcond", orientation, verified, "test pair")
    arbs = attach_arbs(h.kernel, ArbRegistry((pair,), 100, "test"), refresh_ms=refresh_ms, workers=False)
    h.ready(["KXA", "KXB"])
    h.step(WorkDone(TAG, TokensLoaded((info(),)), ""))
    return h, arbs


def brute_force(k_costs: list[tuple[int, int]], p_costs: list[tuple[int, int]]) -> tuple[int, int]:
    """(best count, profit) over every whole-contract count: both legs walked level by level, cheapest first."""
    def walk(levels: list[tuple[int, int]], n: int, fee) -> int:
        total, left = 0, n
        for cost, count in sorted(levels):
            take = min(count, left)
            if take:
                total += cost * take + fee(cost, take)
            left -= take
        assert left == 0
        return total

    depth = min(sum(c for _, c in k_costs), sum(c for _, c in p_costs))
    best = (0, 0)
    for n in range(100, depth + 1, 100):
        profit = n * PRICE_MAX - walk(k_costs, n, lambda p, c: FEES.trade_fee(p, c, maker=False)) \
            - walk(p_costs, n, lambda p, c: polymarket_taker_fee(p, c, RATE))
        if profit > best[1]:
            best = (n, profit)
    return best


def rows_of(h: Harness) -> dict[str, object]:
    h.run_for(60)
    return {r.direction: r for r in h.control.snapshot().arbs}


def test_rows_match_a_brute_force_walk_of_both_books() -> None:
    h, _ = arb_harness()
    kalshi_asks = [(4000, 300), (4200, 500), (4600, 1000)]
    token_bids = [(6100, 200), (5800, 400), (5500, 2000)]  # the other outcome costs 1 - bid: 0.39, 0.42, 0.45
    h.book("KXA", bids=[(3800, 500)], asks=kalshi_asks)
    h.step(BookSnapshot("polymarket", TOKEN, tuple(sorted(token_bids)), ((6300, 700),)))
    rows = rows_of(h)
    assert set(rows) == {"kalshi_yes", "kalshi_no"}
    yes = rows["kalshi_yes"]
    n, profit = brute_force(kalshi_asks, [(PRICE_MAX - p, c) for p, c in token_bids])
    assert n > 0 and yes.executable_count == n
    assert round(yes.net_edge * PRICE_MAX * n) == profit  # net edge per contract after both venues' fees
    assert yes.verified and yes.annualized_return > 0
    assert "Polymarket: buy" in yes.notes and "'No' (token 2222)" in yes.notes and "leg risk" in yes.notes
    no = rows["kalshi_no"]  # NO on Kalshi at 1 - 0.38 plus the token at 0.63: more than $1, no size
    assert no.executable_count == 0 and no.net_edge < 0
    assert h.control.snapshot().arbs[0].direction == "kalshi_yes"  # opportunities first


def test_inverted_pair_reads_the_token_book_on_the_other_side() -> None:
    h, _ = arb_harness(Orientation.INVERTED)
    h.book("KXA", bids=[(4800, 500)], asks=[(5000, 500)])
    token_asks = [(4300, 400), (4500, 600)]
    h.step(BookSnapshot("polymarket", TOKEN, ((3000, 100),), tuple(token_asks)))
    rows = rows_of(h)
    # YES on Kalshi is hedged by the token itself (it pays when Kalshi's NO does), bought at its asks
    n_yes, profit_yes = brute_force([(5000, 500)], token_asks)
    yes_row = rows["kalshi_yes"]
    assert yes_row.executable_count == n_yes == 500
    assert round(yes_row.net_edge * PRICE_MAX * n_yes) == profit_yes
    assert "'Yes' (token 1111) at <= 0.45" in yes_row.notes  # 400 at 0.43, then 100 at 0.45
    # NO on Kalshi (0.52) is hedged by the other outcome at 1 - the token's bid (0.70): no arb
    assert rows["kalshi_no"].executable_count == 0 and rows["kalshi_no"].net_edge < 0


def test_rows_are_recomputed_only_when_one_of_the_pairs_books_changed() -> None:
    h, arbs = arb_harness()
    h.book("KXA", bids=[(3800, 500)], asks=[(4000, 500)])
    h.step(BookSnapshot("polymarket", TOKEN, ((5900, 500),), ((6100, 500),)))
    rows_of(h)
    done = arbs.computed
    h.book("KXB", bids=[(3000, 100)], asks=[(3100, 100)])  # another market: the pair is not redone
    rows_of(h)
    assert arbs.computed == done
    before = rows_of(h)["kalshi_yes"]
    h.step(BookLevelSet("polymarket", TOKEN, Side.BID, 6000, 300))  # the token's book moved
    after = rows_of(h)["kalshi_yes"]
    assert arbs.computed == done + 1
    assert after.net_edge > before.net_edge  # the other outcome now costs 0.40 for the first 300


def test_rows_are_walked_on_the_worker_pool_not_the_kernel_thread() -> None:
    import threading
    import time

    from console.engine import arbs as arbs_module

    h = Harness()
    pair = Pair("KXA", TOKEN, "0xcond", Orientation.SAME, True)
    attach_arbs(h.kernel, ArbRegistry((pair,), 100, "test"), refresh_ms=0)
    h.ready(["KXA"])
    h.step(WorkDone(TAG, TokensLoaded((info(),)), ""))
    threads: list[str] = []
    real = arbs_module.compute_rows

    def spy(job):
        threads.append(threading.current_thread().name)
        return real(job)

    arbs_module.compute_rows = spy
    try:
        h.book("KXA", bids=[(3800, 500)], asks=[(4000, 500)])
        h.step(BookSnapshot("polymarket", TOKEN, ((5900, 500),), ((6100, 500),)))
        deadline = time.monotonic() + 5
        while not h.control.snapshot().arbs or not h.control.snapshot().arbs[0].executable_count:
            assert time.monotonic() < deadline, "rows never came back from the worker pool"
            time.sleep(0.01)
            h.step()
    finally:
        arbs_module.compute_rows = real
        h.kernel.stop()
    assert threads and all(t.startswith("edgedesk-worker") for t in threads)
    assert h.control.snapshot().arbs[0].executable_count == 500


def test_a_polymarket_outage_blanks_the_rows_and_leaves_the_kalshi_feed_alone() -> None:
    h, _ = arb_harness()
    h.step(FeedConnected("kalshi", 1))
    h.book("KXA", bids=[(3800, 500)], asks=[(4000, 500)])
    h.step(BookSnapshot("polymarket", TOKEN, ((5900, 500),), ((6100, 500),)))
    assert rows_of(h)["kalshi_yes"].executable_count > 0
    h.step(WorkDone(TAG, FeedDisconnected("polymarket", "connection closed"), ""))
    rows = rows_of(h)
    assert rows["kalshi_yes"].executable_count == 0 and "Polymarket book red" in rows["kalshi_yes"].notes
    snap = h.control.snapshot()
    assert snap.venue_health == "green" and h.desk.health("KXA")[0] != "red"  # Kalshi untouched
    assert any(isinstance(e, Alert) and e.kind == "arb" and "Polymarket feed down" in e.message for e in h.events)


def test_unknown_fee_rate_is_assumed_worst_case_and_said(tmp_path) -> None:
    h = Harness()
    attach_arbs(h.kernel, ArbRegistry((Pair("KXA", TOKEN, "0xc", Orientation.SAME, True),), 100, "t"), refresh_ms=0,
                workers=False)
    h.ready(["KXA"])
    h.step(WorkDone(TAG, TokensLoaded((info(rate=None),)), ""))
    h.book("KXA", bids=[(3800, 500)], asks=[(4000, 500)])
    h.step(BookSnapshot("polymarket", TOKEN, ((5900, 500),), ((6100, 500),)))
    assert "Polymarket fee rate unknown" in rows_of(h)["kalshi_yes"].notes


def test_a_bad_registry_file_is_named_and_the_desk_runs_without_arbitrage(tmp_path) -> None:
    bad = tmp_path / "pairs.toml"
    bad.write_text('[[pair]]\nkalshi_ticker = "KXA"\npolymarket_token_id = "1"\npolymarket_condition_id = "0x1"\n'
                   'orientation = "same"\nverifed = true\n')
    cfg = config(["KXA"]).model_copy(update={"arb": config([]).arb.model_copy(
        update={"pairs_file": str(bad), "polymarket_url": "http://127.0.0.1:9"})})
    h = Harness()
    feed, tickers = polyfeed.prepare_arbitrage(cfg, tmp_path, None, h.kernel)
    assert feed is None and tickers == ()
    h.ready(["KXA"])
    [alert] = [e for e in h.events if isinstance(e, Alert) and e.kind == "arb"]
    assert alert.level == "error" and str(bad) in alert.message and "pair #1 (KXA)" in alert.message
    assert "unknown key 'verifed'" in alert.message and "runs without arbitrage" in alert.message
    assert h.control.snapshot().arbs == ()


def test_arb_rows_end_to_end_against_the_built_in_mirror(sim_factory, tmp_path) -> None:
    server = sim_factory("--world", "--seed", "7", "--speed", "1")
    pairs = load_pairs(ROOT / "pairs.sim.toml")
    tickers = sorted({p.kalshi_ticker for p in pairs})
    cfg = config(tickers)
    cfg = cfg.model_copy(update={"arb": cfg.arb.model_copy(update={"polymarket_url": server.polymarket_url})})
    account = Account(server)
    alerts: list[Alert] = []
    eng = build_engine(cfg, home=tmp_path, venue=account.venue(), strategies=[])
    eng.control.subscribe(lambda e: alerts.append(e) if isinstance(e, Alert) else None)
    eng.start()
    try:
        assert eng.wait_ready(30)

        def live_rows():
            rows = eng.control.snapshot().arbs
            healthy = [r for r in rows if "book red" not in r.notes and "not loaded" not in r.notes]
            return rows if len(rows) == 2 * len(pairs) and len(healthy) == len(rows) else None

        rows = wait_until(live_rows, timeout=30, what="arb rows for every pair and direction, both books live")
        assert {(r.kalshi_ticker, r.polymarket_token) for r in rows} == \
            {(p.kalshi_ticker, p.polymarket_token_id) for p in pairs}
        assert not any(r.verified for r in rows)  # the shipped sim registry: a human verifies
        assert all("unverified pair" in r.notes for r in rows)
        inverted = {p.kalshi_ticker for p in pairs if p.orientation is Orientation.INVERTED}
        assert inverted == {"CONTROLH-2026-D", "KXSENATENC-26-R", "KXSENATEME-26-D"}
        book = eng.kernel.desk.books.book("polymarket", pairs[0].polymarket_token_id)
        assert book is not None and book.best_bid and book.best_ask  # the mirror's book streamed in
        assert any("Polymarket feed connected" in a.message for a in alerts)
        assert eng.kernel.desk.feed.connected  # the Kalshi feed state is the Kalshi feed's
    finally:
        eng.stop("leave")


def test_an_unreachable_polymarket_is_reported_once_and_nothing_crashes() -> None:
    async def run() -> list[object]:
        posted: list[object] = []
        venue = polyfeed.resolve_polymarket("sim", url="http://127.0.0.1:9", timeout_s=0.2)  # nothing listens
        feed = polyfeed.PolyFeed(venue, ("1",), posted.append, retry_s=0.05)
        task = asyncio.get_running_loop().create_task(feed._main())
        deadline = asyncio.get_running_loop().time() + 20
        while not any(isinstance(p, WorkDone) and isinstance(p.result, FeedNote) for p in posted):
            assert asyncio.get_running_loop().time() < deadline, "no message about the unreachable venue"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # it keeps retrying quietly
        task.cancel()
        return posted

    posted = asyncio.run(run())
    notes = [p.result for p in posted if isinstance(p, WorkDone) and isinstance(p.result, FeedNote)]
    assert len(notes) == 1 and notes[0].level == "error"
    assert "Polymarket (sim: http://127.0.0.1:9) unreachable" in notes[0].message
    assert "no arb rows until it answers" in notes[0].message
    assert not any(isinstance(p, (BookSnapshot, TokensLoaded)) for p in posted)


def test_demo_and_prod_read_polymarkets_public_endpoints_and_sim_needs_a_mirror() -> None:
    prod = polyfeed.polymarket_source(config([]).model_copy(update={"venue": config([]).venue.model_copy(
        update={"name": "prod"})}), None)
    assert prod is not None and prod.clob_url == "https://clob.polymarket.com"
    assert polyfeed.polymarket_source(config([]), None) is None  # sim venue, no mirror URL: arbitrage off
    mirror = polyfeed.polymarket_source(config([]), "http://127.0.0.1:5555")
    assert mirror is not None and mirror.ws_url == "ws://127.0.0.1:5555/ws/market"


def test_a_registry_that_is_not_toml_names_the_line(tmp_path) -> None:
    bad = tmp_path / "pairs.toml"
    bad.write_text('[[pair]]\nkalshi_ticker = "KXA"\norientation = same\n')
    cfg = config(["KXA"])
    cfg = cfg.model_copy(update={"arb": cfg.arb.model_copy(update={"pairs_file": str(bad),
                                                                   "polymarket_url": "http://127.0.0.1:9"})})
    h = Harness()
    assert polyfeed.prepare_arbitrage(cfg, tmp_path, None, h.kernel) == (None, ())
    h.ready(["KXA"])
    [alert] = [e for e in h.events if isinstance(e, Alert) and e.kind == "arb"]
    assert f"{bad}: not valid TOML" in alert.message and "line 3" in alert.message


def test_tokens_the_venue_does_not_know_are_named_and_their_rows_say_why() -> None:
    h = Harness()
    attach_arbs(h.kernel, ArbRegistry((Pair("KXA", "9999888877776666", "0xc", Orientation.SAME, True),), 100,
                                      "pairs.toml"), refresh_ms=0, workers=False)
    h.ready(["KXA"])
    h.step(WorkDone(TAG, TokensLoaded((), ("9999888877776666",)), ""))
    h.book("KXA", bids=[(3800, 500)], asks=[(4000, 500)])
    [alert] = [e for e in h.events if isinstance(e, Alert) and e.kind == "arb"]
    assert alert.level == "error" and "Polymarket does not know 1 token(s)" in alert.message
    assert "9999888877776666"[:16] in alert.message and "pairs.toml" in alert.message
    rows = rows_of(h)
    assert rows["kalshi_yes"].executable_count == 0 and "Polymarket book red: no snapshot" in rows["kalshi_yes"].notes


def test_a_polymarket_book_change_re_runs_the_paired_kalshi_markets_strategies_at_once() -> None:
    seen: list[tuple[str, int]] = []

    class Recorder:
        name, tickers = "recorder", None

        def evaluate(self, view):
            seen.append((view.ticker, view.now_ms))
            return ()

    h, _ = arb_harness()
    h.kernel.strategies.append(Recorder())
    h.book("KXA", bids=[(3800, 500)], asks=[(4000, 500)])
    h.book("KXB", bids=[(3000, 100)], asks=[(3100, 100)])
    seen.clear()
    h.step(BookSnapshot("polymarket", TOKEN, ((5900, 500),), ((6100, 500),)))  # well inside the 250 ms sweep
    assert [t for t, _ in seen] == ["KXA"]  # the paired market only, on the same turn
