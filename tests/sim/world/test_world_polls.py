"""Published polls are unbiased estimates of the truth plus the stated shared error, with sampling noise
set by their sample sizes; forecasts and the CPI consensus carry information without handing out the truth.

Tolerances are 4 standard errors computed from each poll's sample size (plus the variance that printing
whole percents adds), never a fixed constant.
"""

from __future__ import annotations

import math
import random

import pytest

from console.sim.world.feed import DataFeed, Poll
from console.sim.world.scalars import WeatherTruth, make_cpi_truth
from console.sim.world.simtime import DAY_MS, ET, HOUR_MS, WorldCalendar, local_date
from console.sim.world.truth import ElectionTruth
from console.sim.world.universe import CITIES, GOVERNOR_RACES, HOUSE, SENATE
from world_helpers import START_MS

CAL = WorldCalendar.starting_at(START_MS)


def run_feed(seed: int, days: int = 20) -> DataFeed:
    """The truth and the feed alone, ticked hourly for `days` (the backfill adds four weeks before)."""
    election = ElectionTruth(SENATE, GOVERNOR_RACES, HOUSE, CAL, random.Random(f"{seed}:e"))
    weather = WeatherTruth(CITIES, random.Random(f"{seed}:w"))
    weather.ensure_days(CAL.start_ms)
    cpi = make_cpi_truth(CAL, random.Random(f"{seed}:c"))
    feed = DataFeed(CAL, election, weather, cpi, random.Random(f"{seed}:d"))
    t = CAL.start_ms
    for _ in range(days * 24):
        t += HOUR_MS
        election.advance(t)
        feed.tick(t, HOUR_MS)
    return feed


def share(poll: Poll) -> float:
    first, second = (poll.shares["D"], poll.shares["R"]) if "D" in poll.shares else \
        (poll.shares["approve"], poll.shares["disapprove"])
    return first / (first + second)


def variance(poll: Poll) -> float:
    """Sampling variance of the reported two-way share, plus the rounding of both printed percents."""
    q = poll.true_share + poll.stated_bias
    sampling = q * (1 - q) / poll.sample_size
    a, b = (poll.shares["D"], poll.shares["R"]) if "D" in poll.shares else \
        (poll.shares["approve"], poll.shares["disapprove"])
    rounding = (a * a + b * b) / (a + b) ** 4 / 12
    return sampling + rounding


@pytest.fixture(scope="module")
def feed() -> DataFeed:
    # a world whose shared polling error is large, so "plus the shared error" is visible
    seed = next(s for s in range(100) if abs(random.Random(f"{s}:d").gauss(0.0, 2.0)) > 2.5)
    return run_feed(seed)


@pytest.mark.parametrize("kinds", [("senate", "governor"), ("generic_ballot",), ("approval",)])
def test_polls_are_unbiased_estimates_of_truth_plus_stated_error(feed: DataFeed, kinds: tuple[str, ...]) -> None:
    polls = [p for p in feed.published if p.kind in kinds]
    assert len(polls) > 50, f"only {len(polls)} {kinds} polls published"
    residuals = [share(p) - p.true_share - p.stated_bias for p in polls]
    total_var = sum(variance(p) for p in polls)
    z = sum(residuals) / math.sqrt(total_var)
    assert abs(z) < 4, f"{kinds}: mean residual {sum(residuals) / len(polls):+.4f} is {z:+.1f} SE from 0"
    # each poll's noise is the size its sample size says (standardised residuals have variance ~1)
    standardised = [r / math.sqrt(variance(p)) for r, p in zip(residuals, polls, strict=True)]
    spread = sum(x * x for x in standardised) / len(standardised)
    assert abs(spread - 1) < 4 * math.sqrt(2 / len(standardised)), f"{kinds}: standardised variance {spread:.2f}"


def test_race_polls_carry_the_shared_polling_error(feed: DataFeed) -> None:
    polls = [p for p in feed.published if p.kind in ("senate", "governor", "generic_ballot")]
    raw = [share(p) - p.true_share for p in polls]
    se = math.sqrt(sum(variance(p) for p in polls))
    # without removing the stated errors the polls are visibly off the truth: they never hand it out
    assert abs(sum(raw)) > 4 * se
    # and what they are off by is the stated shared error (national + state + house + population)
    stated = [p.stated_bias for p in polls]
    assert abs(sum(raw) - sum(stated)) < 4 * se
    assert abs(feed.b_national) > 2.5


def test_polls_have_the_published_shape(feed: DataFeed) -> None:
    polls = [p for p in feed.published if p.kind == "senate"]
    assert {p.race for p in polls} >= {r.key for r in SENATE.races}
    for p in polls:
        assert p.field_start < p.field_end
        assert local_date(p.published_ms, ET) > p.field_end  # published after the fieldwork ends
        assert 300 <= p.sample_size <= 2000 and p.population in ("lv", "rv")
        assert sum(p.shares.values()) == 100 and p.shares["undecided"] >= 0
    assert [p.published_ms for p in feed.published] == sorted(p.published_ms for p in feed.published)


def test_forecast_spread_sharpens_and_covers_the_truth() -> None:
    feed = run_feed(5, days=0)
    city = CITIES[0]
    forecast = feed.issue_forecast(city, START_MS)
    assert forecast.key == city.code
    days = [p for p in feed.forecasts[city.code].periods if p["is_day"]]
    spreads = [p["spread"] for p in days]
    assert spreads == sorted(spreads), "the forecast must be less certain further out"
    errors = []
    for period in days:
        truth = feed.weather.days[(city.code, period["day"])]
        errors.append(period["temperature"] - truth.latent.value)
    # the forecast is not the truth, but it is close to it relative to its stated spread
    assert any(abs(e) > 0.3 for e in errors)
    assert all(abs(e) < 5 * p["spread"] + 1 for e, p in zip(errors, days, strict=True))


def test_cpi_consensus_tracks_the_nowcast_without_revealing_it() -> None:
    feed = run_feed(9, days=0)
    gaps = []
    for day in range(1, 4):
        feed.update_cpi(START_MS + day * DAY_MS)
        gaps.append(feed.cpi_snapshots[-1]["mean"] * 10 - feed.cpi.latent.value)
    assert all(abs(g) < 2.5 for g in gaps)  # within ~5 consensus-error sds (0.4 tenths + forecaster noise)
    assert any(abs(g) > 0.01 for g in gaps)
    assert "actual" not in feed.cpi_snapshots[-1]
