"""The Polymarket mirror inside the world, in process and on simulated time (World.step_until).

What a user of the mirror notices: about a third of the election markets have a twin whose prices
follow the same truth as Kalshi's through a different crowd, so the two venues agree on average while
gaps open and close; twins resolve with their Kalshi markets; the two tokens' books are complements;
a seed gives one tape.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import statistics


from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.polymarket.book import PIPS
from console.sim.polymarket.messages import book_message, step_messages
from console.sim.polymarket.mirror import COARSE_TICK, FINE_TICK, Mirror
from console.sim.world.world import World, WorldParams

START_MS = 1_795_359_600_000  # 2026-11-22 10:00 ET
HOUR_MS = 3_600_000
ELECTION_PREFIXES = ("CONTROLS-", "CONTROLH-", "KXSENATE", "KXGOV")


def world_with_mirror(seed: int, *, step_ms: int | None = None,
                      params: WorldParams | None = None) -> tuple[World, Mirror]:
    clock = SimClock(speed=1e-6, start_ms=START_MS)  # stands still unless step_until jumps it
    world = World(Exchange(clock, seed=seed), clock, seed, step_ms=step_ms, params=params)
    mirror = Mirror(world)
    world.step_hooks.append(mirror.step)
    return world, mirror


def kalshi_mid_token0(world: World, mirror_market) -> float | None:
    """The Kalshi twin's mid on the mirror's token-0 side (1 - mid for a complement pair)."""
    ticker = mirror_market.spec.kalshi_ticker
    bid, ask = world.exchange.best_bid(ticker), world.exchange.best_ask(ticker)
    if bid is None or ask is None:
        return None
    mid = (bid[0] + ask[0]) / 2 / PIPS
    return mid if mirror_market.spec.kalshi_yes_index == 0 else 1.0 - mid


def test_about_a_third_of_the_election_markets_are_mirrored_with_every_kind_of_difference() -> None:
    world, mirror = world_with_mirror(3)
    election = [t for t in world.exchange.markets if t.startswith(ELECTION_PREFIXES)]
    assert len(election) == 32
    twins = [ms.spec for ms in mirror.markets]
    assert 0.28 <= len(twins) / len(election) <= 0.4
    assert len({s.kalshi_ticker for s in twins}) == len(twins)
    assert all(s.kalshi_ticker in world.exchange.markets for s in twins)
    assert {s.variant for s in twins} >= {"identity", "named", "inverted", "close_time", "wording", "control"}
    tokens = [t for s in twins for t in s.token_ids]
    assert len(set(tokens)) == len(tokens) and all(t.isdigit() and len(t) > 70 for t in tokens)
    for s in twins:
        kalshi = world.exchange.markets[s.kalshi_ticker]
        if s.variant == "named":
            assert "Yes" not in s.outcomes and s.outcomes[s.kalshi_yes_index] == "Democratic"
        if s.variant == "inverted":  # asks about the other party than its Kalshi twin, so Yes is Kalshi's No
            assert s.kalshi_yes_index == 1 and s.relation == "complement"
            assert ("Republican" in s.question) == (kalshi.ticker.endswith("-D"))
        if s.variant == "close_time":
            assert s.end_ms < kalshi.close_time_ms - 7 * 24 * HOUR_MS
        if s.variant == "wording":
            assert "certified" in s.description and "Media projections will not" in s.description


def test_mirror_and_kalshi_books_track_the_same_truth_and_their_gaps_open_and_close() -> None:
    world, mirror = world_with_mirror(11, step_ms=60_000)
    rows: list[tuple[str, float, float, float]] = []
    for k in range(1, 49):  # a simulated day, sampled every half hour
        world.step_until(START_MS + k * HOUR_MS // 2)
        for ms in mirror.markets:
            bid, ask = ms.book.top(0)
            kalshi = kalshi_mid_token0(world, ms)
            if bid is None or ask is None or kalshi is None:
                continue
            truth = ms.truth_token0(world.truth_p[ms.spec.kalshi_ticker])
            rows.append((ms.spec.slug, truth, (bid + ask) / 2 / PIPS, kalshi))
    assert len(rows) >= 48 * 10
    truth, poly, kalshi = ([r[i] for r in rows] for i in (1, 2, 3))
    # both venues price the same events (inverted and named twins mapped onto token 0)
    # both crowds carry the polls' full shared error by design (docs/world.md: that is what leaves a careful
    # model its modest edge), so over one simulated day they track the truth clearly but not closely
    assert statistics.correlation(poly, truth) > 0.5
    assert statistics.correlation(kalshi, truth) > 0.5
    assert statistics.correlation(poly, kalshi) > 0.95
    mae_poly = statistics.mean(abs(p - t) for p, t in zip(poly, truth, strict=True))
    mae_kalshi = statistics.mean(abs(k - t) for k, t in zip(kalshi, truth, strict=True))
    assert abs(mae_poly - mae_kalshi) < 0.05, (mae_poly, mae_kalshi)  # neither venue is a window onto the truth
    gaps: dict[str, list[float]] = {}
    for slug, _, p, k in rows:
        gaps.setdefault(slug, []).append(p - k)
    opened_and_closed = [s for s, g in gaps.items() if max(map(abs, g)) >= 0.04 and min(map(abs, g)) <= 0.01]
    assert len(opened_and_closed) >= 4, {s: (round(min(map(abs, g)), 3), round(max(map(abs, g)), 3))
                                         for s, g in gaps.items()}
    assert statistics.median(abs(statistics.mean(g)) for g in gaps.values()) < 0.03  # no standing arb


def test_twins_resolve_with_their_kalshi_markets_and_ticks_go_fine_near_the_result() -> None:
    params = dataclasses.replace(WorldParams(), truth_tick_ms=1_800_000, control_every_ms=3_600_000)
    world, mirror = world_with_mirror(12, step_ms=1_800_000, params=params)
    ticks: list[tuple[str, int, int]] = []
    mirror.publish = lambda ms, changes, t: ticks.append((ms.spec.slug, *changes.tick)) if changes.tick else None
    e = world.election
    world.step_until(max(e.senate_done_ms(), e.house_done_ms()) + 2 * HOUR_MS)
    for ms in mirror.markets:
        kalshi = world.exchange.markets[ms.spec.kalshi_ticker]
        assert kalshi.result in ("yes", "no")
        pays_on_yes = ms.spec.kalshi_yes_index
        assert ms.closed and ms.winner == (pays_on_yes if kalshi.result == "yes" else 1 - pays_on_yes), ms.spec.slug
        assert not ms.book.bids and not ms.book.asks and not ms.book.orders
    assert any(new == FINE_TICK for _, _, new in ticks)  # results near 0 or 1 trade on 0.001 ticks
    assert all(old != new and {old, new} == {COARSE_TICK, FINE_TICK} for _, old, new in ticks)


def test_a_seed_gives_one_mirror_tape() -> None:
    tapes = []
    for seed in (9, 9, 10):
        world, mirror = world_with_mirror(seed)
        world.step_until(START_MS + 4 * 60_000)
        tapes.append(([(t.token_id, t.side, t.price, t.size, t.t_ms) for t in mirror.trades],
                      [(ms.book.bids, ms.book.asks) for ms in mirror.markets]))
    assert len(tapes[0][0]) >= 20
    assert tapes[0] == tapes[1]
    assert tapes[0] != tapes[2]


def test_token_books_are_complements_and_never_crossed() -> None:
    world, mirror = world_with_mirror(5)
    checked = 0
    for k in range(1, 41):
        world.step_until(START_MS + k * 15_000)
        for ms in mirror.markets:
            bids0, asks0 = ms.book.levels(0)
            bids1, asks1 = ms.book.levels(1)
            assert sorted(bids1) == sorted((PIPS - p, c) for p, c in asks0)
            assert sorted(asks1) == sorted((PIPS - p, c) for p, c in bids0)
            if bids0 and asks0:
                assert bids0[-1][0] < asks0[-1][0]  # best last: the best bid stays under the best ask
                checked += 1
            assert all(p % ms.book.tick == 0 and 0 < p < PIPS for p, _ in bids0 + asks0)
    assert checked >= 40 * len(mirror.markets) * 0.9


def _recipe_hash(book: dict, market: str, asset: str, ts: str, tick: str, ltp: str, neg_risk: bool) -> str:
    """An independent copy of polymarket-api.md 4.1 (bids ascending, asks descending, exact strings)."""
    bids = [{"price": p, "size": s} for _, p, s in sorted(book["BUY"].values())]
    asks = [{"price": p, "size": s} for _, p, s in sorted(book["SELL"].values(), reverse=True)]
    summary = {"market": market, "asset_id": asset, "timestamp": ts, "hash": "", "bids": bids, "asks": asks,
               "min_order_size": "5", "tick_size": tick, "neg_risk": neg_risk, "last_trade_price": ltp}
    return hashlib.sha1(json.dumps(summary, separators=(",", ":")).encode()).hexdigest()


def test_the_stream_of_books_and_changes_reproduces_every_hash() -> None:
    """Replaying one market's messages (books, then price_change entries) gives each entry's hash."""
    world, mirror = world_with_mirror(6)
    target = mirror.markets[3]
    stream: list[dict] = []

    def capture(ms, changes, t_ms):
        if ms is target:
            stream.extend(step_messages(ms, changes, str(t_ms)))

    mirror.publish = capture
    ts0 = str(world.clock.now_ms())
    stream[:0] = [book_message(target, i, ts0) for i in (0, 1)]
    world.step_until(START_MS + 5 * 60_000)
    books: dict[str, dict] = {}
    meta: dict[str, tuple[str, str]] = {}
    checked = 0
    for msg in stream:
        kind = msg["event_type"]
        if kind == "book":
            book = {"BUY": {}, "SELL": {}}
            for side, levels in (("BUY", msg["bids"]), ("SELL", msg["asks"])):
                for lv in levels:
                    book[side][lv["price"]] = (int(round(float(lv["price"]) * PIPS)), lv["price"], lv["size"])
            books[msg["asset_id"]] = book
            meta[msg["asset_id"]] = (msg["tick_size"], msg["last_trade_price"])
            assert _recipe_hash(book, msg["market"], msg["asset_id"], msg["timestamp"], *meta[msg["asset_id"]],
                                target.spec.neg_risk) == msg["hash"]
        elif kind == "price_change":
            pairs = msg["price_changes"]
            assert len(pairs) % 2 == 0
            for yes, no in zip(pairs[::2], pairs[1::2], strict=True):  # YES/NO pairs: p and 1 - p, opposite sides
                assert yes["asset_id"] == target.spec.token_ids[0] and no["asset_id"] == target.spec.token_ids[1]
                assert round(float(yes["price"]) + float(no["price"]), 4) == 1.0 and yes["size"] == no["size"]
                assert {yes["side"], no["side"]} == {"BUY", "SELL"}
            for entry in pairs:
                book = books[entry["asset_id"]]
                if entry["size"] == "0":
                    book[entry["side"]].pop(entry["price"], None)
                else:
                    book[entry["side"]][entry["price"]] = (int(round(float(entry["price"]) * PIPS)), entry["price"],
                                                           entry["size"])
                assert _recipe_hash(book, msg["market"], entry["asset_id"], msg["timestamp"],
                                    *meta[entry["asset_id"]], target.spec.neg_risk) == entry["hash"]
                checked += 1
        elif kind == "last_trade_price":
            tick, _ = meta[msg["asset_id"]]
            meta[msg["asset_id"]] = (tick, msg["price"])
    assert checked >= 50
