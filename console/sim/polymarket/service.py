"""`PolyService`: what the mirror's handlers share (the mirror, once the world exists, and the WS hub).

The mirror needs the world's truth, and the world may be installed after the mirror's server is
built; `attach(world)` creates the `Mirror` then and hooks it into `World.step_hooks`. Until then the
market routes answer 503 `{"error": "..."}`. The service lives at `app[SERVICE]` on the mirror's app
and at `state.extras["polymarket"]` on the simulator's state (for the fault layer and tests).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from console.sim.polymarket.mirror import Mirror, MirrorParams
from console.sim.polymarket.ws import PolyHub, PolyWsSettings

log = logging.getLogger(__name__)

EXTRA_KEY = "polymarket"


@dataclass(eq=False)
class PolyService:
    state: Any  # SimState
    hub: PolyHub = field(default_factory=lambda: PolyHub(PolyWsSettings()))
    mirror: Mirror | None = None
    params: MirrorParams | None = None
    port: int | None = None
    url: str | None = None
    step_failures: int = 0

    def attach(self, world: Any) -> Mirror:
        """Build the mirror on `world` and step it after every world step (idempotent)."""
        if self.mirror is not None:
            return self.mirror
        seed = self.state.extras.get("seed") if self.state is not None else None
        mirror = Mirror(world, seed=getattr(world, "seed", seed), params=self.params)
        mirror.publish = self.hub.publish
        self.hub.mirror = mirror
        self.mirror = mirror
        world.step_hooks.append(self._step)
        log.info("polymarket mirror: %d markets mirrored", len(mirror.markets))
        return mirror

    def _step(self, t_ms: int) -> None:
        assert self.mirror is not None
        try:
            self.mirror.step(t_ms)
            self.step_failures = 0
        except Exception:
            # the world must keep running whatever the mirror does; log once, then every 100th
            self.step_failures += 1
            if self.step_failures == 1 or self.step_failures % 100 == 0:
                log.exception("polymarket mirror step failed (%d in a row)", self.step_failures)


SERVICE = web.AppKey("edgedesk_polymarket_service", PolyService)


def mirror_of(request: web.Request) -> Mirror:
    mirror = request.app[SERVICE].mirror
    if mirror is None:
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"error": "the simulated world is not running yet; the mirror has no markets"}),
            content_type="application/json")
    return mirror
