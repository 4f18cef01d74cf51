"""`edgedesk doctor`: can the desk trade on this Kalshi host with this key? Check, then say exactly why not.

Checks, in order (later ones are skipped when an earlier one makes them meaningless):

1. reach: `GET /exchange/status` answers (else: nothing listens there; for the built-in exchange, how
   to start it);
2. clock: the venue's `Date` header against this machine's clock (signatures carry a timestamp);
3. key: the private key loads, and a signed `GET /portfolio/balance` is accepted;
4. fields: every field the desk relies on is present and exactly readable in the answers of
   `GET /markets`, `GET /markets/{ticker}/orderbook` and `GET /portfolio/balance`;
5. rate limits: `GET /account/limits` (the tier the desk sizes its buckets from);
6. websocket: a signed handshake and an order-book subscription that delivers its snapshot.

A failed check is a problem; the command lists them all and exits 1.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.venues.errors import AuthError, DecodeError, VenueError, VenueUnavailable
from console.venues.events import BookSnapshot
from console.venues.kalshi import codec
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi.http import RetryPolicy
from console.venues.kalshi.rest import KalshiRest
from console.venues.kalshi.venue import SIM_DEFAULT_URL, KalshiVenue
from console.venues.kalshi.wire import convert

SKEW_WARN_MS = 2_000
SKEW_FAIL_MS = 10_000
QUICK = RetryPolicy(base_s=0.1, cap_s=0.5, max_attempts=2, rate_limit_budget_s=5.0)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False


@dataclass
class DoctorReport:
    venue: KalshiVenue
    checks: list[Check] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str, *, warning: bool = False) -> bool:
        self.checks.append(Check(name, ok, detail, warning))
        return ok


def _dollars(micros: int) -> str:
    sign, (whole, frac) = ("-" if micros < 0 else ""), divmod(abs(micros), 1_000_000)
    return f"{sign}${whole:,}.{frac:06d}"


def not_running_hint(venue: KalshiVenue) -> str:
    if venue.name != "sim":
        return f"nothing answers at {venue.rest_url}; check the network and [venue] name in config.toml"
    port = venue.rest_url.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[-1]
    return (f"nothing answers at {venue.rest_url}. Start the built-in exchange in another terminal with "
            f"`edgedesk sim --port {port}`" + ("" if venue.rest_url == SIM_DEFAULT_URL else
                                              f" and pass --url {venue.rest_url}"))


def _field_problems(raw: Any, kind: type, what: str) -> list[str]:
    """Missing required fields (all of them, by name) or the first unreadable value, for one object."""
    if not isinstance(raw, dict):
        return [f"{what}: expected a JSON object, got {type(raw).__name__}"]
    missing = codec.missing_fields(raw, kind)
    if missing:
        return [f"{what}: missing {', '.join(missing)}"]
    try:
        convert(kind, raw, what)
    except DecodeError as exc:
        return [exc.detail if exc.detail.startswith(what) else f"{what}: {exc.detail}"]
    return []


async def _raw(api: KalshiRest, path: str, params: dict[str, Any] | None = None) -> Any:
    response = await api.http.call("GET", path, params=params)
    try:
        return response.json()
    except ValueError:
        raise DecodeError(f"GET {path}", "the answer is not JSON") from None


async def run_doctor(venue: KalshiVenue, *, ws_timeout_s: float = 5.0) -> DoctorReport:
    report = DoctorReport(venue)
    # reach and public fields unsigned, so a bad key cannot hide whether the venue is there at all
    async with KalshiRest(venue.rest_url, None, timeout_s=venue.timeout_s, policy=QUICK) as public:
        if not await _check_reach(public, report):
            return report
        _check_clock(public, report)
        await _check_fields(public, report)
    if venue.signer is None:
        report.add("key", False, f"no API key configured ({venue.key_source})")
        return report
    async with venue.rest(policy=QUICK) as api:
        if not await _check_key(api, report):
            return report
        problems = _field_problems(await _raw(api, "/portfolio/balance"), r.Balance, "GET /portfolio/balance")
        for problem in problems:
            report.add("fields", False, problem)
        if not problems:
            report.add("fields", True, "the balance carries every field the desk relies on")
        await _check_limits(api, report)
    await _check_ws(venue, report, ws_timeout_s)
    return report


async def _check_reach(api: KalshiRest, report: DoctorReport) -> bool:
    try:
        status = await api.get_exchange_status()
    except VenueUnavailable:
        return report.add("reach", False, not_running_hint(report.venue))
    except VenueError as exc:
        return report.add("reach", False, f"GET /exchange/status failed: {exc}")
    state = "trading" if status.trading_active else ("open, trading paused" if status.exchange_active else "paused")
    return report.add("reach", True, f"{report.venue.name} at {report.venue.rest_url} answers ({state})")


def _check_clock(api: KalshiRest, report: DoctorReport) -> None:
    skew = api.stats.skew_ms
    if skew is None:
        report.add("clock", True, "the venue sent no Date header; skew not measured", warning=True)
        return
    text = f"venue clock - local clock = {skew / 1000:+.1f} s (Date header, 1 s resolution)"
    if abs(skew) > SKEW_FAIL_MS:
        report.add("clock", False, f"{text}: signed requests will be refused as stale; sync this machine's clock (NTP)")
    else:
        report.add("clock", True, text, warning=abs(skew) > SKEW_WARN_MS)


async def _check_key(api: KalshiRest, report: DoctorReport) -> bool:
    signer = report.venue.signer
    assert signer is not None
    try:
        balance = await api.get_balance()
    except AuthError as exc:
        return report.add("key", False, f"{signer.key_type} key {signer.api_key_id} from {report.venue.key_source} "
                                        f"was refused: {exc}")
    except DecodeError:
        return report.add("key", True, f"{signer.key_type} key {signer.api_key_id} accepted (balance unreadable)")
    except VenueError as exc:
        return report.add("key", False, f"signed GET /portfolio/balance failed: {exc}")
    return report.add("key", True, f"{signer.key_type} key {signer.api_key_id} accepted; "
                                   f"balance {_dollars(balance.balance)}")


async def _check_fields(api: KalshiRest, report: DoctorReport) -> None:
    problems: list[str] = []
    ticker: str | None = None
    try:
        page = await _raw(api, "/markets", {"status": "open", "limit": 20})
        markets = page.get("markets") if isinstance(page, dict) else None
        if not isinstance(markets, list):
            problems.append("GET /markets: no `markets` list in the answer")
        elif not markets:
            report.add("fields", True, "no open markets to check market and order-book fields against", warning=True)
        for i, market in enumerate(markets or []):
            problems += _field_problems(market, r.Market, f"GET /markets: market {i} "
                                        f"({market.get('ticker', '?') if isinstance(market, dict) else '?'})")
            if ticker is None and isinstance(market, dict) and isinstance(market.get("ticker"), str):
                ticker = market["ticker"]
        if ticker is not None:
            book = await _raw(api, f"/markets/{ticker}/orderbook")
            levels = book.get("orderbook_fp") if isinstance(book, dict) else None
            if not isinstance(levels, dict):
                problems.append(f"GET /markets/{ticker}/orderbook: missing orderbook_fp")
            else:
                problems += _field_problems(book, r.OrderbookResponse, f"GET /markets/{ticker}/orderbook")
    except VenueError as exc:
        problems.append(f"could not fetch answers to check: {exc}")
    if problems:
        for problem in problems:
            report.add("fields", False, problem)
    elif ticker is not None:
        report.add("fields", True, "markets and order books carry every field the desk relies on")


async def _check_limits(api: KalshiRest, report: DoctorReport) -> None:
    try:
        limits = await api.get_account_limits()
    except VenueError as exc:
        report.add("limits", True, f"GET /account/limits failed ({exc}); the desk assumes the Basic tier",
                   warning=True)
        return
    report.add("limits", True, f"{limits.usage_tier} tier: read {limits.read.refill_rate:g}/s, "
                               f"write {limits.write.refill_rate:g}/s")


async def _check_ws(venue: KalshiVenue, report: DoctorReport, timeout_s: float) -> None:
    async with venue.rest(policy=QUICK) as api:
        try:
            ticker = next((m.ticker for m in (await api.get_markets(status="open", limit=1)).markets), None)
        except VenueError:
            ticker = None
    got: asyncio.Queue[Any] = asyncio.Queue()
    feed = venue.ws(got.put_nowait, reconnect_cap_s=1.0, command_timeout_s=timeout_s)
    try:
        await feed.start(timeout_s)
        if ticker is None:
            report.add("websocket", True, f"signed handshake to {venue.ws_url} accepted (no market to subscribe)")
            return
        await feed.subscribe("orderbook_delta", [ticker])
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            event = await asyncio.wait_for(got.get(), max(0.01, deadline - asyncio.get_running_loop().time()))
            if isinstance(event, BookSnapshot):
                break
        bad = feed.stats.decode_errors
        report.add("websocket", bad == 0, f"{venue.ws_url}: order-book snapshot for {ticker} received"
                   + (f", but {bad} frame(s) could not be decoded: {feed.stats.last_error}" if bad else ""))
    except (VenueError, TimeoutError, httpx.HTTPError) as exc:
        report.add("websocket", False, f"{venue.ws_url}: {exc or type(exc).__name__}")
    finally:
        await feed.close()
