"""Book: incremental best == brute force after random changes, snapshot/delta round trips, exact NO mirror,
and refusals (off-grid, negative) that leave the book unchanged but marked damaged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.book import MAX_LEVEL_COUNT, Book, BookInconsistent
from console.domain.grid import STRUCTURES, OffGridPrice, PriceGrid
from console.domain.side import Side

GRIDS = [PriceGrid.for_structure(name) for name in ("linear_cent", "deci_cent", "tapered_deci_cent",
                                                   "center_deci_edge_centi_cent")]


def brute_best(book: Book, side: Side) -> tuple[int, int] | None:
    levels = book.levels(side)
    if not levels:
        return None
    return levels[-1] if side is Side.BID else levels[0]


@st.composite
def grid_and_ops(draw, max_ops: int = 300):
    grid = draw(st.sampled_from(GRIDS))
    n = len(grid)
    # concentrate activity on a few levels so levels empty out and the best has to be re-scanned
    hot = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8))
    ops = draw(st.lists(st.tuples(st.sampled_from([Side.BID, Side.ASK]), st.sampled_from(hot),
                                  st.integers(-500, 500)), max_size=max_ops))
    return grid, [(side, grid.prices[i], delta) for side, i, delta in ops]


@settings(max_examples=150, deadline=None)
@given(grid_and_ops())
def test_incremental_best_matches_brute_force_after_random_deltas(case) -> None:
    grid, ops = case
    book = Book(grid, "T")
    model: dict[tuple[Side, int], int] = {}
    for side, price, delta in ops:
        before = model.get((side, price), 0)
        if before + delta < 0:
            with pytest.raises(BookInconsistent):
                book.apply_delta(side, price, delta)
            assert book.count_at(side, price) == before  # refused: nothing changed
            continue
        assert book.apply_delta(side, price, delta) == before + delta
        model[(side, price)] = before + delta
        assert book.best_bid == brute_best(book, Side.BID)
        assert book.best_ask == brute_best(book, Side.ASK)
    for side in Side:
        assert book.levels(side) == sorted((p, c) for (s, p), c in model.items() if s is side and c)


@settings(max_examples=100, deadline=None)
@given(grid_and_ops(max_ops=120), st.data())
def test_snapshot_then_deltas_round_trip(case, data) -> None:
    """A book rebuilt from a snapshot of another equals it; and set_level reproduces delta results."""
    grid, ops = case
    book = Book(grid, "T")
    for side, price, delta in ops:
        try:
            book.apply_delta(side, price, delta)
        except BookInconsistent:
            pass
    copy = Book(grid, "T")
    copy.apply_delta(Side.BID, grid.prices[0], 7)  # stale content the snapshot must wipe
    copy.apply_snapshot(book.levels(Side.BID), book.levels(Side.ASK))
    assert copy.same_levels(book)
    assert (copy.best_bid, copy.best_ask) == (book.best_bid, book.best_ask)
    assert not copy.damaged

    absolute = Book(grid, "T")
    for side in Side:
        for price, count in book.levels(side):
            absolute.set_level(side, price, count)
    assert absolute.same_levels(book)
    # removing every level one by one with negative deltas leaves an empty book
    for side in Side:
        for price, count in data.draw(st.permutations(book.levels(side))):
            book.apply_delta(side, price, -count)
    assert book.best_bid is None and book.best_ask is None and book.levels(Side.BID) == []


@settings(max_examples=100, deadline=None)
@given(grid_and_ops(max_ops=100), st.integers(1, 12))
def test_no_view_is_the_exact_mirror(case, n) -> None:
    grid, ops = case
    book = Book(grid, "T")
    for side, price, delta in ops:
        if book.count_at(side, price) + delta >= 0:
            book.apply_delta(side, price, delta)
    no = book.no_view()
    assert no.levels(Side.BID) == sorted((10000 - p, c) for p, c in book.levels(Side.ASK))
    assert no.levels(Side.ASK) == sorted((10000 - p, c) for p, c in book.levels(Side.BID))
    assert no.depth(Side.BID, n) == [(10000 - p, c) for p, c in book.depth(Side.ASK, n)]
    assert no.best_bid == (None if book.best_ask is None else (10000 - book.best_ask[0], book.best_ask[1]))
    assert no.best_ask == (None if book.best_bid is None else (10000 - book.best_bid[0], book.best_bid[1]))
    assert no.spread == book.spread
    if book.mid_x2 is not None:
        assert no.mid_x2 == 20000 - book.mid_x2
        assert no.microprice_probability == pytest.approx(1 - book.microprice_probability)


def test_touch_figures_on_a_small_book() -> None:
    book = Book(PriceGrid.for_structure("linear_cent"), "KXTEST")
    book.apply_snapshot([(4000, 500), (4100, 1000)], [(4300, 3000), (4500, 100)])
    assert book.best_bid == (4100, 1000) and book.best_ask == (4300, 3000)
    assert book.spread == 200 and book.mid_x2 == 8400
    assert book.size_at_touch(Side.BID) == 1000 and book.size_at_touch(Side.ASK) == 3000
    # more size on the ask pushes the microprice toward the bid: (0.41*30 + 0.43*10) / 40
    assert book.microprice_probability == pytest.approx(0.415)
    assert book.depth(Side.BID, 5) == [(4100, 1000), (4000, 500)]
    assert book.depth(Side.ASK, 1) == [(4300, 3000)]
    no = book.no_view()
    assert no.best_bid == (5700, 3000) and no.best_ask == (5900, 1000)
    # a delta at a better price moves the best at once; emptying it falls back to the next level
    book.apply_delta(Side.BID, 4200, 200)
    assert book.best_bid == (4200, 200)
    book.apply_delta(Side.BID, 4200, -200)
    book.apply_delta(Side.BID, 4100, -1000)
    assert book.best_bid == (4000, 500)


def test_refusals_leave_the_book_unchanged_and_mark_it_damaged() -> None:
    book = Book(PriceGrid.for_structure("linear_cent"), "KXTEST")
    book.apply_snapshot([(4000, 500)], [])
    version = book.version
    with pytest.raises(BookInconsistent, match="below zero"):
        book.apply_delta(Side.BID, 4000, -501)
    with pytest.raises(OffGridPrice):
        book.apply_delta(Side.BID, 4050, 100)
    with pytest.raises(BookInconsistent, match="count limit"):
        book.apply_delta(Side.ASK, 6000, MAX_LEVEL_COUNT + 1)
    assert book.levels(Side.BID) == [(4000, 500)] and book.levels(Side.ASK) == []
    assert book.damaged and book.version == version
    book.apply_snapshot([(4000, 1)], [])
    assert not book.damaged


def test_bad_snapshots_are_refused_whole() -> None:
    book = Book(PriceGrid.for_structure("linear_cent"), "KXTEST")
    book.apply_snapshot([(4000, 500)], [(4200, 100)])
    with pytest.raises(BookInconsistent, match="listed twice"):
        book.apply_snapshot([(4000, 1), (4000, 2)], [])
    with pytest.raises(BookInconsistent, match="count 0"):
        book.apply_snapshot([(4000, 0)], [])
    with pytest.raises(OffGridPrice):
        book.apply_snapshot([(4001, 5)], [])
    assert book.levels(Side.BID) == [(4000, 500)] and book.levels(Side.ASK) == [(4200, 100)]


def test_every_structure_has_a_working_book() -> None:
    for name in STRUCTURES:
        grid = PriceGrid.for_structure(name)
        book = Book(grid, name)
        book.apply_delta(Side.BID, grid.min_price, 1)
        book.apply_delta(Side.ASK, grid.max_price, 1)
        assert book.spread == grid.max_price - grid.min_price
