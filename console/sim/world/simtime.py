"""Simulated-calendar helpers for the world: local times, ticker dates, RFC 3339 strings.

The world anchors its calendar on the SimClock time at which it starts (`WorldCalendar`): the
midterm election is placed three simulated weeks later, the CPI release four days later, a debate
night two days later, so a session started on any date sees the same shape of world.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
ET = ZoneInfo("America/New_York")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def local_date(ms: int, tz: ZoneInfo) -> dt.date:
    """The calendar date in `tz` at Unix time `ms`."""
    return dt.datetime.fromtimestamp(ms / 1000, tz).date()


def local_ms(day: dt.date, hour: float, tz: ZoneInfo) -> int:
    """Unix ms of `hour` (may exceed 24: the next day) local time on `day` in `tz`."""
    whole = int(hour)
    minutes = round((hour - whole) * 60)
    base = dt.datetime(day.year, day.month, day.day, tzinfo=tz) + dt.timedelta(hours=whole, minutes=minutes)
    # add hours in local wall time, then resolve the offset of the resulting wall time
    wall = dt.datetime(base.year, base.month, base.day, base.hour, base.minute, tzinfo=tz)
    return int(wall.timestamp() * 1000)


def local_hour(ms: int, tz: ZoneInfo) -> float:
    t = dt.datetime.fromtimestamp(ms / 1000, tz)
    return t.hour + t.minute / 60 + t.second / 3600


def ticker_date(day: dt.date) -> str:
    """Kalshi's date code in event tickers: 2026-11-23 -> 26NOV23."""
    return f"{day.year % 100:02d}{_MONTHS[day.month - 1]}{day.day:02d}"


def title_date(day: dt.date) -> str:
    """2026-11-23 -> 'Nov 23, 2026'."""
    return f"{_MONTH_NAMES[day.month - 1][:3]} {day.day}, {day.year}"


def month_code(year: int, month: int) -> str:
    """(2026, 10) -> '26OCT'."""
    return f"{year % 100:02d}{_MONTHS[month - 1]}"


def month_name(year: int, month: int) -> str:
    return f"{_MONTH_NAMES[month - 1]} {year}"


def iso(ms: int) -> str:
    """RFC 3339 UTC with a Z, second precision."""
    return dt.datetime.fromtimestamp(ms // 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(ms: int, tz: ZoneInfo) -> str:
    """RFC 3339 with the local offset (as the NWS API writes times)."""
    return dt.datetime.fromtimestamp(ms // 1000, tz).isoformat()


@dataclass(frozen=True)
class WorldCalendar:
    """The fixed dates of one world, all derived from its start time."""

    start_ms: int
    election_day: dt.date  # the simulated general-election day (ET)
    cpi_release_ms: int  # 08:30 ET
    cpi_year: int
    cpi_month: int  # the reference month of the CPI release
    debate_ms: int  # 21:00 ET, the debate-night shock

    @classmethod
    def starting_at(cls, start_ms: int) -> WorldCalendar:
        today = local_date(start_ms, ET)
        release_day = today + dt.timedelta(days=4)
        ref = release_day.replace(day=1) - dt.timedelta(days=1)  # CPI is released for the previous month
        return cls(
            start_ms=start_ms,
            election_day=today + dt.timedelta(days=21),
            cpi_release_ms=local_ms(release_day, 8.5, ET),
            cpi_year=ref.year,
            cpi_month=ref.month,
            debate_ms=local_ms(today + dt.timedelta(days=2), 21.0, ET),
        )

    def election_ms(self, hour_et: float) -> int:
        """Unix ms of `hour_et` (ET, may exceed 24) on election day."""
        return local_ms(self.election_day, hour_et, ET)
