"""Offline photos: in the index, their file gone (an unmounted disk, a folder moved away).

The scan marks them (`engine.indexing.scan`) and brings them back; this is what a user does with
them: see which they are, and remove them from the index when the files are really gone. Removing
drops their rows with their vectors, faces and album links; the files are not touched (there are none).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.db import offline as offline_rows
from engine.db.database import Database


@dataclass(frozen=True)
class OfflinePhoto:
    id: int
    path: str
    size: int
    offline_since: datetime


class OfflinePhotos:
    def __init__(self, db: Database, on_removed: Callable[[int], object] | None = None) -> None:
        """`on_removed(photo_id)` runs for each removed photo (the thumbnail cache forgets it)."""
        self.db = db
        self.on_removed = on_removed

    def count(self) -> int:
        with self.db.connection() as conn:
            return offline_rows.count(conn)

    def list(self, limit: int = 100, offset: int = 0) -> tuple[list[OfflinePhoto], int]:
        with self.db.connection() as conn:
            rows = offline_rows.listed(conn, limit, offset)
            return [OfflinePhoto(**r) for r in rows], offline_rows.count(conn)

    def ids(self, among: Sequence[int] | None = None) -> list[int]:
        """The offline photos' ids (all, or those of `among`): what `remove` would remove."""
        with self.db.connection() as conn:
            return offline_rows.ids(conn, None if among is None else list(among))

    def remove(self, ids: Sequence[int] | None = None) -> list[int]:
        """Remove offline photos from the index (all, or those of `ids`; online ones are never removed)."""
        with self.db.connection() as conn:
            removed = offline_rows.remove(conn, None if ids is None else list(ids))
        for photo_id in removed:
            if self.on_removed is not None:
                self.on_removed(photo_id)
        return removed
