"""compute_fair_values: polls, fundamentals, the correlated chambers, weather and CPI buckets, on generated inputs."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from console.engine.fair_map import (
    CityForecast,
    CpiInput,
    ElectionSettings,
    MarketDesc,
    ModelInputs,
    compute_fair_values,
    event_day,
)
from console.models.montecarlo import Chamber, ElectionModel
from console.models.polls import ApprovalPoll, Poll, forecast_races
from console.models.sources.nws import DailyHigh

ET = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)
EDAY = dt.date(2026, 12, 13)
EXP_MS = int(dt.datetime(2026, 12, 14, 10, 0, tzinfo=ET).timestamp() * 1000)
SENATE = ("GA", "MI", "NC", "OH")
POLLSTERS = ("Keystone", "Meridian", "Harbor", "Quill")
NO_LEANS = ElectionSettings(leans={}, senate_seats_fixed=48, senate_seats_needed=50)


def race_markets(state: str, office: str = "SENATE") -> list[MarketDesc]:
    event = f"KX{office}{state}-26"
    return [MarketDesc(f"{event}-{p}", event, f"KX{office}{state}", expected_expiration_ms=EXP_MS) for p in "DR"]


def control_markets(chamber: str) -> list[MarketDesc]:
    event = f"CONTROL{chamber}-2026"
    return [MarketDesc(f"{event}-{p}", event, f"CONTROL{chamber}", expected_expiration_ms=EXP_MS) for p in "DR"]


def polls_for(race: str, margin: float, n: int = 8, seed: int = 1) -> list[Poll]:
    rng = random.Random(f"{race}:{seed}")
    out = []
    for i in range(n):
        end = NOW.date() - dt.timedelta(days=2 + 2 * i)
        d = 47 + margin / 2 + rng.gauss(0, 1.0)
        out.append(Poll(race, POLLSTERS[i % 4], "lv", 800, end - dt.timedelta(days=2), end, d, 94 - d, f"{race}{i}"))
    return out


def generic_polls(margin: float) -> list[Poll]:
    return [p.__class__("generic", p.pollster, p.population, 1500, p.start_date, p.end_date, p.dem_pct, p.rep_pct,
                        f"g{i}") for i, p in enumerate(polls_for("generic", margin, n=10))]


def approval_polls(approve: float) -> list[ApprovalPoll]:
    end = NOW.date() - dt.timedelta(days=1)
    return [ApprovalPoll(POLLSTERS[i % 4], "a", 1000, end - dt.timedelta(days=i + 2), end - dt.timedelta(days=i),
                         approve, 96 - approve) for i in range(6)]


def fair(out, ticker: str):
    return next(v for v in out.values if v.ticker == ticker)


def election_inputs(ga_margin: float = 1.0, settings: ElectionSettings = NO_LEANS, generic: float = 2.0):
    margins = {"GA": ga_margin, "MI": 2.0, "NC": -1.0, "OH": -3.0}
    polls = [p for s in SENATE for p in polls_for(f"SEN-{s}", margins[s])] + generic_polls(generic)
    markets = [m for s in SENATE for m in race_markets(s)] + race_markets("AZ", "GOV") \
        + control_markets("S") + control_markets("H")
    polls += polls_for("GOV-AZ", 0.5)
    return ModelInputs(tuple(markets), tuple(polls), tuple(approval_polls(44)), election=settings)


def test_race_probability_follows_the_polls_and_d_and_r_sum_to_one():
    probs = []
    for margin in (-6.0, 0.0, 6.0):
        out = compute_fair_values(election_inputs(ga_margin=margin), NOW_MS)
        d, r = fair(out, "KXSENATEGA-26-D"), fair(out, "KXSENATEGA-26-R")
        assert d.prob_yes + r.prob_yes == pytest.approx(1.0, abs=1e-12)
        assert (d.model, d.category) == ("polls", "elections")
        assert "SEN-GA" in d.detail and "polls" in d.detail
        probs.append(d.prob_yes)
    assert probs[0] < 0.35 < probs[1] < 0.65 < probs[2]
    gov = fair(out, "KXGOVAZ-26-D")
    assert gov.prob_yes + fair(out, "KXGOVAZ-26-R").prob_yes == pytest.approx(1.0)


def test_the_fundamentals_prior_prices_unpolled_races_and_is_blended_into_thinly_polled_ones():
    leans = {"SEN-GA": 1.0, "SEN-MI": 1.5, "SEN-TX": -8.0}
    settings = ElectionSettings(leans=leans, senate_seats_fixed=48, senate_seats_needed=50)
    inputs = election_inputs(settings=settings)
    inputs = ModelInputs(inputs.markets + tuple(race_markets("TX")), inputs.polls, inputs.approval,
                         election=settings)
    out = compute_fair_values(inputs, NOW_MS)
    tx = fair(out, "KXSENATETX-26-D")
    assert tx.model == "fundamentals" and "no polls" in tx.detail and tx.prob_yes < 0.2
    assert fair(out, "KXSENATEGA-26-D").model == "polls"  # 8 polls: past the prior (prior_max_polls = 0)
    assert out.election is not None and "SEN-TX" in out.election.model.chambers["senate"].races
    early = ElectionSettings(leans=leans, senate_seats_fixed=48, senate_seats_needed=50, prior_max_polls=8)
    out = compute_fair_values(ModelInputs(inputs.markets, inputs.polls, inputs.approval, election=early), NOW_MS)
    ga = fair(out, "KXSENATEGA-26-D")
    assert ga.model == "ensemble" and "poll weight" in ga.detail
    assert fair(out, "KXSENATEOH-26-D").model == "polls"  # no lean for Ohio


def test_senate_control_is_the_correlated_model_of_the_races():
    inputs = election_inputs()
    out = compute_fair_values(inputs, NOW_MS)
    races = forecast_races([p for p in inputs.polls], NOW.astimezone(ET).date(), EDAY)
    names = tuple(f"SEN-{s}" for s in SENATE)
    expected = ElectionModel([races[n].race_margin() for n in names],
                             {"senate": Chamber(names, 48, 50)}).control_probability("senate")
    d, r = fair(out, "CONTROLS-2026-D"), fair(out, "CONTROLS-2026-R")
    assert d.prob_yes == pytest.approx(expected, abs=1e-9)
    assert r.prob_yes == pytest.approx(1 - expected, abs=1e-9)
    assert d.model == "control" and "Senate" in d.detail
    state = out.election
    assert state is not None and state.model.control_probability("senate") == pytest.approx(expected, abs=1e-9)
    assert state.markets["CONTROLS-2026-R"].chamber and not state.markets["CONTROLS-2026-R"].yes_is_dem
    assert state.markets["KXSENATEGA-26-D"].name == "SEN-GA" and state.markets["KXSENATEGA-26-D"].yes_is_dem
    # correlated: the chamber moves with a race
    better = compute_fair_values(election_inputs(ga_margin=8.0), NOW_MS)
    assert fair(better, "CONTROLS-2026-D").prob_yes > d.prob_yes


def test_a_called_race_is_decided_in_the_chamber():
    inputs = election_inputs()
    open_now = tuple(m for m in inputs.markets if not m.event_ticker.startswith("KXSENATENC"))
    before = fair(compute_fair_values(inputs, NOW_MS), "CONTROLS-2026-D").prob_yes
    won = compute_fair_values(ModelInputs(open_now, inputs.polls, inputs.approval, election=NO_LEANS,
                                          decided={"SEN-NC": True}), NOW_MS)
    lost = compute_fair_values(ModelInputs(open_now, inputs.polls, inputs.approval, election=NO_LEANS,
                                           decided={"SEN-NC": False}), NOW_MS)
    d_won, d_lost = fair(won, "CONTROLS-2026-D"), fair(lost, "CONTROLS-2026-D")
    assert d_lost.prob_yes < before < d_won.prob_yes
    assert "(1 called)" in d_won.detail
    assert not any(v.ticker.startswith("KXSENATENC") for v in won.values)
    assert won.election is not None and won.election.model.race_probability("SEN-NC") == 1.0


def test_house_control_comes_from_the_national_environment_and_moves_with_the_generic_ballot():
    low = fair(compute_fair_values(election_inputs(generic=-10.0), NOW_MS), "CONTROLH-2026-D")
    high = fair(compute_fair_values(election_inputs(generic=6.0), NOW_MS), "CONTROLH-2026-D")
    assert low.prob_yes < 0.5 < high.prob_yes
    assert "generic ballot only" in high.detail and high.model == "control"
    no_generic = election_inputs()
    no_generic = ModelInputs(no_generic.markets, tuple(p for p in no_generic.polls if p.race != "generic"),
                             no_generic.approval, election=NO_LEANS)
    out = compute_fair_values(no_generic, NOW_MS)
    assert not any(v.ticker.startswith("CONTROLH") for v in out.values)
    assert any("House control not priced: no generic ballot polls" in e for e in out.errors)
    assert fair(out, "CONTROLS-2026-D").prob_yes > 0  # the Senate does not need the generic ballot


def weather_markets(center: int, event: str = "KXHIGHNY-26NOV23") -> list[MarketDesc]:
    out = [MarketDesc(f"{event}-T{center - 4}", event, "KXHIGHNY", strike_type="less", cap_strike=center - 4)]
    for lo in (center - 4, center - 2, center, center + 2):
        out.append(MarketDesc(f"{event}-B{lo + 0.5}", event, "KXHIGHNY", strike_type="between",
                              floor_strike=lo, cap_strike=lo + 1))
    out.append(MarketDesc(f"{event}-T{center + 3}", event, "KXHIGHNY", strike_type="greater",
                          floor_strike=center + 3))
    return out


def ny(high: float, spread: float | None = 2.0, observed: dict | None = None) -> CityForecast:
    issued = dt.datetime(2026, 11, 22, 10, 0, tzinfo=ET)
    return CityForecast("KXHIGHNY", "NYC", ET, (DailyHigh(dt.date(2026, 11, 23), high, issued, spread),),
                        observed or {})


def test_weather_buckets_of_an_event_sum_to_one_and_centre_on_the_forecast():
    out = compute_fair_values(ModelInputs(tuple(weather_markets(50)), cities=(ny(51.0),)), NOW_MS)
    probs = {v.ticker: v.prob_yes for v in out.values}
    assert len(probs) == 6 and not out.errors
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
    assert max(probs, key=probs.get) == "KXHIGHNY-26NOV23-B50.5"  # 50-51 holds the forecast 51
    assert all(v.model == "weather" and v.category == "weather" for v in out.values)
    # no published spread: the lead-time rule (wider), still summing to one
    wide = compute_fair_values(ModelInputs(tuple(weather_markets(50)), cities=(ny(51.0, None),)), NOW_MS)
    assert sum(v.prob_yes for v in wide.values) == pytest.approx(1.0, abs=1e-12)
    assert fair(wide, "KXHIGHNY-26NOV23-B50.5").prob_yes < probs["KXHIGHNY-26NOV23-B50.5"]
    # the high is in: the reported value's bucket is near certain (the greater tail: above 53)
    done = compute_fair_values(ModelInputs(tuple(weather_markets(50)), cities=(ny(51.0, observed={
        dt.date(2026, 11, 23): 56}),)), NOW_MS)
    assert fair(done, "KXHIGHNY-26NOV23-T53").prob_yes > 0.999


def cpi_markets(event: str = "KXCPI-26OCT") -> list[MarketDesc]:
    out = [MarketDesc(f"{event}-T0.0", event, "KXCPI", strike_type="less", cap_strike=0.0)]
    out += [MarketDesc(f"{event}-B{v / 10:.1f}", event, "KXCPI", strike_type="between", floor_strike=v / 10,
                       cap_strike=v / 10) for v in range(5)]
    out.append(MarketDesc(f"{event}-T0.4", event, "KXCPI", strike_type="greater", floor_strike=0.4))
    return out


def test_cpi_buckets_sum_to_one_around_the_consensus():
    release = NOW_MS + 2 * 86_400_000
    out = compute_fair_values(ModelInputs(tuple(cpi_markets()), cpi=CpiInput(release, 0.3, None, "KXCPI-26OCT")),
                              NOW_MS)
    probs = {v.ticker: v.prob_yes for v in out.values}
    assert len(probs) == 7 and sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
    assert max(probs, key=probs.get) == "KXCPI-26OCT-B0.3"
    assert all(v.model == "cpi" and v.category == "economics" for v in out.values)
    wrong = compute_fair_values(ModelInputs(tuple(cpi_markets()), cpi=CpiInput(release, 0.3, None, "KXCPI-26NOV")),
                                NOW_MS)
    assert not wrong.values and "KXCPI-26NOV" in wrong.errors[0]


def test_malformed_inputs_are_errors_and_the_rest_is_still_priced():
    broken = [MarketDesc("KXHIGHNY-26NOV23-B50.5", "KXHIGHNY-26NOV23", "KXHIGHNY", strike_type="between",
                         floor_strike=None, cap_strike=51)]
    undated = weather_markets(50, "KXHIGHNY-SOMEDAY")
    no_day = [MarketDesc("KXSENATEGA-26-D", "KXSENATEGA-26", "KXSENATEGA")]
    no_consensus = CpiInput(NOW_MS + 86_400_000, None)
    inputs = ModelInputs(tuple(broken + undated + cpi_markets() + no_day), tuple(polls_for("SEN-GA", 1.0)),
                         cities=(ny(51.0),), cpi=no_consensus)
    out = compute_fair_values(inputs, NOW_MS)
    text = "\n".join(out.errors)
    assert "KXHIGHNY-26NOV23" in text and "floor_strike" in text
    assert "KXHIGHNY-SOMEDAY" in text and "no YYMONDD date" in text
    assert "cpi KXCPI-26OCT: not priced: no consensus yet" in text
    assert "election_day" in text
    assert not out.values
    # no source of a kind at all (no polls, no CPI data): those markets are left alone, silently
    quiet = compute_fair_values(ModelInputs(tuple(cpi_markets() + race_markets("GA")), cities=(ny(51.0),)), NOW_MS)
    assert quiet.values == () and quiet.errors == ()
    # a market with neither polls nor lean is named; the others are priced
    inputs = election_inputs()
    inputs = ModelInputs(inputs.markets + tuple(race_markets("AK")), inputs.polls, inputs.approval, election=NO_LEANS)
    out = compute_fair_values(inputs, NOW_MS)
    assert any("SEN-AK: no polls and no lean" in e for e in out.errors)
    assert any("Senate control not priced" in e for e in out.errors)
    assert fair(out, "KXSENATEGA-26-D").prob_yes > 0


def test_same_inputs_same_output_and_event_days():
    inputs = election_inputs()
    assert compute_fair_values(inputs, NOW_MS).values == compute_fair_values(inputs, NOW_MS).values
    assert event_day("KXHIGHCHI-26DEC01") == dt.date(2026, 12, 1)
