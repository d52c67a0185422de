"""SQL for the `persons` table and face assignment. The caller owns the transaction."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from engine.db.filters import like_pattern, photos_with_all
from engine.db.photos import PhotoBrief


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    description: str | None
    cover_face_id: int | None
    face_count: int
    photo_count: int
    created_at: datetime
    updated_at: datetime


_SELECT = (
    "SELECT pe.id, pe.name, pe.description,"
    " coalesce(pe.cover_face_id, (SELECT f.id FROM faces f WHERE f.person_id = pe.id"
    "   ORDER BY f.det_score DESC, f.id LIMIT 1)) AS cover_face_id,"
    " (SELECT count(*) FROM faces f WHERE f.person_id = pe.id) AS face_count,"
    " (SELECT count(DISTINCT f.photo_id) FROM faces f WHERE f.person_id = pe.id) AS photo_count,"
    " pe.created_at, pe.updated_at FROM persons pe"
)


def create(conn: psycopg.Connection, name: str, description: str | None = None) -> int:
    return conn.execute("INSERT INTO persons (name, description) VALUES (%s, %s) RETURNING id",
                        (name, description)).fetchone()["id"]


def get(conn: psycopg.Connection, person_id: int) -> PersonRow | None:
    row = conn.execute(f"{_SELECT} WHERE pe.id = %s", (person_id,)).fetchone()
    return PersonRow(**row) if row else None


def get_many(conn: psycopg.Connection, ids: Sequence[int]) -> list[PersonRow]:
    rows = conn.execute(f"{_SELECT} WHERE pe.id = ANY(%s) ORDER BY pe.id", (list(ids),)).fetchall()
    return [PersonRow(**r) for r in rows]


def search(conn: psycopg.Connection, query: str | None, limit: int, offset: int) -> tuple[list[PersonRow], int]:
    where, params = "", []
    if query:
        where = "WHERE pe.name ILIKE %s OR pe.description ILIKE %s"
        params = [like_pattern(query)] * 2
    total = conn.execute(f"SELECT count(*) AS n FROM persons pe {where}", params).fetchone()["n"]
    rows = conn.execute(
        f"SELECT * FROM ({_SELECT} {where}) x ORDER BY face_count DESC, lower(name), id LIMIT %s OFFSET %s",
        (*params, limit, offset),
    ).fetchall()
    return [PersonRow(**r) for r in rows], total


def names(conn: psycopg.Connection) -> list[tuple[int, str]]:
    """(id, name) of every person, in id order."""
    return [(r["id"], r["name"]) for r in conn.execute("SELECT id, name FROM persons ORDER BY id")]


@dataclass(frozen=True)
class PersonPhoto(PhotoBrief):
    face_ids: list[int]
    """The faces of those persons in the photo."""


def photos_showing(conn: psycopg.Connection, person_ids: Sequence[int], limit: int, offset: int
                   ) -> tuple[list[PersonPhoto], int]:
    """Photos showing every one of `person_ids`, newest first, and how many there are."""
    together, args = photos_with_all(person_ids)
    total = conn.execute(f"SELECT count(*) AS n FROM ({together}) x", args).fetchone()["n"]
    rows = conn.execute(
        f"SELECT p.id, p.path, p.format, p.taken_at, p.width, p.height, x.face_ids FROM ({together}) x"
        " JOIN photos p ON p.id = x.photo_id ORDER BY p.taken_at DESC NULLS LAST, p.id LIMIT %s OFFSET %s",
        (*args, limit, offset)).fetchall()
    return [PersonPhoto(**r) for r in rows], total


def update(conn: psycopg.Connection, person_id: int, fields: dict[str, Any]) -> bool:
    allowed = {k: v for k, v in fields.items() if k in ("name", "description", "cover_face_id")}
    if not allowed:
        return conn.execute("SELECT 1 FROM persons WHERE id = %s", (person_id,)).fetchone() is not None
    sets = ", ".join(f"{k} = %s" for k in allowed)
    cur = conn.execute(f"UPDATE persons SET {sets}, updated_at = now() WHERE id = %s", (*allowed.values(), person_id))
    return cur.rowcount == 1


def delete(conn: psycopg.Connection, person_id: int) -> bool:
    return conn.execute("DELETE FROM persons WHERE id = %s", (person_id,)).rowcount == 1


def assign_faces(conn: psycopg.Connection, face_ids: Sequence[int], person_id: int | None, by: str | None,
                 only_unassigned: bool = False) -> int:
    extra = " AND person_id IS NULL" if only_unassigned else ""
    return conn.execute(
        f"UPDATE faces SET person_id = %s, assigned_by = %s WHERE id = ANY(%s){extra}",
        (person_id, by if person_id is not None else None, list(face_ids)),
    ).rowcount


def move_faces(conn: psycopg.Connection, source: int, target: int) -> int:
    return conn.execute("UPDATE faces SET person_id = %s WHERE person_id = %s", (target, source)).rowcount
