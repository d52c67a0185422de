"""SQL of the timeline: photos by the moment they were taken, newest first, read by keyset.

The moment is `taken_at`, else the file time (a scan without EXIF dates still has an order);
`photos_timeline_idx` (migration 009) indexes exactly `MOMENT, id`. A page continues from a
`Cursor` (the last row seen), never from an OFFSET, so page 500 costs what page 1 does.
Conditions come from `engine.db.filters.where(filters, "p")`, the same filters every search applies.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

MOMENT = "coalesce(p.taken_at, to_timestamp(p.mtime))"

Where = tuple[Sequence[str], Sequence[Any]]


@dataclass(frozen=True)
class Cursor:
    """A position in the timeline: the row (moment, id) a page starts after."""

    at: datetime
    id: int


@dataclass(frozen=True)
class TimelinePhoto:
    id: int
    path: str
    format: str
    width: int | None
    height: int | None
    taken_at: datetime | None
    at: datetime
    """The moment it sorts by: `taken_at`, else the file time."""

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.id)


@dataclass(frozen=True)
class MonthCount:
    month: date
    """The first day of the month."""
    count: int


_COLUMNS = f"p.id, p.path, p.format, p.width, p.height, p.taken_at, {MOMENT} AS at"


def _conditions(where: Where) -> tuple[list[str], list[Any]]:
    return ["NOT p.index_failed", *where[0]], list(where[1])


def older(conn: psycopg.Connection, where: Where = ((), ()), *, before: Cursor | None = None,
          month: date | None = None, limit: int = 200) -> list[TimelinePhoto]:
    """Up to `limit` photos older than `before` (from the newest without it), newest first.
    `month` starts the page at the newest photo of that month instead (the scrubber)."""
    conditions, params = _conditions(where)
    if before is not None:
        conditions.append(f"({MOMENT}, p.id) < (%s, %s)")
        params += [before.at, before.id]
    elif month is not None:
        conditions.append(f"{MOMENT} < (%s::date + interval '1 month')::timestamptz")
        params.append(month.replace(day=1))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM photos p WHERE {' AND '.join(conditions)}"
        f" ORDER BY {MOMENT} DESC, p.id DESC LIMIT %s", (*params, limit)).fetchall()
    return [TimelinePhoto(**r) for r in rows]


def newer(conn: psycopg.Connection, where: Where = ((), ()), *, after: Cursor, limit: int = 200) -> list[TimelinePhoto]:
    """Up to `limit` photos newer than `after`, the nearest ones, newest first (scrolling back up)."""
    conditions, params = _conditions(where)
    conditions.append(f"({MOMENT}, p.id) > (%s, %s)")
    params += [after.at, after.id]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM photos p WHERE {' AND '.join(conditions)}"
        f" ORDER BY {MOMENT}, p.id LIMIT %s", (*params, limit)).fetchall()
    return [TimelinePhoto(**r) for r in reversed(rows)]


def between(conn: psycopg.Connection, where: Where = ((), ()), *, newest: Cursor | None, oldest: Cursor,
            limit: int) -> list[TimelinePhoto]:
    """The photos from `newest` (None: the very newest) down to `oldest`, both included, newest
    first: what a page that shows that stretch should show now."""
    conditions, params = _conditions(where)
    conditions.append(f"({MOMENT}, p.id) >= (%s, %s)")
    params += [oldest.at, oldest.id]
    if newest is not None:
        conditions.append(f"({MOMENT}, p.id) <= (%s, %s)")
        params += [newest.at, newest.id]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM photos p WHERE {' AND '.join(conditions)}"
        f" ORDER BY {MOMENT} DESC, p.id DESC LIMIT %s", (*params, limit)).fetchall()
    return [TimelinePhoto(**r) for r in rows]


def months(conn: psycopg.Connection, where: Where = ((), ())) -> list[MonthCount]:
    """How many photos each month holds, newest month first (months with none left out)."""
    conditions, params = _conditions(where)
    rows = conn.execute(
        f"SELECT date_trunc('month', {MOMENT})::date AS month, count(*) AS n FROM photos p"
        f" WHERE {' AND '.join(conditions)} GROUP BY 1 ORDER BY 1 DESC", params).fetchall()
    return [MonthCount(r["month"], r["n"]) for r in rows]

