"""Pure pane logic: formatting, risk meters, status line, rows, alerts (what the operator reads)."""

from __future__ import annotations

from desk_fixture import FIXED_NOW_MS, desk_snapshot

from console.domain.side import Side
from console.engine.control import Filled, IntentExpired, Mode, OrderUpdated, RiskMeter
from console.tui import format as fmt
from console.tui.alerts import describe
from console.tui.rows import market_rows, proposal_rows
from console.tui.themes import THEME_NAMES, ThemeError, load_themes, next_theme, parse_theme
from console.tui.widgets.ladder import view_levels
from console.tui.widgets.risk import meter_level, meter_markup, used_fraction
from console.tui.widgets.status import short_flatten_report, status_markup


def test_prices_counts_and_money_read_exactly():
    assert fmt.price(5600) == "0.56" and fmt.price(5612) == "0.5612" and fmt.price(None) == "-"
    assert fmt.count(1000) == "10" and fmt.count(1050) == "10.50" and fmt.count(123_400) == "1,234"
    assert fmt.money(1_234_567_890) == "$1,234.57" and fmt.money(-5_000) == "-$0.01"
    assert fmt.money(4_999) == "$0.00" and fmt.money(2_340_000, signed=True) == "+$2.34"
    assert fmt.money_short(12_345_000_000) == "$12.3k" and fmt.money_short(999_990_000) == "$999.99"
    assert fmt.seconds_left(FIXED_NOW_MS + 1, FIXED_NOW_MS) == "1s"
    assert fmt.seconds_left(FIXED_NOW_MS, FIXED_NOW_MS) == "expired"


def test_daily_loss_meter_counts_losses_only_and_breaches_at_the_kill_level():
    winning = RiskMeter("day P&L", 180.0, -250, "$")
    losing = RiskMeter("day P&L", -212.0, -250, "$")
    killed = RiskMeter("day P&L", -260.0, -250, "$")
    assert used_fraction(winning) == 0 and meter_level(winning) == "ok"
    assert meter_level(losing) == "warn" and meter_level(killed) == "breach"
    assert "BREACH" in meter_markup(killed, 10) and "-$260.00 / -$250.00" in meter_markup(killed, 10)
    assert "14 / 120/min" in meter_markup(RiskMeter("orders", 14, 120, "/min"), 8)
    assert "0 / 1 orders" in meter_markup(RiskMeter("unknown orders", 0, 1, "orders"), 8)
    assert "50 / 500 contracts" in meter_markup(RiskMeter("largest position", 50.0, 500, "contracts"), 8)


def test_status_line_modes_flattening_and_the_cost():
    snap = desk_snapshot()
    assert " MANUAL " in status_markup(snap, FIXED_NOW_MS) and "2 proposals" in status_markup(snap, FIXED_NOW_MS)
    assert " FLATTENING " in status_markup(snap, FIXED_NOW_MS, flatten_pending=True)
    done = snap.__class__(**{**{f: getattr(snap, f) for f in snap.__dataclass_fields__}, "mode": Mode.HALTED,
                             "flatten_report": "flatten done in 2 round(s): cost $0.0698 (fees $0.0698)"})
    line = status_markup(done, FIXED_NOW_MS)
    assert " HALTED " in line and "flattened: cost $0.0698" in line
    assert short_flatten_report("nothing to flatten") == "nothing to flatten"


def test_search_matches_every_word_across_ticker_title_venue_and_category():
    snap = desk_snapshot()
    assert list(market_rows(snap, "polymarket senate")) == ["PM-SENATE-26-D"]
    assert set(market_rows(snap, "house")) == {"KXHOUSE-26-R", "PM-HOUSE-26-R"}
    assert list(market_rows(snap, "weather kalshi")) == ["KXHIGHNY-26OCT29-B62"]
    assert market_rows(snap, "nothing-like-this") == {}


def test_expired_proposals_say_so():
    rows = proposal_rows(desk_snapshot(), FIXED_NOW_MS + 10_000)
    assert rows["int-18"][0] == ("exp", "risk-breach") and rows["int-17"][0] == ("14s", "risk-ok")


def test_no_view_swaps_sides_and_prices():
    book = desk_snapshot().books["KXSENATE-26-D"]
    bids, asks, last = view_levels(book, no_view=True)
    assert bids[0].price == 10_000 - book.asks[0][0] and asks[0].price == 10_000 - book.bids[0][0]
    assert last == 10_000 - book.last_price
    assert {lv.price: lv.own for lv in bids if lv.own} == {5300: 1000}  # our YES ask at 0.47 = NO bid 0.53


def test_alert_lines_for_fills_rejections_and_drops():
    fill = describe(Filled("c1", "KXA", Side.ASK, 4700, 500, 18_000, True, "manual"), FIXED_NOW_MS)
    assert fill.kind == "fill" and fill.text == "fill BUY NO 5 KXA @0.47 fee $0.02 (taker, manual)"
    rejected = describe(OrderUpdated("c2", "KXA", "rejected", Side.BID, 5000, 0, 0, "manual", "fat_finger: 12c"),
                        FIXED_NOW_MS)
    assert rejected.level == "error" and "fat_finger: 12c" in rejected.text
    assert describe(OrderUpdated("c3", "KXA", "resting", Side.BID, 5000, 0, 100, "mm"), FIXED_NOW_MS) is None
    dropped = describe(IntentExpired("i1", "expired before approval"), FIXED_NOW_MS)
    assert dropped.level == "warn" and "expired before approval" in dropped.text


def test_themes_load_with_every_desk_colour_and_bad_files_name_the_key():
    themes = load_themes()
    assert [t.name for t in themes] == list(THEME_NAMES)
    assert all({"bid", "ask", "edge-pos", "edge-neg", "risk-warn", "risk-breach"} <= set(t.variables) for t in themes)
    assert next(t for t in themes if t.name == "ansi").ansi
    assert next_theme("colorblind") == "dark" and next_theme("textual-dark") == "dark"
    try:
        parse_theme('name = "x"\nprimary = "#000000"\n[variables]\nbid = "#111111"\n', "x.toml")
    except ThemeError as exc:
        assert "x.toml" in str(exc) and "ask" in str(exc)
    else:
        raise AssertionError("a theme without the desk's colours must be refused")
