"""What the simulator's HTTP and WebSocket handlers share, reached through `app[STATE]`.

Handlers run on the server's one asyncio loop and call the single-threaded exchange core directly.
The auth middleware puts the caller's account id at `request[ACCOUNT_ID]` for private endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from console.sim.clock import SimClock

if TYPE_CHECKING:
    from console.sim.exchange import Exchange


@dataclass
class SimState:
    exchange: Exchange
    clock: SimClock
    #: api key id -> (account_id, public key object); filled by console.sim.keys at start-up
    keys: dict[str, tuple[str, Any]] = field(default_factory=dict)
    #: free-form extras owned by other modules (rate limiters, faults, world), keyed by module name
    extras: dict[str, Any] = field(default_factory=dict)


STATE = web.AppKey("edgedesk_sim_state", SimState)
ACCOUNT_ID = web.RequestKey("edgedesk_account_id", str)
API_PREFIX = "/trade-api/v2"
WS_PATH = "/trade-api/ws/v2"
