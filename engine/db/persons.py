"""SQL for the `persons` table and face assignment. The caller owns the transaction."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
    aliases: list[str] = field(default_factory=list)
    """Other names the person is found by (migration 010): "Саша" for Александр, "Sasha"."""


@dataclass(frozen=True)
class PersonNames:
    id: int
    name: str
    aliases: tuple[str, ...]


_SELECT = (
    "SELECT pe.id, pe.name, pe.description, pe.aliases,"
    " coalesce(pe.cover_face_id, (SELECT f.id FROM faces f WHERE f.person_id = pe.id"
    "   ORDER BY f.det_score DESC, f.id LIMIT 1)) AS cover_face_id,"
    " (SELECT count(*) FROM faces f WHERE f.person_id = pe.id) AS face_count,"
    " (SELECT count(DISTINCT f.photo_id) FROM faces f WHERE f.person_id = pe.id) AS photo_count,"
    " pe.created_at, pe.updated_at FROM persons pe"
)


def create(conn: psycopg.Connection, name: str, description: str | None = None, aliases: Sequence[str] = ()) -> int:
    return conn.execute("INSERT INTO persons (name, description, aliases) VALUES (%s, %s, %s) RETURNING id",
                        (name, description, list(aliases))).fetchone()["id"]


def names(conn: psycopg.Connection) -> list[PersonNames]:
    """Every person's name and aliases, for finding them in text."""
    rows = conn.execute("SELECT id, name, aliases FROM persons ORDER BY id").fetchall()
    return [PersonNames(r["id"], r["name"], tuple(r["aliases"] or ())) for r in rows]


def get(conn: psycopg.Connection, person_id: int) -> PersonRow | None:
    row = conn.execute(f"{_SELECT} WHERE pe.id = %s", (person_id,)).fetchone()
    return PersonRow(**row) if row else None


def get_many(conn: psycopg.Connection, ids: Sequence[int]) -> list[PersonRow]:
    rows = conn.execute(f"{_SELECT} WHERE pe.id = ANY(%s) ORDER BY pe.id", (list(ids),)).fetchall()
    return [PersonRow(**r) for r in rows]


def search(conn: psycopg.Connection, query: str | None, limit: int, offset: int) -> tuple[list[PersonRow], int]:
    where, params = "", []
    if query:
        where = "WHERE pe.name ILIKE %s OR pe.description ILIKE %s OR array_to_string(pe.aliases, ' ') ILIKE %s"
        params = [like_pattern(query)] * 3
    total = conn.execute(f"SELECT count(*) AS n FROM persons pe {where}", params).fetchone()["n"]
    rows = conn.execute(
        f"SELECT * FROM ({_SELECT} {where}) x ORDER BY face_count DESC, lower(name), id LIMIT %s OFFSET %s",
        (*params, limit, offset),
    ).fetchall()
    return [PersonRow(**r) for r in rows], total


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
    allowed = {k: v for k, v in fields.items() if k in ("name", "description", "cover_face_id", "aliases")}
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


def reject(conn: psycopg.Connection, face_ids: Sequence[int], person_id: int) -> None:
    """These faces are not `person_id`: never propose them to that person again."""
    conn.execute("INSERT INTO face_rejections (face_id, person_id) SELECT f, %s FROM unnest(%s::bigint[]) f"
                 " ON CONFLICT DO NOTHING", (person_id, list(face_ids)))


def person_of(conn: psycopg.Connection, face_id: int) -> int | None:
    row = conn.execute("SELECT person_id FROM faces WHERE id = %s", (face_id,)).fetchone()
    return None if row is None else row["person_id"]


@dataclass(frozen=True)
class Proposal:
    face_id: int
    photo_id: int
    similarity: float
    embedding: Any


def proposals(conn: psycopg.Connection, person_id: int, references: Sequence[Any], per_face: int, threshold: float,
              exclude: Sequence[int]) -> list[Proposal]:
    """Unassigned faces at least `threshold` similar to one of `references` (HNSW neighbours of
    each), never one rejected for `person_id` nor one of `exclude`; best similarity per face."""
    if not references:
        return []
    rows = conn.execute(
        "SELECT c.id AS face_id, c.photo_id, max(c.similarity) AS similarity, c.embedding"
        " FROM unnest(%s::vector[]) AS ref(embedding), LATERAL ("
        "   SELECT u.id, u.photo_id, u.embedding, 1 - (u.embedding <=> ref.embedding) AS similarity FROM faces u"
        "   WHERE u.person_id IS NULL ORDER BY u.embedding <=> ref.embedding LIMIT %s) c"
        " WHERE c.similarity >= %s AND NOT (c.id = ANY(%s))"
        " AND NOT EXISTS (SELECT 1 FROM face_rejections r WHERE r.face_id = c.id AND r.person_id = %s)"
        " GROUP BY c.id, c.photo_id, c.embedding ORDER BY similarity DESC, c.id",
        (list(references), per_face, threshold, list(exclude), person_id)).fetchall()
    return [Proposal(**r) for r in rows]


def reference_faces(conn: psycopg.Connection, person_id: int, limit: int) -> list[Any]:
    """The person's best faces' vectors: the ones a user assigned first, then by detection score."""
    return [r["embedding"] for r in conn.execute(
        "SELECT embedding FROM faces WHERE person_id = %s ORDER BY assigned_by = 'user' DESC, det_score DESC, id"
        " LIMIT %s", (person_id, limit))]


def nearest_other_person(conn: psycopg.Connection, embedding: Any, person_id: int) -> tuple[int, float] | None:
    """The person (other than `person_id`) whose face is nearest to `embedding`, and that similarity."""
    row = conn.execute(
        "SELECT person_id, 1 - (embedding <=> %s) AS score FROM faces WHERE person_id IS NOT NULL AND person_id <> %s"
        " ORDER BY embedding <=> %s LIMIT 1", (embedding, person_id, embedding)).fetchone()
    return None if row is None else (row["person_id"], float(row["score"]))
