"""Polymarket read client (issue 4): Gamma discovery, CLOB REST market data, the market WebSocket channel.

codec (msgspec structs, exact units, book hash), wire (number types), rest (`PolymarketRest`),
ws (`PolymarketWs`), events (hash mismatch, stale book, token meta), venue (`resolve_polymarket`: the
simulator's mirror by default, or the real venue).
"""
