"""Client commands of the Kalshi WebSocket API (kalshi-api.md 9.2, 9.3): parse, validate, answer.

Every command is handled synchronously (no await), so a subscription's snapshot and its first delta
can never be separated by another exchange event.

Replies and their `seq` accounting (Kalshi leaves some of this unverified; we pick one and keep it):
- `subscribed` (one per new channel subscription) carries no seq; the first data message is seq 1.
- Subscribing again to a channel the connection already holds adds the new tickers to that
  subscription and answers `ok` with its sid, the next seq and the full ticker list, exactly like
  `update_subscription add_markets` (new orderbook tickers get their snapshot after the `ok`).
- `ok` (update) and `unsubscribed` consume the subscription's next seq; `get_snapshot` answers with
  the snapshots themselves (each with the command's `id`), not with an `ok`.
- Errors that concern one live subscription carry its `sid` and consume its next `seq`; every
  error answering a command carries the command's `id`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from console.sim.ws_hub import CHANNELS, MARKET_FILTER

if TYPE_CHECKING:
    from console.sim.ws_connection import Connection, Subscription


class CommandError(Exception):
    """A refused command: Kalshi's numeric code plus what was wrong (and extra error fields)."""

    def __init__(self, code: int, detail: str = "", **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


_decoder = msgspec.json.Decoder()
_ACTIONS = ("add_markets", "delete_markets", "get_snapshot")


def handle_text(conn: Connection, text: str) -> None:
    """Handle one text frame from the client; every outcome is a reply on the connection."""
    try:
        command = _decoder.decode(text)
    except msgspec.DecodeError:
        conn.send_error(None, 1, "the frame is not valid JSON; send {\"id\": n, \"cmd\": ..., \"params\": {...}}")
        return
    if not isinstance(command, dict):
        conn.send_error(None, 1, "a command must be a JSON object with id, cmd and params")
        return
    cmd_id = command.get("id", 0)
    if isinstance(cmd_id, bool) or not isinstance(cmd_id, int):
        conn.send_error(None, 1, f"id must be an integer, got {cmd_id!r}")
        return
    cmd = command.get("cmd")
    handler = _COMMANDS.get(cmd) if isinstance(cmd, str) else None
    if handler is None:
        conn.send_error(cmd_id, 5, f"{cmd!r}; use one of {', '.join(_COMMANDS)}")
        return
    try:
        handler(conn, cmd_id, command.get("params"))
    except CommandError as exc:
        sub = conn.subs.get(exc.extra.get("sid"))  # type: ignore[arg-type]
        if sub is not None:
            exc.extra["seq"] = sub.next_seq()  # subscription-scoped errors take the sid's next seq
        conn.send_error(cmd_id, exc.code, exc.detail, **exc.extra)


# --- parameter helpers -----------------------------------------------------------------------


def _params(params: Any, *, required: bool = True) -> dict[str, Any]:
    if params is None:
        if required:
            raise CommandError(2, "this command needs a params object")
        return {}
    if not isinstance(params, dict):
        raise CommandError(2, "params must be a JSON object")
    return params


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise CommandError(11, f"{name} must be true or false, got {value!r}")
    return value


def _tickers(conn: Connection, params: dict[str, Any]) -> list[str] | None:
    """The market tickers a command names (market_ticker(s) or market_id(s)), or None if none."""
    given = [key for key in ("market_ticker", "market_tickers", "market_id", "market_ids") if key in params]
    if not given:
        return None
    if len(given) > 1:
        raise CommandError(11, f"give only one of {', '.join(given)}")
    key = given[0]
    raw = params[key]
    values = [raw] if key in ("market_ticker", "market_id") else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise CommandError(11, f"{key} must be a non-empty {'string' if key.endswith(('ticker', 'id')) else 'list of strings'}")
    markets = conn.hub.exchange.markets
    if key.startswith("market_id"):
        by_id = {m.market_id: t for t, m in markets.items()}
        unknown_ids = [v for v in values if v not in by_id]
        if unknown_ids:
            raise CommandError(11, "unknown market id(s)", market_ids=unknown_ids)
        values = [by_id[v] for v in values]
    unknown = [v for v in values if v not in markets]
    if unknown:
        raise CommandError(11, "unknown market ticker(s)", market_tickers=unknown)
    return list(dict.fromkeys(values))


def _ok(conn: Connection, cmd_id: int, sub: Subscription) -> None:
    envelope: dict[str, Any] = {}
    if cmd_id:
        envelope["id"] = cmd_id
    envelope.update(sid=sub.sid, seq=sub.next_seq(), type="ok")
    if not sub.skip_ticker_ack:
        envelope["msg"] = {"market_tickers": list(sub.tickers or ())}
    conn.send_reply(envelope)


def _initial_data(conn: Connection, sub: Subscription, tickers: list[str], send_initial_snapshot: bool) -> None:
    if sub.channel == "orderbook_delta":
        # the snapshot is always sent for orderbook subscriptions, whatever send_initial_snapshot says
        for ticker in tickers:
            conn.hub.send_book_snapshot(sub, ticker)
    elif sub.channel == "ticker" and send_initial_snapshot:
        for ticker in tickers:
            conn.hub.send_ticker_snapshot(sub, ticker)


# --- commands --------------------------------------------------------------------------------


def _subscribe(conn: Connection, cmd_id: int, raw: Any) -> None:
    params = _params(raw)
    channels = params.get("channels")
    if not channels:
        raise CommandError(3, "give a non-empty channels list")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise CommandError(11, "channels must be a list of strings")
    unknown = [c for c in channels if c not in MARKET_FILTER]
    if unknown:
        raise CommandError(8, f"{', '.join(map(repr, unknown))}; known channels: {', '.join(CHANNELS)}")
    tickers = _tickers(conn, params)
    snapshot = _flag(params, "send_initial_snapshot")
    flags = {"use_yes_price": _flag(params, "use_yes_price"), "skip_ticker_ack": _flag(params, "skip_ticker_ack")}
    if tickers is None and any(MARKET_FILTER[c] == "required" for c in channels):
        raise CommandError(14, "orderbook_delta needs market_ticker or market_tickers")
    for channel in dict.fromkeys(channels):
        wanted = None if MARKET_FILTER[channel] == "ignored" else tickers
        existing = conn.channel_subscription(channel)
        if existing is not None:
            added = _add_markets(existing, wanted)
            _ok(conn, cmd_id, existing)
            _initial_data(conn, existing, added, snapshot)
            continue
        sub = conn.new_subscription(channel, None if wanted is None else dict.fromkeys(wanted), **flags)
        reply: dict[str, Any] = {"id": cmd_id} if cmd_id else {}
        conn.send_reply({**reply, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}})
        _initial_data(conn, sub, wanted or [], snapshot)


def _add_markets(sub: Subscription, tickers: list[str] | None) -> list[str]:
    """Widen a subscription; returns the tickers that are new to it."""
    if sub.tickers is None:
        return []  # already all markets (or a channel without market filter)
    if tickers is None:
        if MARKET_FILTER[sub.channel] == "optional":
            sub.tickers = None  # resubscribing without a filter widens to all markets
        return []
    added = [t for t in tickers if t not in sub.tickers]
    sub.tickers.update(dict.fromkeys(added))
    return added


def _unsubscribe(conn: Connection, cmd_id: int, raw: Any) -> None:
    params = _params(raw)
    sids = params.get("sids")
    if not sids:
        raise CommandError(4, "give a non-empty sids list")
    if not isinstance(sids, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in sids):
        raise CommandError(11, "sids must be a list of integers")
    for sid in dict.fromkeys(sids):
        sub = conn.subs.get(sid)
        if sub is None:
            conn.send_error(cmd_id, 7, f"no subscription {sid} on this connection", sid=sid)
            continue
        conn.drop_subscription(sub)
        envelope: dict[str, Any] = {"id": cmd_id} if cmd_id else {}
        conn.send_reply({**envelope, "sid": sid, "seq": sub.next_seq(), "type": "unsubscribed"})


def _update_subscription(conn: Connection, cmd_id: int, raw: Any) -> None:
    params = _params(raw)
    sub = _one_sid(conn, params)
    action = params.get("action")
    if action is None or action == "":
        raise CommandError(15, f"give action: one of {', '.join(_ACTIONS)}")
    if action not in _ACTIONS:
        raise CommandError(13, f"{action!r}; use one of {', '.join(_ACTIONS)}")
    if MARKET_FILTER[sub.channel] == "ignored":
        raise CommandError(13, f"{sub.channel} has no market filter to update", sid=sub.sid)
    tickers = _tickers(conn, params)
    if tickers is None:
        raise CommandError(14, f"{action} needs market_ticker or market_tickers", sid=sub.sid)
    if action == "get_snapshot":
        if sub.channel != "orderbook_delta":
            raise CommandError(13, "get_snapshot is only for orderbook_delta subscriptions", sid=sub.sid)
        missing = [t for t in tickers if not sub.wants(t)]
        if missing:
            raise CommandError(11, "not in this subscription", sid=sub.sid, market_tickers=missing)
        for ticker in tickers:
            conn.hub.send_book_snapshot(sub, ticker, cmd_id)
        return
    if action == "add_markets":
        added = _add_markets(sub, tickers)
        _ok(conn, cmd_id, sub)
        _initial_data(conn, sub, added, _flag(params, "send_initial_snapshot"))
        return
    if sub.tickers is None:
        raise CommandError(11, "this subscription covers all markets; unsubscribe instead", sid=sub.sid)
    for ticker in tickers:
        sub.tickers.pop(ticker, None)
    _ok(conn, cmd_id, sub)


def _one_sid(conn: Connection, params: dict[str, Any]) -> Subscription:
    has_sid, has_sids = "sid" in params, "sids" in params
    if has_sid == has_sids:
        raise CommandError(12, "give sid, or sids with exactly one element (not both)")
    if has_sid:
        sid = params["sid"]
    else:
        sids = params["sids"]
        if not isinstance(sids, list) or len(sids) != 1:
            raise CommandError(12, "sids must contain exactly one subscription id")
        sid = sids[0]
    if isinstance(sid, bool) or not isinstance(sid, int):
        raise CommandError(11, f"sid must be an integer, got {sid!r}")
    sub = conn.subs.get(sid)
    if sub is None:
        raise CommandError(7, f"no subscription {sid} on this connection", sid=sid)
    return sub


def _list_subscriptions(conn: Connection, cmd_id: int, raw: Any) -> None:
    _params(raw, required=False)
    envelope: dict[str, Any] = {"id": cmd_id} if cmd_id else {}
    listing = [{"channel": sub.channel, "sid": sub.sid} for sub in conn.subs.values()]
    conn.send_reply({**envelope, "type": "ok", "msg": listing})


_COMMANDS = {
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "update_subscription": _update_subscription,
    "list_subscriptions": _list_subscriptions,
}
