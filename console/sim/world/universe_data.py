"""Static tables of the default world: the modelled races, the House map, the weather cities.

Margins are points of D-R two-party vote in a neutral national environment (the world's national
swing is added on top). They are the simulator's own fiction, shaped like a 2026 midterm map; no
candidate is named.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARTY_NAMES = {"D": "Democratic party", "R": "Republican party"}


@dataclass(frozen=True)
class RaceSpec:
    """One statewide race (a Senate seat or a governorship)."""

    key: str  # "SEN-GA", "GOV-AZ"
    chamber: str  # "senate" | "governor"
    state: str
    state_name: str
    incumbent: str  # party holding the seat now
    base_margin: float  # D-R points before the national swing
    poll_close_h: float  # ET hour on election day (25.0 = 01:00 the next day)
    count_hours: float  # how long the count takes after polls close
    structure: str = "linear_cent"  # the markets' price_level_structure
    debate: bool = False  # the debate-night race


@dataclass(frozen=True)
class SenateSpec:
    races: tuple[RaceSpec, ...]
    d_fixed: int  # Democratic seats not modelled (not up, or safe)
    r_fixed: int
    d_needs: int  # seats for Democratic control (the Vice President breaks ties for Republicans)


@dataclass(frozen=True)
class HouseSpec:
    district_margins: tuple[float, ...]  # the modelled competitive districts
    d_safe: int
    r_safe: int
    d_needs: int


@dataclass(frozen=True)
class CitySpec:
    """A weather city: where its high is measured and its climate (degrees F)."""

    code: str  # "NY": the data endpoint path and the series suffix
    series: str
    short: str  # as in Kalshi's titles
    station: str
    tz: ZoneInfo
    annual_mean_high: float
    seasonal_amplitude: float  # the normal high is mean + amplitude * cos(day-of-year from mid July)
    diurnal_range: float  # high minus the following night's low
    anomaly_sd: float  # day-to-day spread of the high around normal
    nws_office: str
    grid_x: int
    grid_y: int
    lat: float
    lon: float

    def normal_high(self, day: dt.date) -> float:
        doy = day.timetuple().tm_yday
        return self.annual_mean_high + self.seasonal_amplitude * math.cos(2 * math.pi * (doy - 200) / 365.25)


def _race(key: str, state_name: str, incumbent: str, base: float, close_h: float, count_h: float,
          structure: str = "linear_cent", debate: bool = False) -> RaceSpec:
    chamber = "senate" if key.startswith("SEN") else "governor"
    return RaceSpec(key, chamber, key[-2:], state_name, incumbent, base, close_h, count_h, structure, debate)


SENATE = SenateSpec(
    races=(
        _race("SEN-GA", "Georgia", "D", 1.0, 19.0, 3.0, "tapered_deci_cent"),
        _race("SEN-MI", "Michigan", "D", 1.5, 21.0, 4.0),
        _race("SEN-NH", "New Hampshire", "D", 3.0, 20.0, 2.5),
        _race("SEN-MN", "Minnesota", "D", 4.0, 21.0, 3.0),
        _race("SEN-NC", "North Carolina", "R", -0.5, 19.5, 3.0, "tapered_deci_cent", debate=True),
        _race("SEN-ME", "Maine", "R", -0.5, 20.0, 3.5, "tapered_deci_cent"),
        _race("SEN-OH", "Ohio", "R", -2.5, 19.5, 2.5),
        _race("SEN-IA", "Iowa", "R", -3.0, 22.0, 3.0),
        _race("SEN-TX", "Texas", "R", -4.0, 21.0, 3.5),
        _race("SEN-AK", "Alaska", "R", -4.0, 25.0, 4.0),
    ),
    d_fixed=43,  # 34 not up + 9 safe
    r_fixed=47,  # 31 not up + 16 safe
    d_needs=51,
)

GOVERNOR_RACES = (
    _race("GOV-AZ", "Arizona", "D", 0.5, 21.0, 5.0),
    _race("GOV-WI", "Wisconsin", "D", 0.0, 21.0, 4.0),
    _race("GOV-GA", "Georgia", "R", -2.5, 19.0, 3.0),
    _race("GOV-NV", "Nevada", "R", -1.0, 22.0, 6.0),
)

HOUSE = HouseSpec(
    district_margins=tuple(-7.25 + 0.5 * i for i in range(30)),  # R+7.25 .. D+7.25
    d_safe=203,
    r_safe=202,
    d_needs=218,
)

CITIES = (
    CitySpec("NY", "KXHIGHNY", "NYC", "Central Park, New York", ZoneInfo("America/New_York"),
             62.0, 22.0, 10.0, 6.0, "OKX", 33, 37, 40.78, -73.97),
    CitySpec("CHI", "KXHIGHCHI", "Chicago", "Chicago Midway Airport", ZoneInfo("America/Chicago"),
             59.0, 25.0, 11.0, 7.0, "LOT", 71, 69, 41.79, -87.75),
    CitySpec("MIA", "KXHIGHMIA", "Miami", "Miami International Airport", ZoneInfo("America/New_York"),
             84.0, 6.5, 9.0, 2.5, "MFL", 106, 51, 25.79, -80.32),
    CitySpec("AUS", "KXHIGHAUS", "Austin", "Austin Camp Mabry", ZoneInfo("America/Chicago"),
             80.0, 16.0, 18.0, 7.0, "EWX", 156, 91, 30.32, -97.76),
)
