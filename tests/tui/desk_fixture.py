"""A fixed, realistic DeskSnapshot for the desk's golden screenshots and UI-mechanics tests.

Everything is deterministic: fixed prices, sizes, names and a fixed clock (`FIXED_NOW_MS`), so the
same snapshot always draws the same screen.
"""

from __future__ import annotations

from console.domain.side import Side
from console.engine.control import (
    Alert, ArbRow, BookTop, DeskSnapshot, EdgeRow, MarketRow, Mode, OrderRow, PositionRow, ProposalRow, RiskMeter,
)

FIXED_NOW_MS = 1_793_000_000_000  # 2026-10-26 07:33:20 UTC
DOLLAR = 1_000_000

MARKETS = [
    # ticker, venue, title, category, yes_bid, yes_ask, last, edge, health, reason
    ("KXSENATE-26-D", "kalshi", "Democrats win the Senate in 2026", "Senate", 4400, 4600, 4500, 0.031, "green", ""),
    ("KXHOUSE-26-R", "kalshi", "Republicans win the House in 2026", "House", 3900, 4100, 4000, -0.012, "green", ""),
    ("KXSENATEPA-26", "kalshi", "Pennsylvania Senate: Democrat wins", "Senate", 5700, 5900, 5800, 0.054, "amber",
     "book 2.4 s old"),
    ("KXGOVCA-26", "kalshi", "California governor: Democrat wins", "Governor", 8600, 8800, 8700, 0.004, "green", ""),
    ("KXHIGHNY-26OCT29-B62", "kalshi", "NYC high 62-63F on Oct 29", "Weather", 2200, 2500, 2300, 0.072, "green", ""),
    ("KXCPI-26NOV-T0.3", "kalshi", "CPI above 0.3% in November", "CPI", 3100, 3400, 3300, None, "red",
     "sequence gap (seq 1042 after 1040); resyncing"),
    ("PM-SENATE-26-D", "polymarket", "Democrats win the Senate (Polymarket)", "Senate", 4800, 4900, 4850, None,
     "green", ""),
    ("PM-HOUSE-26-R", "polymarket", "Republicans win the House (Polymarket)", "House", 4300, 4400, 4350, None,
     "green", ""),
]


def _book(ticker: str, venue: str, bid: int, ask: int, last: int, health: str, reason: str,
          own: tuple = ()) -> BookTop:
    bids = tuple((bid - 100 * i, 1500 + 2300 * ((i * 7) % 5) + 400 * i) for i in range(8))
    asks = tuple((ask + 100 * i, 1200 + 1900 * ((i * 3) % 5) + 500 * i) for i in range(8))
    return BookTop(ticker, venue, bids, asks, health, reason, last, own)


def desk_snapshot(version: int = 1) -> DeskSnapshot:
    markets = tuple(MarketRow(t, v, title, cat, last, b, a, edge, h, r)
                    for t, v, title, cat, b, a, last, edge, h, r in MARKETS)
    own = {"KXSENATE-26-D": ((Side.BID, 4300, 2500), (Side.ASK, 4700, 1000))}
    books = {t: _book(t, v, b, a, last, h, r, own.get(t, ())) for t, v, _, _, b, a, last, _, h, r in MARKETS}
    edges = (
        EdgeRow("KXHIGHNY-26OCT29-B62", "weather", 0.322, 2200, 2500, Side.BID, 0.072, 4000, "BUY YES"),
        EdgeRow("KXSENATEPA-26", "polls", 0.652, 5700, 5900, Side.BID, 0.054, 2500, "BUY YES"),
        EdgeRow("KXSENATE-26-D", "ensemble", 0.497, 4400, 4600, Side.BID, 0.031, 1500, "BUY YES"),
        EdgeRow("KXGOVCA-26", "fundament.", 0.884, 8600, 8800, None, 0.004, 0, "below_min_edge"),
        EdgeRow("KXHOUSE-26-R", "ensemble", 0.388, 3900, 4100, None, -0.012, 0, "no_edge"),
    )
    arbs = (  # as the engine publishes them (console/engine/arbs.py): net edge in dollars per contract,
        # the annualized return in percent, the instruction for both legs in `notes`
        ArbRow("KXSENATE-26-D", "PM-SENATE-26-D", "kalshi_yes", 0.021, 12000, 9.4, True,
               "Kalshi: buy 120 YES at <= 0.46; Polymarket: buy 120 'No' at <= 0.51; profit $2.52 on $117.48 "
               "locked 370 days"),
        ArbRow("KXHOUSE-26-R", "PM-HOUSE-26-R", "kalshi_no", 0.008, 4000, 3.1, False,
               "Kalshi: buy 40 NO at <= 0.61; Polymarket: buy 40 'Yes' at <= 0.36; profit $0.32 on $38.80 locked "
               "370 days; notes: wording differs"),
        ArbRow("KXSENATE-26-D", "PM-SENATE-26-D", "kalshi_no", -0.034, 0, 0.0, True, "no edge after fees"),
    )
    orders = (
        OrderRow("ed-m-0001", "KXSENATE-26-D", Side.BID, 4300, 0, 2500, "resting", "manual"),
        OrderRow("ed-b-0002", "KXSENATE-26-D", Side.ASK, 4700, 500, 1000, "resting", "mm"),
        OrderRow("ed-b-0003", "KXHIGHNY-26OCT29-B62", Side.BID, 2200, 0, 2000, "resting", "weather"),
    )
    proposals = (
        ProposalRow("int-17", "KXSENATEPA-26", Side.BID, 5900, 2500, "polls", 0.054, "poll avg D+3.1 vs price",
                    FIXED_NOW_MS + 24_000),
        ProposalRow("int-18", "KXHIGHNY-26OCT29-B62", Side.BID, 2500, 4000, "weather", 0.072, "NWS 62F point",
                    FIXED_NOW_MS + 9_000),
    )
    positions = (
        PositionRow("KXSENATE-26-D", 5000, 4210, 4400, 12 * DOLLAR, 9_500_000, 350_000, 21_050_000,
                    FIXED_NOW_MS + 370 * 86_400_000),
        PositionRow("KXHOUSE-26-R", -3000, 5800, 5900, 0, -3_000_000, 210_000, 17_400_000,
                    FIXED_NOW_MS + 370 * 86_400_000),
        PositionRow("KXHIGHNY-26OCT29-B62", 1500, 2000, 2200, -4 * DOLLAR, 3_000_000, 90_000, 3_000_000,
                    FIXED_NOW_MS + 15 * 3_600_000),
    )
    risk = (  # units as the engine publishes them: dollars, whole contracts, fractions, per minute
        RiskMeter("total exposure", 41.45, 5000, "$"),
        RiskMeter("day P&L", -212.0, -250, "$"),
        RiskMeter("drawdown", 96.0, 400, "$"),
        RiskMeter("largest position", 50.0, 500, "contracts"),
        RiskMeter("orders", 14, 120, "/min"),
        RiskMeter("venue errors", 0.01, 0.05, "%"),
    )
    pnl = tuple(int(1_000_000 * v) for v in (0, 3, 5, 2, -4, -9, -6, 1, 8, 12, 10, 15, 19, 17, 21, 18, 20, 22))
    alerts = (Alert("info", "fill", "fill BUY NO 5 KXSENATE-26-D @0.47", FIXED_NOW_MS - 60_000),)
    return DeskSnapshot(
        version=version, ts_ms=FIXED_NOW_MS, mode=Mode.MANUAL, mode_reason="operator", venue="sim",
        venue_health="green", venue_reason="", books=books, markets=markets, edges=edges, arbs=arbs, orders=orders,
        proposals=proposals, positions=positions, risk=risk, cost_to_flatten=2_340_000, pnl_today=pnl,
        alerts=alerts, blocked_markets=(("KXCPI-26NOV-T0.3", "order ed-b-0009 outcome unknown; reconciling"),),
    )
