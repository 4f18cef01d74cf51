"""National Weather Service gridpoint forecasts: daily highs from the JSON that api.weather.gov serves.

Two shapes are read:

- the forecast (`/gridpoints/{office}/{x},{y}/forecast`): GeoJSON whose `properties.periods` are
  12-hour periods; a daytime period's `temperature` (whole degrees, `temperatureUnit` F or C) is that
  day's forecast high. The built-in exchange serves the same shape and adds, on daytime periods,
  `edgedesk.temperatureSpreadF` (its own forecast spread) and `edgedesk.leadHours`.
- the raw gridpoint data (`/gridpoints/{office}/{x},{y}`): `properties.maxTemperature` with a unit
  code and `values` of `{validTime: "<ISO start>/<ISO duration>", value}`; unrounded, in degrees C.

`fetch_forecast` is the thin HTTP part (api.weather.gov asks for a User-Agent naming the caller).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from console.models.sources import SourceFormatError

NWS_BASE_URL = "https://api.weather.gov"
PEAK_HOUR_LOCAL = 16.0  # when a day's high is in, for lead times


@dataclass(frozen=True)
class DailyHigh:
    """One day's forecast high (degrees F) as issued at `issued`."""

    day: dt.date
    high_f: float
    issued: dt.datetime
    spread_f: float | None = None  # only when the source publishes one

    def lead_hours(self, tz: ZoneInfo, peak_hour: float = PEAK_HOUR_LOCAL) -> float:
        """Hours from issuance to the day's peak (16:00 local by default); never negative."""
        peak = dt.datetime.combine(self.day, dt.time(int(peak_hour), int(round(peak_hour % 1 * 60))), tz)
        return max(0.0, (peak - self.issued).total_seconds() / 3600.0)


def _to_f(value: float, unit: str, where: str) -> float:
    unit = unit.removeprefix("wmoUnit:").lower()
    if unit in ("f", "degf"):
        return float(value)
    if unit in ("c", "degc"):
        return float(value) * 9.0 / 5.0 + 32.0
    raise SourceFormatError(f"{where}: unknown temperature unit {unit!r} (expected F or C)")


def _time(text: Any, where: str) -> dt.datetime:
    if not isinstance(text, str):
        raise SourceFormatError(f"{where}: expected an ISO 8601 time string, got {text!r}")
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SourceFormatError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise SourceFormatError(f"{where}: {text!r} has no UTC offset")
    return t


def _properties(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict):
        raise SourceFormatError("NWS forecast: expected a GeoJSON Feature with 'properties'")
    return doc["properties"]


def parse_forecast(doc: Any) -> list[DailyHigh]:
    """Daily highs of a forecast document, one per day that has a daytime period, in time order."""
    props = _properties(doc)
    issued_text = props.get("generatedAt") or props.get("updateTime")
    issued = _time(issued_text, "properties.generatedAt")
    periods = props.get("periods")
    if not isinstance(periods, list):
        raise SourceFormatError("NWS forecast: properties.periods must be a list")
    out: dict[dt.date, DailyHigh] = {}
    for i, period in enumerate(periods):
        where = f"properties.periods[{i}]"
        if not isinstance(period, dict):
            raise SourceFormatError(f"{where}: expected an object")
        if not period.get("isDaytime"):
            continue
        temp = period.get("temperature")
        if isinstance(temp, dict):  # newer NWS output: {"unitCode": "wmoUnit:degF", "value": 61}
            unit, temp = temp.get("unitCode", "F"), temp.get("value")
        else:
            unit = period.get("temperatureUnit", "F")
        if not isinstance(temp, (int, float)) or isinstance(temp, bool):
            raise SourceFormatError(f"{where}.temperature: expected a number, got {temp!r}")
        day = _time(period.get("startTime"), f"{where}.startTime").date()
        extra = period.get("edgedesk")
        spread = None
        if isinstance(extra, dict) and extra.get("temperatureSpreadF") is not None:
            spread = float(extra["temperatureSpreadF"])
        out.setdefault(day, DailyHigh(day, _to_f(temp, unit, where), issued, spread))
    return sorted(out.values(), key=lambda h: h.day)


def parse_gridpoint_max(doc: Any, tz: ZoneInfo) -> list[DailyHigh]:
    """Daily highs from raw gridpoint data (`maxTemperature`), dated by the local day each interval starts."""
    props = _properties(doc)
    issued = _time(props.get("updateTime") or props.get("generatedAt"), "properties.updateTime")
    layer = props.get("maxTemperature")
    if not isinstance(layer, dict) or not isinstance(layer.get("values"), list):
        raise SourceFormatError("NWS gridpoint: properties.maxTemperature.values missing")
    unit = layer.get("uom", "wmoUnit:degC")
    out = []
    for i, item in enumerate(layer["values"]):
        where = f"properties.maxTemperature.values[{i}]"
        valid, value = (item.get("validTime"), item.get("value")) if isinstance(item, dict) else (None, None)
        if not isinstance(valid, str) or "/" not in valid:
            raise SourceFormatError(f"{where}.validTime: expected '<start>/<duration>', got {valid!r}")
        if value is None:
            continue  # NWS leaves gaps as null
        start = _time(valid.split("/", 1)[0], f"{where}.validTime")
        out.append(DailyHigh(start.astimezone(tz).date(), _to_f(value, unit, where), issued))
    return out


def fetch_forecast(client: httpx.Client, office: str, grid_x: int, grid_y: int, *, user_agent: str,
                   base_url: str = NWS_BASE_URL) -> list[DailyHigh]:
    """GET a gridpoint forecast and parse it (raises httpx.HTTPStatusError on an error answer)."""
    r = client.get(f"{base_url}/gridpoints/{office}/{grid_x},{grid_y}/forecast",
                   headers={"User-Agent": user_agent, "Accept": "application/geo+json"})
    r.raise_for_status()
    return parse_forecast(r.json())
