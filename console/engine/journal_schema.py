"""The journal's SQLite schema, versioned with `PRAGMA user_version`, and its migrations.

Every money, price and count column is an INTEGER in DESIGN.md units (micro-dollars, YES-scale pips,
hundredths of a contract); only model probabilities are REAL. `seq` columns share one journal-wide
sequence so fills, position restatements and settlements replay in the order they happened.

A new journal is created at `SCHEMA_V1` and then taken through every migration in the same
transaction, so a fresh file and an upgraded old one have exactly the same tables.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

SCHEMA_V1 = """
CREATE TABLE sessions (
    session TEXT PRIMARY KEY,
    started_ms INTEGER NOT NULL
);
CREATE TABLE markets (
    ticker TEXT PRIMARY KEY,
    event_ticker TEXT NOT NULL,
    category TEXT NOT NULL,
    mutually_exclusive INTEGER NOT NULL,
    close_ts INTEGER NOT NULL,
    fee_type TEXT NOT NULL,
    fee_multiplier TEXT NOT NULL          -- exact fraction as text, e.g. "1" or "1/2"
);
CREATE TABLE orders (
    client_order_id TEXT PRIMARY KEY,
    order_id TEXT,
    ticker TEXT NOT NULL,
    side TEXT NOT NULL,                   -- bid (wants YES) | ask (wants NO)
    price INTEGER NOT NULL,               -- YES-scale limit
    count INTEGER NOT NULL,
    origin TEXT NOT NULL,                 -- "manual" or the strategy name
    reduce_only INTEGER NOT NULL,
    time_in_force TEXT NOT NULL,
    state TEXT NOT NULL,
    filled INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    facts TEXT NOT NULL                   -- the merged venue facts of console.domain.orders.Order (JSON)
);
CREATE INDEX orders_open ON orders(state, ticker);
CREATE INDEX orders_by_venue_id ON orders(order_id);
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,                   -- created | Accepted | Fill | VenueOrderUpdate | ... | cancel_requested
    state_before TEXT,
    state_after TEXT NOT NULL,
    detail TEXT NOT NULL                  -- JSON
);
CREATE INDEX order_events_by_order ON order_events(client_order_id, id);
CREATE TABLE fills (
    fill_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    client_order_id TEXT,
    ticker TEXT NOT NULL,
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    count INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    is_taker INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    recorded_ms INTEGER NOT NULL
);
CREATE TABLE position_events (
    seq INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,                   -- restate (reconciliation) | settle
    ticker TEXT NOT NULL,
    position INTEGER,
    cost_basis INTEGER,
    yes_value INTEGER
);
CREATE TABLE intents (
    id INTEGER PRIMARY KEY,
    intent_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    ticker TEXT NOT NULL,
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    count INTEGER NOT NULL,
    strategy TEXT NOT NULL,
    model_probability REAL,
    edge_after_fees INTEGER,
    reason TEXT NOT NULL,
    ttl_ms INTEGER NOT NULL,
    yes_bid INTEGER, yes_bid_size INTEGER, yes_ask INTEGER, yes_ask_size INTEGER,
    book_ts_ms INTEGER
);
CREATE INDEX intents_by_id ON intents(intent_id);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    intent_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    decision TEXT NOT NULL,               -- sent | approved | declined | expired | risk_rejected | halted ...
    rule TEXT,
    message TEXT NOT NULL,
    client_order_id TEXT
);
CREATE TABLE predictions (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    model TEXT NOT NULL,
    ticker TEXT NOT NULL,
    probability REAL NOT NULL,
    outcome INTEGER,                      -- 1 YES, 0 NO, NULL until the market resolves
    resolved_ms INTEGER
);
CREATE INDEX predictions_open ON predictions(ticker, outcome);
CREATE TABLE pnl_marks (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    realized INTEGER NOT NULL,
    unrealized INTEGER NOT NULL,
    fees INTEGER NOT NULL,
    exposure INTEGER NOT NULL,
    equity INTEGER
);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    level TEXT NOT NULL,
    source TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,                   -- order_state | fill_missing | order_adopted | position ...
    ticker TEXT,
    client_order_id TEXT,
    field TEXT,
    local_value TEXT,
    venue_value TEXT,
    detail TEXT NOT NULL
);
"""

#: MIGRATIONS[n] upgrades a journal at version n to n + 1: statements run in order, in one transaction
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: predictions carry the market's category (calibration per model and category) and the market's
    # implied YES probability at that moment (the model is scored next to the market on the same rows)
    1: (
        "ALTER TABLE predictions ADD COLUMN category TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE predictions ADD COLUMN market_prob REAL",
        "CREATE INDEX predictions_by_model ON predictions(model, category)",
    ),
}
