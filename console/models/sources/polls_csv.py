"""Polls from a CSV file with the schema in docs/polls-csv.md.

Strict: the header must have every required column and no column outside the schema (a misspelt
`sample_sise` must not be silently ignored), and every bad value is an error naming the line and the
column. Approval rows (race `approval`) become `ApprovalPoll`s with dem_pct/rep_pct read as approve
and disapprove.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from console.models.polls import APPROVAL, ApprovalPoll, Poll
from console.models.sources import SourceFormatError

REQUIRED = ("race", "pollster", "population", "sample_size", "start_date", "end_date", "dem_pct", "rep_pct")
OPTIONAL = ("poll_id", "kind", "undecided_pct", "published", "notes")
POPULATIONS = ("lv", "rv", "a", "v")


def parse_polls_csv(text: str, source: str = "polls.csv") -> tuple[list[Poll], list[ApprovalPoll]]:
    """Parse CSV text (module docstring); returns (race and generic polls, approval polls)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SourceFormatError(f"{source}: missing column(s) {', '.join(missing)}; see docs/polls-csv.md")
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise SourceFormatError(f"{source}: unknown column(s) {', '.join(unknown)}; allowed: "
                                f"{', '.join(REQUIRED + OPTIONAL)}")
    reader.fieldnames = header
    polls: list[Poll] = []
    approval: list[ApprovalPoll] = []
    for row in reader:
        line = reader.line_num
        where = f"{source}:{line}"
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue  # a blank line
        if None in row:
            raise SourceFormatError(f"{where}: more fields than columns in the header")
        race, pollster, population = values["race"], values["pollster"], values["population"].lower()
        if not race or not pollster:
            raise SourceFormatError(f"{where}: race and pollster must not be empty")
        if population not in POPULATIONS:
            raise SourceFormatError(f"{where}: population {values['population']!r}: "
                                    f"use one of {', '.join(POPULATIONS)}")
        n = _int(values["sample_size"], where, "sample_size")
        start, end = _date(values["start_date"], where, "start_date"), _date(values["end_date"], where, "end_date")
        if end < start:
            raise SourceFormatError(f"{where}: end_date {end} is before start_date {start}")
        d, r = _pct(values["dem_pct"], where, "dem_pct"), _pct(values["rep_pct"], where, "rep_pct")
        if values.get("undecided_pct"):
            u = _pct(values["undecided_pct"], where, "undecided_pct")
            if d + r + u > 100.5:
                raise SourceFormatError(f"{where}: dem_pct + rep_pct + undecided_pct = {d + r + u:g} > 100")
        if d + r <= 0:
            raise SourceFormatError(f"{where}: dem_pct + rep_pct must be > 0")
        pid = values.get("poll_id", "") or f"{source}:{line}"
        if race == APPROVAL:
            approval.append(ApprovalPoll(pollster, population, n, start, end, d, r, pid))
        else:
            polls.append(Poll(race, pollster, population, n, start, end, d, r, pid, values.get("kind", "")))
    return polls, approval


def load_polls_csv(path: str | Path) -> tuple[list[Poll], list[ApprovalPoll]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # tolerate the BOM spreadsheets write
    except OSError as exc:
        raise SourceFormatError(f"{p}: cannot read ({exc.strerror})") from None
    return parse_polls_csv(text, str(p))


def _int(text: str, where: str, col: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise SourceFormatError(f"{where}: {col} {text!r} is not a whole number") from None
    if v <= 0:
        raise SourceFormatError(f"{where}: {col} must be > 0")
    return v


def _pct(text: str, where: str, col: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise SourceFormatError(f"{where}: {col} {text!r} is not a number") from None
    if not 0.0 <= v <= 100.0:
        raise SourceFormatError(f"{where}: {col} {v:g} is outside 0..100")
    return v


def _date(text: str, where: str, col: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SourceFormatError(f"{where}: {col} {text!r} is not a YYYY-MM-DD date") from None
