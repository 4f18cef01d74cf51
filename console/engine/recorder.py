"""Market-data recorder: every raw wire message with its receive time, as JSON lines (gzip for *.gz).

One record per line, in arrival order:

    {"t": 1767225600123456789, "dir": "header", "format": "edgedesk-wire/1", "venue": "kalshi"}
    {"t": ..., "dir": "market", "venue": "kalshi", "ticker": "KX...", "price_ranges": [{"start": ...}]}
    {"t": ..., "dir": "out", "venue": "kalshi", "text": "{\"id\":1,\"cmd\":\"subscribe\",...}"}
    {"t": ..., "dir": "in", "venue": "kalshi", "text": "{\"type\":\"orderbook_delta\",...}"}

`t` is the wall clock (Unix ns) when the frame was read or sent. `text` is the frame exactly as it
travelled; a frame that is not valid UTF-8 is kept as `b64` instead, so even broken input replays
byte for byte. Commands we sent are recorded too: the wire does not say whether a subscription asked
for `use_yes_price`, and replay needs to know. `market` records carry each market's price grid, so a
recording replays offline (`edgedesk replay FILE`, console/engine/replay.py).

`RecordingKalshiWs` is the Kalshi WebSocket client with the recorder on its receive and send paths.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import msgspec

from console.venues.kalshi import codec
from console.venues.kalshi.ws import KalshiWs

FORMAT = "edgedesk-wire/1"
_encode = msgspec.json.Encoder().encode


def open_text(path: str | os.PathLike[str], mode: str) -> IO[str]:
    """Open a recording for text reading/appending; gzip when the name ends in .gz."""
    if str(path).endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8", newline="\n")
    return open(path, mode, encoding="utf-8", newline="\n")


class Recorder:
    """Appends records to a recording file (see the module docstring). Not thread-safe: one writer."""

    def __init__(self, path: str | os.PathLike[str], *, venue: str = "kalshi",
                 clock_ns: Callable[[], int] = time.time_ns, flush_every: int = 512) -> None:
        self.path = Path(path)
        self.venue = venue
        self.clock_ns = clock_ns
        self.flush_every = flush_every
        self.records = 0
        self._file: IO[str] = open_text(self.path, "a")
        self._unflushed = 0
        self._write({"t": clock_ns(), "dir": "header", "format": FORMAT, "venue": venue})

    def market(self, ticker: str, price_ranges: list[dict[str, str]]) -> None:
        """The price grid of a market the session watches (PriceGrid.to_wire() or the REST field)."""
        self._write({"t": self.clock_ns(), "dir": "market", "venue": self.venue, "ticker": ticker,
                     "price_ranges": price_ranges})

    def incoming(self, frame: str | bytes, t_ns: int | None = None) -> None:
        self._frame("in", frame, t_ns)

    def outgoing(self, frame: str | bytes, t_ns: int | None = None) -> None:
        self._frame("out", frame, t_ns)

    def _frame(self, direction: str, frame: str | bytes, t_ns: int | None) -> None:
        record: dict[str, Any] = {"t": self.clock_ns() if t_ns is None else t_ns, "dir": direction,
                                  "venue": self.venue}
        if isinstance(frame, bytes):
            try:
                record["text"] = frame.decode("utf-8")
            except UnicodeDecodeError:
                record["b64"] = base64.b64encode(frame).decode("ascii")
        else:
            record["text"] = frame
        self._write(record)

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(_encode(record).decode("utf-8"))
        self._file.write("\n")
        self.records += 1
        self._unflushed += 1
        if self._unflushed >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        self._file.flush()
        self._unflushed = 0

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | os.PathLike[str]):
    """Yield the records of a recording (plain or gzip, told apart by the gzip magic bytes)."""
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    raw: IO[bytes] = gzip.open(path, "rb") if gz else open(path, "rb")
    with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                raise ValueError(f"{path}:{number}: not a recording line ({exc})") from None
            if not isinstance(record, dict) or "dir" not in record or "t" not in record:
                raise ValueError(f"{path}:{number}: a recording line needs 't' and 'dir'")
            yield record


def frame_of(record: dict[str, Any]) -> str | bytes:
    """The frame of an in/out record, exactly as it travelled."""
    if "text" in record:
        return record["text"]
    return base64.b64decode(record["b64"])


class RecordingKalshiWs(KalshiWs):
    """The Kalshi WebSocket client, recording every frame it reads and every command it sends.

    It wraps the client's receive and send steps (`_on_frame`, `_send`), so what is recorded is exactly
    what the desk's own decoder saw.
    """

    def __init__(self, *args: Any, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder

    def _on_frame(self, frame: str | bytes) -> None:
        self.recorder.incoming(frame)
        super()._on_frame(frame)

    async def _send(self, message: dict[str, Any]) -> None:
        self.recorder.outgoing(codec.encode_json(message).decode())
        await super()._send(message)
