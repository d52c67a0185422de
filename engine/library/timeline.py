"""The timeline: every photo by the moment it was taken, newest first, a page at a time.

A page continues from the last photo seen (a keyset cursor, never an offset), so scrolling
through 100k photos costs the same per page at the end as at the start; `months` feeds the
year/month scrubber. The sidebar's filters narrow it like they narrow a search.
"""
from __future__ import annotations

from datetime import date

from engine.db import filters as filter_sql
from engine.db import timeline as timeline_rows
from engine.db.database import Database
from engine.db.timeline import Cursor, MonthCount, TimelinePhoto
from engine.search.filters import SearchFilters

__all__ = ["Cursor", "MonthCount", "Timeline", "TimelinePhoto"]


def _where(filters: SearchFilters | None) -> timeline_rows.Where:
    return filter_sql.where(filters, "p")


class Timeline:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, filters: SearchFilters | None = None, *, before: Cursor | None = None,
             month: date | None = None, limit: int = 200) -> list[TimelinePhoto]:
        """Newest first: from the top, after `before`, or from the newest photo of `month`."""
        with self.db.connection() as conn:
            return timeline_rows.older(conn, _where(filters), before=before, month=month, limit=limit)

    def newer(self, filters: SearchFilters | None, after: Cursor, limit: int = 200) -> list[TimelinePhoto]:
        """The `limit` photos just above `after`, newest first."""
        with self.db.connection() as conn:
            return timeline_rows.newer(conn, _where(filters), after=after, limit=limit)

    def between(self, filters: SearchFilters | None, newest: Cursor | None, oldest: Cursor,
                limit: int) -> list[TimelinePhoto]:
        """What the stretch from `newest` (None: the top) to `oldest` holds now."""
        with self.db.connection() as conn:
            return timeline_rows.between(conn, _where(filters), newest=newest, oldest=oldest, limit=limit)

    def months(self, filters: SearchFilters | None = None) -> list[MonthCount]:
        with self.db.connection() as conn:
            return timeline_rows.months(conn, _where(filters))
