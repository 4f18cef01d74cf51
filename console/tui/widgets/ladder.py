"""The order-book ladder: a Line API widget redrawn from `BookTop` snapshots.

Asks sit above the spread line (best ask nearest it), bids below (best bid nearest it), each level with
its price, size and a depth bar scaled to the largest level shown (one set of columns for both sides, so
the ladder stays readable in a 36-column pane; colour and the spread line tell the sides apart). The
YES view shows the canonical book; the NO view derives NO prices for display only (a YES ask at p is a
NO bid at 1 - p, so the sides swap).
The desk's own resting orders are marked with a diamond and their remaining size beside their level.
`show()` swaps in the new rows and repaints only the lines whose content changed (a tick that moves
two levels repaints two lines, not the ladder); `render_line` builds one `Strip` per such line, so a
burst of snapshots costs at most one cheap redraw per frame and never blocks keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.control import BookTop
from console.tui import format as fmt


@dataclass(frozen=True, slots=True)
class _Level:
    side: str  # "bid" | "ask" on the view's own scale
    price: int  # view-scale price
    size: int
    own: int  # our resting remaining at this level (0 = none)


def view_levels(book: BookTop, no_view: bool) -> tuple[list[_Level], list[_Level], int | None]:
    """(bids best first, asks best first, last price) on the chosen scale."""
    own_bid: dict[int, int] = {}
    own_ask: dict[int, int] = {}
    for side, yes_price, remaining in book.own_orders:
        target = own_bid if side is Side.BID else own_ask
        target[yes_price] = target.get(yes_price, 0) + remaining
    bids = [_Level("bid", p, c, own_bid.get(p, 0)) for p, c in book.bids]
    asks = [_Level("ask", p, c, own_ask.get(p, 0)) for p, c in book.asks]
    if not no_view:
        return bids, asks, book.last_price
    # NO view: a YES ask at p is a NO bid at 1 - p, a YES bid a NO ask; order stays best first
    no_bids = [_Level("bid", PRICE_MAX - lv.price, lv.size, lv.own) for lv in asks]
    no_asks = [_Level("ask", PRICE_MAX - lv.price, lv.size, lv.own) for lv in bids]
    last = None if book.last_price is None else PRICE_MAX - book.last_price
    return no_bids, no_asks, last


class OrderBookLadder(Widget, can_focus=False):
    """A depth ladder for one market; `show(book)` from the UI thread's snapshot tick."""

    COMPONENT_CLASSES = {
        "ladder--bid", "ladder--ask", "ladder--bid-bar", "ladder--ask-bar", "ladder--own", "ladder--header",
        "ladder--spread",
    }
    DEFAULT_CSS = """
    OrderBookLadder { height: 1fr; }
    OrderBookLadder > .ladder--bid { color: $bid; }
    OrderBookLadder > .ladder--ask { color: $ask; }
    OrderBookLadder > .ladder--bid-bar { color: $bid; }
    OrderBookLadder > .ladder--ask-bar { color: $ask; }
    OrderBookLadder > .ladder--own { color: $accent; text-style: bold; }
    OrderBookLadder > .ladder--header { color: $text-muted; }
    OrderBookLadder > .ladder--spread { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.book: BookTop | None = None
        self.no_view = False
        self._bids: list[_Level] = []
        self._asks: list[_Level] = []
        self._last: int | None = None
        self._max_size = 1
        self._lines: list[tuple] | None = None  # the line specs on screen (None: repaint everything)
        self._styles: dict[str, Style] = {}

    def show(self, book: BookTop | None, *, no_view: bool | None = None) -> None:
        """Swap in a new book (or the same one in the other view) and repaint the lines that changed."""
        view = self.no_view if no_view is None else no_view
        if book is self.book and view == self.no_view:
            return
        old_book, old_view = self.book, self.no_view
        self.book, self.no_view = book, view
        if book is None:
            self._bids, self._asks, self._last = [], [], None
        else:
            self._bids, self._asks, self._last = view_levels(book, view)
        self._max_size = max([lv.size for lv in self._bids + self._asks] + [1])
        title = self._title()
        if title != self.border_title:
            self.border_title = title
        if old_book is None or book is None or old_view != view or old_book.ticker != book.ticker:
            self._lines = None
            self.refresh()
            return
        self._refresh_changed_lines()

    def _line_specs(self) -> list[tuple]:
        """What each line shows, as comparable data: a line is repainted only when its spec changes."""
        book = self.book
        if book is None:
            return []
        n = self._depth_rows()
        max_size = self._max_size
        specs: list[tuple] = [("header", self._last, book.health, book.health_reason), ("columns",)]
        for y in range(2, n + 2):
            index = n + 1 - y
            level = self._asks[index] if index < len(self._asks) else None
            specs.append(("level", level, max_size if level else 0))
        best_bid = self._bids[0].price if self._bids else None
        best_ask = self._asks[0].price if self._asks else None
        specs.append(("spread", best_bid, best_ask))
        for index in range(max(0, self.size.height - n - 3)):
            level = self._bids[index] if index < len(self._bids) else None
            specs.append(("level", level, max_size if level else 0))
        return specs

    def _refresh_changed_lines(self) -> None:
        specs = self._line_specs()
        old = self._lines
        self._lines = specs
        if old is None or len(old) != len(specs):
            self.refresh()
            return
        width = self.size.width
        regions = [Region(0, y, width, 1) for y, (a, b) in enumerate(zip(old, specs, strict=True)) if a != b]
        if regions:
            self.refresh(*regions)

    def on_resize(self) -> None:
        self._lines = None
        self.refresh()

    def on_mount(self) -> None:
        # the signal comes after the app re-applied its CSS (a `theme` watcher would run before, with the
        # old theme's component styles)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme=None) -> None:
        self._styles.clear()
        self.refresh()

    def _style(self, component: str):
        # component styles are looked up once per theme, not three times per line per frame
        style = self._styles.get(component)
        if style is None:
            style = self._styles[component] = self.get_component_rich_style(component)
        return style

    def _title(self) -> str:
        if self.book is None:
            return "Book"
        return f"Book {self.book.ticker} ({'NO' if self.no_view else 'YES'} view)"

    # --- drawing ----------------------------------------------------------------------------------

    def _depth_rows(self) -> int:
        return max(0, (self.size.height - 3) // 2)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if self.book is None:
            text = "no market selected" if y == 0 else ""
            return Strip([Segment(text.ljust(width)[:width], base)], width)
        n = self._depth_rows()
        if y == 0:
            return self._header(width)
        if y == 1:
            return self._columns(width)
        if 2 <= y <= n + 1:
            index = n + 1 - y  # best ask is on the last ask row, next to the spread line
            level = self._asks[index] if index < len(self._asks) else None
            return self._row(level, width)
        if y == n + 2:
            return self._spread_line(width)
        index = y - n - 3
        level = self._bids[index] if 0 <= index < len(self._bids) else None
        return self._row(level, width)

    def _widths(self, width: int) -> tuple[int, int, int, int]:
        own_w, price_w, size_w = 7, 7, 9
        bar_w = max(0, width - own_w - price_w - size_w - 2)
        return own_w, price_w, size_w, bar_w

    def _header(self, width: int) -> Strip:
        style = self._style("ladder--header")
        book = self.book
        assert book is not None
        scale = "NO" if self.no_view else "YES"
        health = f"{fmt.health_badge(book.health)} {book.health}"
        text = f" {scale} last {fmt.price(self._last)}  {health}"
        if book.health != "green" and book.health_reason:
            text += f": {book.health_reason}"
        return Strip([Segment(text.ljust(width)[:width], style)], width)

    def _columns(self, width: int) -> Strip:
        own_w, price_w, size_w, _ = self._widths(width)
        text = "mine".ljust(own_w) + "price".rjust(price_w) + "size".rjust(size_w) + "  depth"
        return Strip([Segment(text.ljust(width)[:width], self._style("ladder--header"))], width)

    def _spread_line(self, width: int) -> Strip:
        style = self._style("ladder--spread")
        best_bid = self._bids[0].price if self._bids else None
        best_ask = self._asks[0].price if self._asks else None
        label = f" spread {fmt.spread(best_bid, best_ask)} "
        return Strip([Segment(label.center(width, "─")[:width], style)], width)

    def _row(self, level: _Level | None, width: int) -> Strip:
        """[own][price][size] [depth bar]: asks and bids share columns, told apart by colour and by
        their side of the spread line."""
        base = self.rich_style
        if level is None:
            return Strip.blank(width, base)
        own_w, price_w, size_w, bar_w = self._widths(width)
        is_bid = level.side == "bid"
        colour = self._style("ladder--bid" if is_bid else "ladder--ask")
        bar_style = self._style("ladder--bid-bar" if is_bid else "ladder--ask-bar")
        own_style = self._style("ladder--own")
        bar_len = 0 if not bar_w else max(1, level.size * bar_w // self._max_size)
        own = f"◆{fmt.count(level.own)}"[:own_w - 1] if level.own else ""
        segments = [
            Segment(own.ljust(own_w), own_style),
            Segment(fmt.price(level.price).rjust(price_w), colour),
            Segment(fmt.count(level.size).rjust(size_w) + "  ", colour),
            Segment("█" * bar_len, bar_style),
        ]
        return Strip(segments).adjust_cell_length(width, base)
