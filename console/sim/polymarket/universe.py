"""Which Kalshi election markets the Polymarket mirror lists, and how each mirrored pair differs.

About a third of the world's election markets get a Polymarket twin (deterministic from the seed):

- Senate control: a neg-risk event with a "Democratic Party" and a "Republican Party" market, the
  same questions as CONTROLS-2026-D/-R but resolved when the new Congress convenes (later end date,
  different wording); listed before Polymarket charged fees, so fee-free.
- House control: one Yes/No market asking whether the Republicans win, mirrored against
  CONTROLH-2026-D: inverted framing (its Yes is Kalshi's No). Fee-free as well.
- Eight of the fourteen Senate and governor races, one market each, with a variant per race (every
  variant appears at least once):
    identity    same question and rules for one party, same close
    named       outcomes are party names in a random order (["Republican", "Democratic"]), not Yes/No
    inverted    asks about the other party than the Kalshi market it is paired with
    close_time  end date on election day, two weeks before Kalshi's close (it stays open past it)
    wording     resolves on certified results instead of media projections
  These pay the 2026 Politics taker fee (rate 0.04).

In the simulator every pair settles on the same hidden outcome (wording and dates differ, the
result does not); `differences` records what a matcher would have to notice. Identifiers look like
Polymarket's: 0x-hex condition and question ids, 77-digit decimal token ids, numeric Gamma ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

POLITICS_FEE_RATE = "0.04"
NO_FEE_RATE = "0"
RACES_MIRRORED = 8
VARIANTS = ("identity", "named", "inverted", "close_time", "wording")
_PARTY = {"D": ("Democrats", "Democratic", "Democratic Party"), "R": ("Republicans", "Republican", "Republican Party")}


@dataclass(frozen=True)
class PolyEvent:
    event_id: str
    slug: str
    title: str
    description: str
    neg_risk: bool
    neg_risk_market_id: str = ""


@dataclass(frozen=True)
class PolyMarket:
    """One mirrored Polymarket market (a condition with two outcome tokens)."""

    market_id: str  # Gamma's numeric id
    slug: str
    question: str
    description: str
    condition_id: str
    question_id: str
    outcomes: tuple[str, str]
    token_ids: tuple[str, str]
    event: PolyEvent
    group_item_title: str
    kalshi_ticker: str
    kalshi_yes_index: int  # the outcome (token) that pays when the Kalshi market settles Yes
    variant: str
    differences: tuple[str, ...]
    start_ms: int
    end_ms: int
    fee_rate: str  # taker fee rate as a decimal string (fee = shares x rate x p(1-p))
    touch_shares: int  # typical size the mirror's makers quote at the touch

    @property
    def neg_risk(self) -> bool:
        return self.event.neg_risk

    @property
    def relation(self) -> str:
        """"identity" when token 0 pays on Kalshi Yes, "complement" when token 1 does."""
        return "identity" if self.kalshi_yes_index == 0 else "complement"


def _hex(seed: int, *parts: str) -> str:
    return hashlib.sha256(":".join(("edgedesk-polymarket", str(seed), *parts)).encode()).hexdigest()


def _token_id(seed: int, slug: str, outcome: str) -> str:
    return str(int(_hex(seed, "token", slug, outcome), 16))


def _iso_day(day: dt.date, hour: int = 12) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp() * 1000)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.markets: list[PolyMarket] = []
        self._next_market = 612_001
        self._next_event = 48_001

    def event(self, slug: str, title: str, description: str, neg_risk: bool) -> PolyEvent:
        event_id = str(self._next_event)
        self._next_event += 1
        nr_id = "0x" + _hex(self.seed, "neg-risk", slug) if neg_risk else ""
        return PolyEvent(event_id, slug, title, description, neg_risk, nr_id)

    def market(self, event: PolyEvent, slug: str, question: str, description: str, outcomes: tuple[str, str],
               kalshi_ticker: str, kalshi_yes_index: int, variant: str, differences: tuple[str, ...],
               start_ms: int, end_ms: int, fee_rate: str, touch_shares: int, group_item_title: str = "") -> None:
        market_id = str(self._next_market)
        self._next_market += 1
        self.markets.append(PolyMarket(
            market_id=market_id, slug=slug, question=question, description=description,
            condition_id="0x" + _hex(self.seed, "condition", slug),
            question_id="0x" + _hex(self.seed, "question", slug), outcomes=outcomes,
            token_ids=(_token_id(self.seed, slug, outcomes[0]), _token_id(self.seed, slug, outcomes[1])),
            event=event, group_item_title=group_item_title, kalshi_ticker=kalshi_ticker,
            kalshi_yes_index=kalshi_yes_index, variant=variant, differences=differences, start_ms=start_ms,
            end_ms=end_ms, fee_rate=fee_rate, touch_shares=touch_shares,
        ))


def _resolves(yes_if: str, source: str) -> str:
    return (f'This market will resolve to "Yes" if {yes_if}. Otherwise, this market will resolve to "No".\n\n'
            f"{source}")


_MEDIA = ("The resolution source for this market will be a consensus of credible reporting; the race is "
          "considered decided once the Associated Press, Fox News and NBC News have all projected a winner.")
_CERTIFIED = ("This market will resolve based on the certified results published by the state's Secretary of "
              "State. Media projections will not be considered; recounts or legal challenges will delay resolution "
              "until certification.")


def build_universe(world, seed: int) -> list[PolyMarket]:
    """The mirrored markets for a world (reads its specs, election tables and Kalshi markets only)."""
    rng = random.Random(f"edgedesk-polymarket:{seed}:universe")
    b = _Builder(seed)
    ex, cal = world.exchange, world.election.cal
    year = cal.election_day.year
    election_noon = _iso_day(cal.election_day)
    convenes = _iso_day(dt.date(year + 1, 1, 3), 17)

    def kalshi(ticker: str) -> tuple[int, int]:
        m = ex.markets[ticker]
        return m.open_time_ms, m.close_time_ms

    # Senate control: neg-risk event, both parties, fee-free
    event = b.event(f"which-party-will-win-the-senate-in-{year}", f"Which party will win the Senate in {year}?",
                    f"Which party will control the U.S. Senate after the {year} midterm elections.", neg_risk=True)
    for party in ("D", "R"):
        _, adjective, full = _PARTY[party]
        ticker = f"CONTROLS-2026-{party}"  # the world's tickers are fixed to the 2026 cycle
        start, _ = kalshi(ticker)
        b.market(event, f"will-the-{adjective.lower()}-party-control-the-senate-after-the-{year}-midterms",
                 f"Will the {full} control the Senate after the {year} Midterm elections?",
                 _resolves(f"the {full} controls the U.S. Senate when the new Congress convenes on January 3, "
                           f"{year + 1}, counting independents who caucus with it and the Vice President's "
                           "tie-breaking vote", "The resolution source will be the official Senate roster."),
                 ("Yes", "No"), ticker, 0, "control", ("close_time", "wording"), start, convenes, NO_FEE_RATE, 1500,
                 group_item_title=full)
    # House control: inverted framing against CONTROLH-2026-D, fee-free
    event = b.event(f"will-republicans-win-the-house-in-{year}", f"Will Republicans win the House in {year}?",
                    f"Whether the Republican Party wins control of the U.S. House in the {year} midterms.",
                    neg_risk=False)
    start, close = kalshi("CONTROLH-2026-D")
    b.market(event, f"will-republicans-win-the-house-in-{year}", f"Will Republicans win the House in {year}?",
             _resolves(f"the Republican Party wins 218 or more seats in the U.S. House of Representatives in the "
                       f"{year} midterm elections", _MEDIA),
             ("Yes", "No"), "CONTROLH-2026-D", 1, "inverted", ("inverted",), start, close, NO_FEE_RATE, 1500)

    races = list(world.election.race_specs.values())
    chosen = sorted(rng.sample(range(len(races)), RACES_MIRRORED))
    variants = list(VARIANTS)
    rng.shuffle(variants)
    assigned = [variants[i % len(variants)] for i in range(RACES_MIRRORED)]
    rng.shuffle(assigned)
    for index, variant in zip(chosen, assigned, strict=True):
        race = races[index]
        office = "Senate" if race.chamber == "senate" else "Governor"
        prefix = "KXSENATE" if race.chamber == "senate" else "KXGOV"
        what = f"the {race.state_name} {office} race" if office == "Senate" else f"the {race.state_name} governor race"
        base_slug = f"{race.state_name.lower().replace(' ', '-')}-{office.lower()}-election-{year}"
        party = rng.choice("DR")
        if variant == "named":
            party = "D"
        kalshi_party = ("R" if party == "D" else "D") if variant == "inverted" else party
        ticker = f"{prefix}{race.state}-26-{kalshi_party}"
        start, close = kalshi(ticker)
        plural, adjective, full = _PARTY[party]
        event = b.event(base_slug, f"{race.state_name} {office} Election Winner",
                        f"Which party wins {what} in the {year} general election.", neg_risk=False)
        source = _CERTIFIED if variant == "wording" else _MEDIA
        end = election_noon if variant == "close_time" else close
        differences = {"identity": (), "named": ("outcome_names",), "inverted": ("inverted",),
                       "close_time": ("close_time",), "wording": ("wording",)}[variant]
        if variant == "named":
            outcomes = ("Republican", "Democratic") if rng.random() < 0.5 else ("Democratic", "Republican")
            b.market(event, f"{base_slug}-winner", f"{race.state_name} {office} Election: which party wins?",
                     (f"This market will resolve to the party whose candidate wins {what} in the {year} general "
                      f'election: "Democratic" or "Republican". If a candidate of any other party wins, this market '
                      f'will resolve 50-50.\n\n{source}'),
                     outcomes, ticker, outcomes.index("Democratic"), variant, differences, start, end,
                     POLITICS_FEE_RATE, 600)
            continue
        yes_if = f"the {adjective} Party candidate wins {what} in the {year} general election"
        if variant == "close_time":
            yes_if += (f". This market's end date is election day; it stays open until the race is called, and "
                       f"resolves \"No\" if no winner is determined by December 31, {year}")
        b.market(event, f"will-the-{plural.lower()}-win-{base_slug}",
                 f"Will the {plural} win {what} in {year}?", _resolves(yes_if, source), ("Yes", "No"), ticker,
                 1 if variant == "inverted" else 0, variant, differences, start, end, POLITICS_FEE_RATE, 600)
    return b.markets
