"""The world's HTTP surface outside Kalshi's namespace: the data feed under /sim/data and /sim/truth.

    GET /sim/data/polls?race=SEN-GA&kind=senate&since=<unix s>   race polls (Senate and governor)
    GET /sim/data/approval                                         presidential approval polls
    GET /sim/data/generic_ballot                                   generic congressional ballot polls
    GET /sim/data/weather                                          the cities and their series
    GET /sim/data/weather/{city}                                   latest NWS-style gridpoint forecast
    GET /sim/data/weather/{city}/observations                      reported daily highs (climate reports)
    GET /sim/data/cpi                                              CPI consensus history, then the actual
    GET /sim/truth                                                 true probabilities (only with reveal_truth)

Handlers only read what the world already published (they draw nothing), so reading the data never
changes the world. The world lives at `app[STATE].extras["world"]`; without one the data routes answer
503 `world_not_running`.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from aiohttp import web

from console.sim.state import STATE
from console.sim.world.feed import Poll
from console.sim.world.simtime import HOUR_MS, iso, iso_local, local_date
from console.sim.world.universe import CITIES, CitySpec

WORLD_EXTRA = "world"
_ROUTES_EXTRA = "world_data_routes"
_CITY_BY_CODE = {c.code.lower(): c for c in CITIES}
_SKIES = ("Sunny", "Mostly Sunny", "Partly Sunny", "Mostly Cloudy", "Chance Rain Showers", "Cloudy")
_WINDS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_PARTY_CHOICE = {"D": "Democratic candidate", "R": "Republican candidate"}


def _error(status: int, code: str, message: str, details: str = "") -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return web.json_response({"error": body}, status=status)


def _world(request: web.Request) -> Any:
    return request.app[STATE].extras.get(WORLD_EXTRA)


def _poll_json(poll: Poll, world: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "poll_id": poll.poll_id, "kind": poll.kind, "pollster": poll.pollster, "population": poll.population,
        "sample_size": poll.sample_size, "start_date": poll.field_start.isoformat(),
        "end_date": poll.field_end.isoformat(), "published_time": iso(poll.published_ms),
    }
    if poll.race is not None:
        spec = world.election.race_specs[poll.race]
        prefix = "KXSENATE" if spec.chamber == "senate" else "KXGOV"
        out.update(race=poll.race, state=poll.state, office=spec.chamber, event_ticker=f"{prefix}{spec.state}-26")
    if poll.kind == "approval":
        out["answers"] = [{"choice": "Approve", "pct": poll.shares["approve"]},
                          {"choice": "Disapprove", "pct": poll.shares["disapprove"]},
                          {"choice": "Not sure", "pct": poll.shares["unsure"]}]
    else:
        out["answers"] = [{"choice": _PARTY_CHOICE["D"], "party": "D", "pct": poll.shares["D"]},
                          {"choice": _PARTY_CHOICE["R"], "party": "R", "pct": poll.shares["R"]},
                          {"choice": "Undecided", "pct": poll.shares["undecided"]}]
    return out


def _since_ms(request: web.Request) -> int | web.Response:
    raw = request.query.get("since")
    if raw is None:
        return 0
    try:
        return int(raw) * 1000
    except ValueError:
        return _error(400, "invalid_parameters", "invalid parameters", f"since={raw!r}: expected Unix seconds")


async def polls(request: web.Request) -> web.Response:
    world = _world(request)
    if world is None:
        return _not_running()
    since = _since_ms(request)
    if isinstance(since, web.Response):
        return since
    race, kind = request.query.get("race"), request.query.get("kind")
    if race is not None and race not in world.election.race_specs:
        return _error(404, "not_found", "unknown race",
                      f"race={race!r}; known races: {', '.join(world.election.race_specs)}")
    if kind is not None and kind not in ("senate", "governor"):
        return _error(400, "invalid_parameters", "invalid parameters", f"kind={kind!r}: use senate or governor")
    chosen = [p for p in world.feed.published
              if p.race is not None and p.published_ms >= since and (race is None or p.race == race)
              and (kind is None or p.kind == kind)]
    return web.json_response({"polls": [_poll_json(p, world) for p in chosen]})


def _national(kind: str):
    async def handler(request: web.Request) -> web.Response:
        world = _world(request)
        if world is None:
            return _not_running()
        since = _since_ms(request)
        if isinstance(since, web.Response):
            return since
        chosen = [p for p in world.feed.published if p.kind == kind and p.published_ms >= since]
        return web.json_response({"polls": [_poll_json(p, world) for p in chosen]})
    return handler


def _city(request: web.Request) -> CitySpec | web.Response:
    code = request.match_info["city"].lower()
    city = _CITY_BY_CODE.get(code)
    if city is None:
        return _error(404, "not_found", "unknown city",
                      f"{code!r}; known cities: {', '.join(c.code.lower() for c in CITIES)}")
    return city


async def cities(request: web.Request) -> web.Response:
    return web.json_response({"cities": [
        {"city": c.code.lower(), "name": c.short, "station": c.station, "series_ticker": c.series,
         "office": c.nws_office, "gridX": c.grid_x, "gridY": c.grid_y, "timezone": c.tz.key,
         "forecast": f"/sim/data/weather/{c.code.lower()}"} for c in CITIES]})


def _period_name(period: dict[str, Any], now_day: dt.date) -> str:
    day: dt.date = period["day"]
    if day == now_day:
        if period["is_day"]:
            return "This Afternoon" if period["start_ms"] > period["end_ms"] - 6 * HOUR_MS else "Today"
        return "Tonight"
    name = day.strftime("%A")
    return name if period["is_day"] else f"{name} Night"


def _forecast_json(world: Any, city: CitySpec) -> dict[str, Any]:
    forecast = world.feed.forecasts.get(city.code)
    periods = []
    if forecast is not None:
        now_day = local_date(forecast.issued_ms, city.tz)
        for number, period in enumerate(forecast.periods, start=1):
            # cosmetic fields come from a hash of the city and date, never from the world's generators
            h = zlib.crc32(f"{city.code}{period['day']}{period['is_day']}".encode())
            sky, pop = _SKIES[h % len(_SKIES)], (h >> 8) % 6 * 10
            wind_lo = 3 + (h >> 16) % 8
            temp = period["temperature"]
            kind = "high" if period["is_day"] else "low"
            entry: dict[str, Any] = {
                "number": number, "name": _period_name(period, now_day),
                "startTime": iso_local(period["start_ms"], city.tz), "endTime": iso_local(period["end_ms"], city.tz),
                "isDaytime": period["is_day"], "temperature": temp, "temperatureUnit": "F",
                "temperatureTrend": "", "probabilityOfPrecipitation": {"unitCode": "wmoUnit:percent", "value": pop},
                "windSpeed": f"{wind_lo} to {wind_lo + 5} mph", "windDirection": _WINDS[(h >> 4) % 8],
                "icon": f"https://api.weather.gov/icons/land/{'day' if period['is_day'] else 'night'}/sct?size=medium",
                "shortForecast": sky, "detailedForecast": f"{sky}, with a {kind} near {temp}.",
            }
            if period["is_day"]:
                entry["edgedesk"] = {"temperatureSpreadF": period["spread"], "leadHours": period["lead_hours"]}
            periods.append(entry)
    issued = forecast.issued_ms if forecast is not None else world.start_ms
    lat, lon, d = city.lat, city.lon, 0.02
    return {
        "@context": ["https://geojson.org/geojson-ld/geojson-context.jsonld",
                     {"@version": "1.1", "wx": "https://api.weather.gov/ontology#", "@vocab":
                      "https://api.weather.gov/ontology#"}],
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[lon, lat], [round(lon + d, 4), lat],
                                                        [round(lon + d, 4), round(lat + d, 4)],
                                                        [lon, round(lat + d, 4)], [lon, lat]]]},
        "properties": {
            "units": "us", "forecastGenerator": "BaselineForecastGenerator", "generatedAt": iso(issued),
            "updateTime": iso(issued), "validTimes": f"{iso(issued)}/P7D",
            "elevation": {"unitCode": "wmoUnit:m", "value": 40},
            "gridId": city.nws_office, "gridX": city.grid_x, "gridY": city.grid_y, "periods": periods,
        },
    }


async def weather(request: web.Request) -> web.Response:
    world = _world(request)
    if world is None:
        return _not_running()
    city = _city(request)
    if isinstance(city, web.Response):
        return city
    return web.json_response(_forecast_json(world, city), content_type="application/geo+json")


async def observations(request: web.Request) -> web.Response:
    world = _world(request)
    if world is None:
        return _not_running()
    city = _city(request)
    if isinstance(city, web.Response):
        return city
    rows = [{"date": day.isoformat(), "max_temperature_f": high}
            for (code, day), high in world.realized_highs.items() if code == city.code]
    return web.json_response({"station": city.station, "observations": rows})


async def cpi(request: web.Request) -> web.Response:
    world = _world(request)
    if world is None:
        return _not_running()
    cal, snaps = world.cal, world.feed.cpi_snapshots
    consensus = [s for s in snaps if "median" in s]
    actual = next((s["actual"] for s in snaps if "actual" in s), None)
    latest = consensus[-1] if consensus else None
    return web.json_response({
        "measure": "CPI-U, all items, seasonally adjusted, percent change from the previous month",
        "reference_month": f"{cal.cpi_year:04d}-{cal.cpi_month:02d}",
        "release_time": iso(cal.cpi_release_ms),
        "event_ticker": next((world.specs[t].event_ticker for t in world.by_key.get("cpi", ())), None),
        "consensus": None if latest is None else {
            "as_of": iso(latest["as_of_ms"]), "median": latest["median"], "mean": latest["mean"],
            "low": latest["low"], "high": latest["high"], "forecasts": latest["forecasts"]},
        "history": [{"as_of": iso(s["as_of_ms"]), "median": s["median"], "mean": s["mean"]} for s in consensus],
        "actual": actual,
    })


async def truth(request: web.Request) -> web.Response:
    world = _world(request)
    if world is None or not world.reveal_truth:
        return _error(404, "not_found", "not found",
                      "the truth endpoint is off; start the simulator with --reveal-truth to calibrate against it")
    snap = world.truth_snapshot()
    return web.json_response({"as_of": iso(snap["as_of_ms"]),
                              "markets": {t: f"{p:.6f}" for t, p in snap["markets"].items()}})


def _not_running() -> web.Response:
    return _error(503, "world_not_running", "the market world is not running",
                  "start the simulator with its world (the default) to get data")


def setup_data_routes(app: web.Application) -> None:
    """Add the /sim/data and /sim/truth routes (idempotent)."""
    state = app[STATE]
    if state.extras.get(_ROUTES_EXTRA):
        return
    state.extras[_ROUTES_EXTRA] = True
    r = app.router
    r.add_get("/sim/data/polls", polls)
    r.add_get("/sim/data/approval", _national("approval"))
    r.add_get("/sim/data/generic_ballot", _national("generic_ballot"))
    r.add_get("/sim/data/weather", cities)
    r.add_get("/sim/data/weather/{city}", weather)
    r.add_get("/sim/data/weather/{city}/observations", observations)
    r.add_get("/sim/data/cpi", cpi)
    r.add_get("/sim/truth", truth)
