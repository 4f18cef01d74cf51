"""The desk's panes: ladder, line table, keyed tables, markets, risk, status line and alerts log."""
