"""The operator's configuration: `config.toml` loaded into frozen, strict pydantic models.

Unknown keys are errors (a typo must not silently fall back to a default). A bad value is reported
with its dotted key, the value given and what is expected, e.g.
`config.toml: [risk] max_contracts_per_market = -5: must be greater than 0`.
Secrets never live here: keys come from the environment or a key-file path (`[venue] key_file`).
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigError(ValueError):
    """config.toml could not be read or a value is invalid; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveInt = Annotated[int, Field(gt=0)]
Fraction01 = Annotated[float, Field(gt=0, le=1)]


class VenueConfig(_Section):
    #: sim = the built-in exchange (started as a child process); demo / prod = Kalshi's hosts
    name: Literal["sim", "demo", "prod"] = "sim"
    #: environment variables that hold the Kalshi API key id and the private key path
    key_id_env: str = "KALSHI_API_KEY_ID"
    key_file_env: str = "KALSHI_PRIVATE_KEY_PATH"
    #: or a key file path given here (the file, never the key itself)
    key_file: str | None = None
    #: production starts in paper mode unless this is true
    live_trading: bool = False
    request_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0


class SimConfig(_Section):
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    seed: int = 7
    speed: Annotated[float, Field(gt=0, le=10_000)] = 1.0
    accounts: Annotated[int, Field(ge=0, le=64)] = 2
    balance_dollars: Annotated[int, Field(gt=0)] = 10_000
    #: the living market world (elections, weather, CPI, synthetic traders); off = an empty exchange
    world: bool = True
    #: a handful of static demo markets with empty books (for trying the API by hand)
    demo_markets: bool = False


class RiskConfig(_Section):
    max_contracts_per_market: PositiveInt = 500
    max_notional_per_market_dollars: PositiveInt = 1_000
    max_bankroll_share_per_market: Fraction01 = 0.05
    max_category_share: Fraction01 = 0.40
    max_total_exposure_dollars: PositiveInt = 5_000
    daily_loss_limit_dollars: PositiveInt = 250
    max_drawdown_dollars: PositiveInt = 400
    fat_finger_cents: Annotated[int, Field(gt=0, le=100)] = 10
    max_orders_per_minute: PositiveInt = 120
    proposal_ttl_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    #: worst loss over an event's outcomes, as a share of the bankroll
    max_event_loss_share: Fraction01 = 0.10
    #: breakers: venue errors over a sliding window (at least `venue_error_min_requests` requests)
    max_venue_error_rate: Fraction01 = 0.05
    venue_error_window_s: PositiveInt = 300
    venue_error_min_requests: PositiveInt = 20
    #: breakers: share of marketable orders that got any fill, over a sliding window
    min_fill_rate: Fraction01 = 0.10
    fill_rate_window_s: PositiveInt = 600
    fill_rate_min_orders: PositiveInt = 10
    #: breakers: no market data for this long, or the kernel loop not turning for this long
    feed_silence_s: PositiveInt = 30
    kernel_stall_ms: PositiveInt = 2_000


class UiConfig(_Section):
    theme: Literal["dark", "light", "ansi", "colorblind"] = "dark"
    #: exit policy when quitting: leave resting orders, cancel them all, or flatten everything
    exit_policy: Literal["leave", "cancel", "flatten"] = "cancel"
    #: key remapping: binding id -> keys, e.g. toggle_auto = "A"
    keys: dict[str, str] = Field(default_factory=dict)



class NwsCity(_Section):
    """One weather series priced from an NWS gridpoint forecast (demo / prod; api.weather.gov)."""

    office: str
    grid_x: int
    grid_y: int
    timezone: str = "America/New_York"
    name: str = ""


#: partisan leans (points of D-R margin, relative to the nation) for the fundamentals prior: the built-in
#: world's published base margins (docs/world.md); replace them with your own for real races
DEFAULT_LEANS: dict[str, float] = {
    "SEN-GA": 1.0, "SEN-MI": 1.5, "SEN-NH": 3.0, "SEN-MN": 4.0, "SEN-NC": -0.5, "SEN-ME": -0.5, "SEN-OH": -2.5,
    "SEN-IA": -3.0, "SEN-TX": -4.0, "SEN-AK": -4.0, "GOV-AZ": 0.5, "GOV-WI": 0.0, "GOV-GA": -2.5, "GOV-NV": -1.0,
}


class ModelsConfig(_Section):
    """The model runner (docs/models.md, "The model runner"): data in, fair values out."""

    #: off: no fair values (model strategies then have nothing to trade)
    enabled: bool = True
    #: read the data and recompute every market's fair value this often
    refresh_s: Annotated[float, Field(ge=1, le=3600)] = 30.0
    #: per data request
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    #: demo / prod: polls from a CSV file (docs/polls-csv.md); empty = none
    polls_csv: str = ""
    #: demo / prod: weather series priced from NWS forecasts, by series ticker; api.weather.gov asks
    #: for a User-Agent that names you
    nws_cities: dict[str, NwsCity] = Field(default_factory=dict)
    nws_user_agent: str = "edgedesk (operator contact not set)"
    #: demo / prod: series to read besides those the data implies (CONTROLS, CONTROLH, each polled race's
    #: KXSENATE{ST} / SENATE{ST} / KXGOV{ST} / GOV{ST}, the NWS cities' series); the sim lists every open event
    series: list[str] = Field(default_factory=list)
    #: election day (a TOML date, 2026-11-03); unset = the day before the race markets' expected expiration
    election_day: dt.date | None = None
    #: Senate: Democratic seats outside the modelled races, and the seats control takes
    senate_seats_fixed: Annotated[int, Field(ge=0, le=100)] = 43
    senate_seats_needed: Annotated[int, Field(ge=1, le=100)] = 51
    #: House (no district data): the national D-R margin at which control is a coin flip, the
    #: House-specific error on top of the national vote (generic ballot), and its drift per sqrt(day)
    house_tipping_margin: float = 0.0
    house_sd: Annotated[float, Field(gt=0, le=20)] = 1.5
    house_drift_sd: Annotated[float, Field(ge=0, le=5)] = 0.3
    #: fundamentals prior (a lean plus the national environment) for races with at most `prior_max_polls`
    #: polls: alone for an unpolled race, blended by precision with few polls (docs/models.md)
    leans: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_LEANS))
    lean_sd: Annotated[float, Field(gt=0, le=20)] = 3.0
    prior_max_polls: Annotated[int, Field(ge=0)] = 0

#: the strategies config.toml ships (docs/strategies.md); a [engine.strategies.*] table in the file replaces them
DEFAULT_STRATEGIES: dict[str, dict[str, Any]] = {
    "directional": {
        "kind": "directional", "enabled": True, "min_edge": 300,
        "min_edge_by_category": {"elections": 300, "weather": 400, "economics": 400},
        "kelly_multiplier": 0.25, "max_order": 1000, "max_position": 2000, "max_spread": 800,
        "min_shrink": 0.3, "cooling_off_s": 900, "election_loss_share": 0.05,
        "exit_before_close_s": 3600, "exit_within": 100, "min_interval_ms": 1000,
    },
}


class EngineConfig(_Section):
    #: markets to watch (books, strategies); empty = the venue's open markets, up to max_watch
    watch: list[str] = Field(default_factory=list)
    max_watch: PositiveInt = 50
    #: the mode the desk starts in (headless --auto overrides it)
    start_mode: Literal["manual", "auto"] = "manual"
    #: Kalshi order group every bot order joins: the venue cancels them all once bot orders match this
    #: many contracts within 15 s (a venue-side cap that works even if the desk is gone)
    bot_group_contracts: PositiveInt = 1_000
    #: reconcile orders, fills and positions with the venue this often (also at start and on reconnect)
    reconcile_interval_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    #: snapshots published at most this many times a second
    snapshot_hz: Annotated[float, Field(gt=0, le=100)] = 20.0
    #: flatten gives up after this many rounds or seconds and reports what is left
    flatten_max_rounds: PositiveInt = 10
    flatten_timeout_s: Annotated[float, Field(gt=0, le=600)] = 15.0
    #: journal file (default: journal.sqlite in the data directory); forward-test log beside it
    journal_path: str | None = None
    forward_test_log: bool = True
    #: headless: a status line every this many seconds
    status_interval_s: Annotated[float, Field(gt=0, le=3600)] = 5.0
    #: a realized loss bigger than this share of bankroll starts the model strategies' cooling-off period
    large_loss_share: Annotated[float, Field(gt=0, le=1)] = 0.02
    #: strategies by name: {kind = "directional" | "threshold_taker" | "quoter" | ..., enabled, ...parameters}
    #: (docs/strategies.md); the shipped config.toml lists these defaults
    strategies: dict[str, dict[str, Any]] = Field(default_factory=lambda: copy.deepcopy(DEFAULT_STRATEGIES))


class ArbConfig(_Section):
    """Cross-venue arbitrage (docs/strategies.md, "Cross-venue arbitrage")."""

    #: off: no pair registry, no Polymarket feed, no arb rows
    enabled: bool = True
    #: the pair registry (console/domain/pairs.py); empty = pairs.toml in the data directory if there is
    #: one, else (with the built-in exchange) the shipped pairs.sim.toml
    pairs_file: str = ""
    #: where Polymarket books come from: auto = the built-in exchange's mirror for [venue] name = "sim",
    #: Polymarket's public endpoints for demo / prod
    polymarket: Literal["auto", "sim", "prod"] = "auto"
    #: a mirror that is already running (its root URL as `edgedesk sim` prints it); empty = the child's
    polymarket_url: str = ""
    #: net edge after both venues' fees, pips ($0.0001) per contract, for a row to count as an
    #: opportunity (listed first); also the default threshold of `kind = "arb"` strategies
    min_net_edge: Annotated[int, Field(ge=0, le=10_000)] = 100
    #: a pair's rows are recomputed when one of its two books changed, at most this often
    refresh_ms: Annotated[int, Field(ge=0, le=60_000)] = 250


class DeskConfig(_Section):
    venue: VenueConfig = VenueConfig()
    sim: SimConfig = SimConfig()
    risk: RiskConfig = RiskConfig()
    ui: UiConfig = UiConfig()
    engine: EngineConfig = EngineConfig()
    models: ModelsConfig = ModelsConfig()
    arb: ArbConfig = ArbConfig()


def _describe(error: dict) -> str:
    loc = [str(part) for part in error["loc"]]
    section, key = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("", loc[0] if loc else "?")
    where = f"[{section}] {key}" if section else key
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key (check the spelling; see config.toml in the repository for every key)"
    value = error.get("input")
    msg = error["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    return f"{where} = {value!r}: {msg}"


def parse_config(text: str, source: str = "config.toml") -> DeskConfig:
    """Parse TOML text into a DeskConfig or raise ConfigError naming every bad key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return DeskConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def load_config(path: str | Path | None = None) -> DeskConfig:
    """Load config from `path`, else ./config.toml if present, else the defaults."""
    if path is None:
        candidate = Path("config.toml")
        if not candidate.exists():
            return DeskConfig()
        path = candidate
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    return parse_config(text, str(path))
