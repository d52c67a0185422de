"""SQL for `albums` and `album_photos` (migration 003). The caller owns the transaction."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg


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


_SELECT = (
    "SELECT a.id, a.name, a.description, a.created_at, a.updated_at,"
    " coalesce(a.cover_photo_id, (SELECT ap.photo_id FROM album_photos ap WHERE ap.album_id = a.id"
    "   ORDER BY ap.added_at DESC, ap.photo_id DESC LIMIT 1)) AS cover_photo_id,"
    " (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id) AS photo_count FROM albums a"
)


def search(conn: psycopg.Connection, text: str | None, limit: int, offset: int) -> list[Album]:
    """Albums whose name contains `text` (all with None), most recently changed first."""
    rows = conn.execute(
        f"{_SELECT} WHERE %s::text IS NULL OR a.name ILIKE '%%' || %s || '%%'"
        " ORDER BY a.updated_at DESC, a.id DESC LIMIT %s OFFSET %s",
        (text, text, limit, offset),
    ).fetchall()
    return [Album(**r) for r in rows]


def count(conn: psycopg.Connection, text: str | None) -> int:
    """How many albums `search` would list without its limit."""
    return conn.execute("SELECT count(*) AS n FROM albums a WHERE %s::text IS NULL OR a.name ILIKE '%%' || %s || '%%'",
                        (text, text)).fetchone()["n"]


def get(conn: psycopg.Connection, album_id: int) -> Album | None:
    row = conn.execute(f"{_SELECT} WHERE a.id = %s", (album_id,)).fetchone()
    return Album(**row) if row else None


def names(conn: psycopg.Connection) -> list[tuple[int, str]]:
    """(id, name) of every album, in id order."""
    return [(r["id"], r["name"]) for r in conn.execute("SELECT id, name FROM albums ORDER BY id")]


def create(conn: psycopg.Connection, name: str, description: str | None) -> int:
    return conn.execute("INSERT INTO albums (name, description) VALUES (%s, %s) RETURNING id",
                        (name, description)).fetchone()["id"]


def lock(conn: psycopg.Connection, album_id: int) -> bool:
    """Hold the album's row until the transaction ends; False when there is no such album."""
    return conn.execute("SELECT 1 FROM albums WHERE id = %s FOR UPDATE", (album_id,)).fetchone() is not None


def update(conn: psycopg.Connection, album_id: int, *, name: str | None = None, description: str | None = None,
           cover_photo_id: int | None = None, clear_cover: bool = False) -> None:
    """Set what is given (an empty description clears it) and mark the album changed."""
    if name is not None:
        conn.execute("UPDATE albums SET name = %s WHERE id = %s", (name, album_id))
    if description is not None:
        conn.execute("UPDATE albums SET description = %s WHERE id = %s", (description or None, album_id))
    if cover_photo_id is not None:
        conn.execute("UPDATE albums SET cover_photo_id = %s WHERE id = %s", (cover_photo_id, album_id))
    elif clear_cover:
        conn.execute("UPDATE albums SET cover_photo_id = NULL WHERE id = %s", (album_id,))
    touch(conn, album_id)


def touch(conn: psycopg.Connection, album_id: int) -> None:
    conn.execute("UPDATE albums SET updated_at = now() WHERE id = %s", (album_id,))


def delete(conn: psycopg.Connection, album_id: int) -> bool:
    return conn.execute("DELETE FROM albums WHERE id = %s", (album_id,)).rowcount == 1


def holds(conn: psycopg.Connection, album_id: int, photo_id: int) -> bool:
    return conn.execute("SELECT 1 FROM album_photos WHERE album_id = %s AND photo_id = %s",
                        (album_id, photo_id)).fetchone() is not None


def add(conn: psycopg.Connection, album_id: int, photo_ids: Sequence[int]) -> int:
    """Add photos (those already in are kept); how many were new."""
    added = conn.execute(
        "INSERT INTO album_photos (album_id, photo_id) SELECT %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
        (album_id, list(photo_ids)),
    ).rowcount
    touch(conn, album_id)
    return added


def remove(conn: psycopg.Connection, album_id: int, photo_ids: Sequence[int]) -> int:
    """Take photos out (a cover among them falls back to the automatic one); how many were in."""
    removed = conn.execute("DELETE FROM album_photos WHERE album_id = %s AND photo_id = ANY(%s)",
                           (album_id, list(photo_ids))).rowcount
    conn.execute("UPDATE albums SET cover_photo_id = NULL WHERE id = %s AND cover_photo_id = ANY(%s)",
                 (album_id, list(photo_ids)))
    touch(conn, album_id)
    return removed


def photos(conn: psycopg.Connection, album_id: int, limit: int, offset: int) -> list[AlbumPhoto]:
    """The album's photos in the order they were added."""
    rows = conn.execute(
        "SELECT p.id, p.path, p.format, p.width, p.height, p.taken_at, ap.added_at FROM album_photos ap"
        " JOIN photos p ON p.id = ap.photo_id WHERE ap.album_id = %s"
        " ORDER BY ap.added_at, p.id LIMIT %s OFFSET %s",
        (album_id, limit, offset),
    ).fetchall()
    return [AlbumPhoto(**r) for r in rows]


def of_photo(conn: psycopg.Connection, photo_id: int) -> list[int]:
    """Ids of the albums a photo is in."""
    return [r["album_id"] for r in conn.execute(
        "SELECT album_id FROM album_photos WHERE photo_id = %s ORDER BY album_id", (photo_id,))]


def put_back(conn: psycopg.Connection, photo_id: int, album_ids: Sequence[int]) -> None:
    """A restored photo goes back into those of `album_ids` that still exist."""
    conn.execute(
        "INSERT INTO album_photos (album_id, photo_id) SELECT a.id, %s FROM albums a WHERE a.id = ANY(%s)"
        " ON CONFLICT DO NOTHING",
        (photo_id, list(album_ids)),
    )
