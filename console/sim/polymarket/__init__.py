"""The simulator's Polymarket mirror (issue 3): a Polymarket-shaped public API for about a third of the
world's election markets, on its own port, with its own order books and crowd.

    from console.sim.polymarket import install_polymarket
    service = install_polymarket(app, host="127.0.0.1", port=0)   # before the simulator's app starts

Module map: universe (which markets, how pairs differ), mirror (stepping: crowd, tick sizes,
resolution), agents (makers and a noise taker), book (one book per market, both tokens' views),
wire (number strings and the book hash), messages (WS payloads), ws (the market channel), gamma
and clob (REST), service (shared state, attaching to the world), app (the port). docs/sim-polymarket.md
describes the API and the processes.
"""

from console.sim.polymarket.app import build_polymarket_app, install_polymarket
from console.sim.polymarket.mirror import Mirror, MirrorParams
from console.sim.polymarket.service import EXTRA_KEY, PolyService

__all__ = ["EXTRA_KEY", "Mirror", "MirrorParams", "PolyService", "build_polymarket_app", "install_polymarket"]
