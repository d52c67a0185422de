"""Albums: named, ordered-by-addition sets of photos with a cover.

The cover is the photo chosen with `cover_photo_id`, else the most recently added photo. A
photo that leaves the index (trash, deleted file) leaves its albums; the trash remembers the
albums and a restore puts it back in them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.db.database import Database
from engine.search.service import PhotoNotFound


class AlbumNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Album:
    id: int
    name: str
    description: str | None
    cover_photo_id: int | None
    """The explicit cover or, when none is set, the most recently added photo."""
    photo_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AlbumPhoto:
    id: int
    path: str
    format: str
    width: int | None
    height: int | None
    taken_at: datetime | None
    added_at: datetime


_ALBUM_SELECT = (
    "SELECT a.id, a.name, a.description, a.created_at, a.updated_at,"
    " coalesce(a.cover_photo_id, (SELECT ap.photo_id FROM album_photos ap WHERE ap.album_id = a.id"
    "   ORDER BY ap.added_at DESC, ap.photo_id DESC LIMIT 1)) AS cover_photo_id,"
    " (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id) AS photo_count FROM albums a"
)


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("an album needs a non-empty name")
    return name


class Albums:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, search: str | None = None, limit: int = 100, offset: int = 0) -> list[Album]:
        with self.db.connection() as conn:
            rows = conn.execute(
                f"{_ALBUM_SELECT} WHERE %s::text IS NULL OR a.name ILIKE '%%' || %s || '%%'"
                " ORDER BY a.updated_at DESC, a.id DESC LIMIT %s OFFSET %s",
                (search, search, limit, offset),
            ).fetchall()
        return [Album(**r) for r in rows]

    def get(self, album_id: int) -> Album:
        with self.db.connection() as conn:
            row = conn.execute(f"{_ALBUM_SELECT} WHERE a.id = %s", (album_id,)).fetchone()
        if row is None:
            raise AlbumNotFound(f"no album with id {album_id}")
        return Album(**row)

    def create(self, name: str, description: str | None = None, photo_ids: Sequence[int] = ()) -> Album:
        with self.db.connection() as conn:
            album_id = conn.execute(
                "INSERT INTO albums (name, description) VALUES (%s, %s) RETURNING id", (_clean_name(name), description)
            ).fetchone()["id"]
            if photo_ids:
                self._add(conn, album_id, photo_ids)
        return self.get(album_id)

    def update(self, album_id: int, *, name: str | None = None, description: str | None = None,
               cover_photo_id: int | None = None, clear_cover: bool = False) -> Album:
        with self.db.connection() as conn:
            if conn.execute("SELECT 1 FROM albums WHERE id = %s FOR UPDATE", (album_id,)).fetchone() is None:
                raise AlbumNotFound(f"no album with id {album_id}")
            if name is not None:
                conn.execute("UPDATE albums SET name = %s WHERE id = %s", (_clean_name(name), album_id))
            if description is not None:
                conn.execute("UPDATE albums SET description = %s WHERE id = %s", (description or None, album_id))
            if cover_photo_id is not None:
                if conn.execute("SELECT 1 FROM album_photos WHERE album_id = %s AND photo_id = %s",
                                (album_id, cover_photo_id)).fetchone() is None:
                    raise PhotoNotFound(f"photo {cover_photo_id} is not in album {album_id}")
                conn.execute("UPDATE albums SET cover_photo_id = %s WHERE id = %s", (cover_photo_id, album_id))
            elif clear_cover:
                conn.execute("UPDATE albums SET cover_photo_id = NULL WHERE id = %s", (album_id,))
            conn.execute("UPDATE albums SET updated_at = now() WHERE id = %s", (album_id,))
        return self.get(album_id)

    def delete(self, album_id: int) -> None:
        """The album goes; its photos stay in the library."""
        with self.db.connection() as conn:
            if conn.execute("DELETE FROM albums WHERE id = %s", (album_id,)).rowcount == 0:
                raise AlbumNotFound(f"no album with id {album_id}")

    def add(self, album_id: int, photo_ids: Sequence[int]) -> int:
        """Add photos (already present ones are kept); returns how many were new. Unknown ids: nothing added."""
        with self.db.connection() as conn:
            if conn.execute("SELECT 1 FROM albums WHERE id = %s FOR UPDATE", (album_id,)).fetchone() is None:
                raise AlbumNotFound(f"no album with id {album_id}")
            return self._add(conn, album_id, photo_ids)

    def _add(self, conn, album_id: int, photo_ids: Sequence[int]) -> int:
        ids = sorted(set(photo_ids))
        known = {r["id"] for r in conn.execute("SELECT id FROM photos WHERE id = ANY(%s)", (ids,))}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise PhotoNotFound(f"no photos with ids {unknown[:20]}; nothing was added")
        added = conn.execute(
            "INSERT INTO album_photos (album_id, photo_id) SELECT %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
            (album_id, ids),
        ).rowcount
        conn.execute("UPDATE albums SET updated_at = now() WHERE id = %s", (album_id,))
        return added

    def remove(self, album_id: int, photo_ids: Sequence[int]) -> int:
        with self.db.connection() as conn:
            if conn.execute("SELECT 1 FROM albums WHERE id = %s FOR UPDATE", (album_id,)).fetchone() is None:
                raise AlbumNotFound(f"no album with id {album_id}")
            removed = conn.execute("DELETE FROM album_photos WHERE album_id = %s AND photo_id = ANY(%s)",
                                   (album_id, list(photo_ids))).rowcount
            conn.execute("UPDATE albums SET cover_photo_id = NULL WHERE id = %s AND cover_photo_id = ANY(%s)",
                         (album_id, list(photo_ids)))
            conn.execute("UPDATE albums SET updated_at = now() WHERE id = %s", (album_id,))
        return removed

    def photos(self, album_id: int, limit: int = 200, offset: int = 0) -> list[AlbumPhoto]:
        self.get(album_id)
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT p.id, p.path, p.format, p.width, p.height, p.taken_at, ap.added_at FROM album_photos ap"
                " JOIN photos p ON p.id = ap.photo_id WHERE ap.album_id = %s"
                " ORDER BY ap.added_at, p.id LIMIT %s OFFSET %s",
                (album_id, limit, offset),
            ).fetchall()
        return [AlbumPhoto(**r) for r in rows]

    def of_photo(self, photo_id: int) -> list[int]:
        with self.db.connection() as conn:
            return [r["album_id"] for r in conn.execute(
                "SELECT album_id FROM album_photos WHERE photo_id = %s ORDER BY album_id", (photo_id,))]
