"""Command palette (ctrl+p) providers: markets, strategies and the desk's themes.

Actions are in the palette too, as system commands from `EdgeDeskApp.get_system_commands`, so every
key has a searchable name. Picking a market selects it (and shows its book); picking a strategy shows
only its proposals; picking a theme switches to it.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.tui.themes import THEME_NAMES


class MarketsProvider(Provider):
    def _items(self):
        desk = self.app.desk
        for m in self.app.control.snapshot().markets:
            yield f"market {m.ticker}", f"{m.title} [{m.venue}, {m.category}]", partial(desk.select_market, m.ticker)

    async def discover(self) -> Hits:
        for name, help_text, callback in list(self._items())[:20]:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._items():
            score = max(matcher.match(name), matcher.match(help_text))
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


class StrategiesProvider(Provider):
    def _items(self):
        snap = self.app.control.snapshot()
        names = sorted({p.strategy for p in snap.proposals} | {e.model for e in snap.edges})
        desk = self.app.desk
        yield "strategy: all", "show proposals from every strategy", partial(desk.set_strategy_filter, None)
        for name in names:
            yield f"strategy: {name}", f"show only {name}'s proposals", partial(desk.set_strategy_filter, name)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._items():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._items():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


class DeskThemesProvider(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name in THEME_NAMES:
            title = f"theme: {name}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(setattr, self.app, "theme", name), text=title,
                          help="switch the desk's colours")

    async def discover(self) -> Hits:
        for name in THEME_NAMES:
            yield DiscoveryHit(f"theme: {name}", partial(setattr, self.app, "theme", name),
                               help="switch the desk's colours")
