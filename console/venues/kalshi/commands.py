"""The Kalshi side of `edgedesk markets` and `edgedesk doctor` (argument parsing stays in console/cli.py).

Both talk to the venue chosen by `config.toml [venue] name`; for the built-in exchange they need a
running `edgedesk sim` (`--url`, `--key-dir`) and say how to start one when nothing answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any, TextIO

from console.config import DeskConfig
from console.domain.units import format_count, format_price
from console.venues.errors import VenueError, VenueUnavailable
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi.doctor import QUICK, not_running_hint, run_doctor
from console.venues.kalshi.venue import KalshiVenue, VenueConfigError, resolve_venue


def _market_json(m: r.Market) -> dict[str, Any]:
    return {
        "ticker": m.ticker, "event_ticker": m.event_ticker, "status": m.status, "title": m.title,
        "yes_bid": format_price(m.yes_bid), "yes_ask": format_price(m.yes_ask),
        "last_price": format_price(m.last_price), "volume": format_count(m.volume),
        "open_interest": format_count(m.open_interest), "close_time": m.close_time.isoformat(),
        "price_level_structure": m.price_level_structure,
        "price_ranges": [{"start": format_price(p.start), "end": format_price(p.end), "step": format_price(p.step)}
                         for p in m.price_ranges],
    }


def _table(markets: list[r.Market], out: TextIO) -> None:
    if not markets:
        print("no markets match", file=out)
        return
    width = max(len("TICKER"), *(len(m.ticker) for m in markets))
    print(f"{'TICKER':<{width}}  {'STATUS':<9} {'YES BID':>7} {'YES ASK':>7} {'LAST':>7} {'VOLUME':>12}  "
          f"{'CLOSES (UTC)':<16}  TITLE", file=out)
    for m in markets:
        # an empty side reads 0.0000 on Kalshi's Market object; show it as "-" so it is not taken for a price
        bid = format_price(m.yes_bid) if m.yes_bid else "-"
        ask = format_price(m.yes_ask) if m.yes_ask else "-"
        last = format_price(m.last_price) if m.last_price else "-"
        print(f"{m.ticker:<{width}}  {m.status:<9} {bid:>7} {ask:>7} {last:>7} {format_count(m.volume):>12}  "
              f"{m.close_time.strftime('%Y-%m-%d %H:%M'):<16}  {m.title or ''}", file=out)


async def _markets(venue: KalshiVenue, status: str | None, limit: int, as_json: bool, out: TextIO) -> None:
    async with venue.rest(policy=QUICK) as api:
        markets: list[r.Market] = []
        async for market in api.iter_markets(status=status, limit=min(limit or 1000, 1000)):
            markets.append(market)
            if limit and len(markets) >= limit:
                break
    if as_json:
        json.dump([_market_json(m) for m in markets], out, indent=2)
        out.write("\n")
    else:
        _table(markets, out)


def _quiet_http_logs() -> None:
    # httpx logs every request at INFO; on the command line that buries the answer (-v shows it again)
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _venue(config: DeskConfig, url: str | None, key_dir: str | None, *, require_key: bool) -> KalshiVenue:
    return resolve_venue(config, url=url, key_dir=key_dir, require_key=require_key)


def cmd_markets(config: DeskConfig, *, url: str | None, key_dir: str | None, status: str | None, limit: int,
                as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """List markets; exit 1 when the venue cannot be reached or answers something unreadable."""
    _quiet_http_logs()
    try:
        venue = _venue(config, url, key_dir, require_key=False)
        asyncio.run(_markets(venue, status, limit, as_json, out))
    except VenueConfigError as exc:
        print(f"edgedesk markets: {exc}", file=err)
        return 2
    except VenueUnavailable:
        print(f"edgedesk markets: {not_running_hint(venue)}", file=err)
        return 1
    except VenueError as exc:
        print(f"edgedesk markets: {exc}", file=err)
        return 1
    return 0


def cmd_doctor(config: DeskConfig, *, url: str | None, key_dir: str | None, out: TextIO = sys.stdout,
               err: TextIO = sys.stderr) -> int:
    """Run every check, print them, and exit 1 with the list of problems if there are any."""
    _quiet_http_logs()
    try:
        venue = _venue(config, url, key_dir, require_key=True)
    except VenueConfigError as exc:
        print(f"edgedesk doctor: cannot set up the venue:\n  - {exc}", file=err)
        return 1
    print(f"edgedesk doctor: {venue.name} at {venue.rest_url}, key from {venue.key_source}", file=out)
    report = asyncio.run(run_doctor(venue))
    for check in report.checks:
        mark = "FAIL" if not check.ok else ("warn" if check.warning else "ok")
        print(f"  {mark:<4}  {check.name:<9} {check.detail}", file=out)
    problems = report.problems
    if problems:
        print(f"\nedgedesk doctor: the desk cannot trade here; {len(problems)} problem(s):", file=err)
        for check in problems:
            print(f"  - {check.name}: {check.detail}", file=err)
        return 1
    print("\nedgedesk doctor: all checks passed", file=out)
    return 0
