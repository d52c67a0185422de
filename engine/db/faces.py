"""SQL for the `faces` table (migration 002). Functions take an open connection; the caller owns the transaction."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from pgvector import Vector

from engine.db import clusters as cluster_rows
from engine.db.photos import PendingPhoto


@dataclass(frozen=True)
class FaceRow:
    id: int
    photo_id: int
    bbox: list[float]
    landmarks: list[float] | None
    det_score: float
    age: int | None
    gender: str | None
    person_id: int | None
    person_name: str | None
    assigned_by: str | None
    cluster_id: int | None
    model: str
    created_at: datetime
    # of the photo, to rotate boxes on read
    width: int | None
    height: int | None
    rotation: int
    path: str


@dataclass(frozen=True)
class NewFace:
    bbox: Sequence[float]
    landmarks: Sequence[Sequence[float]]
    det_score: float
    embedding: np.ndarray
    age: int | None
    gender: str | None


FACE_SELECT = (
    "SELECT f.id, f.photo_id, f.bbox, f.landmarks, f.det_score, f.age, f.gender, f.person_id,"
    " pe.name AS person_name, f.assigned_by, g.cluster_id, f.model, f.created_at, p.width, p.height,"
    " CASE WHEN jsonb_typeof(p.exif_data->'UserRotation') = 'number'"
    "  THEN (p.exif_data->>'UserRotation')::numeric::int ELSE 0 END AS rotation, p.path"
    " FROM faces f JOIN photos p ON p.id = f.photo_id LEFT JOIN persons pe ON pe.id = f.person_id"
    " LEFT JOIN face_groups g ON g.face_id = f.id"
)


def _row(r: dict[str, Any]) -> FaceRow:
    return FaceRow(**{k: r[k] for k in FaceRow.__dataclass_fields__})


def get(conn: psycopg.Connection, face_id: int) -> FaceRow | None:
    row = conn.execute(f"{FACE_SELECT} WHERE f.id = %s", (face_id,)).fetchone()
    return _row(row) if row else None


def of_photo(conn: psycopg.Connection, photo_id: int) -> list[FaceRow]:
    rows = conn.execute(f"{FACE_SELECT} WHERE f.photo_id = %s ORDER BY f.id", (photo_id,)).fetchall()
    return [_row(r) for r in rows]


def of_person(conn: psycopg.Connection, person_id: int, limit: int = 100, offset: int = 0) -> list[FaceRow]:
    rows = conn.execute(f"{FACE_SELECT} WHERE f.person_id = %s ORDER BY f.det_score DESC, f.id LIMIT %s OFFSET %s",
                        (person_id, limit, offset)).fetchall()
    return [_row(r) for r in rows]


def embedding_of(conn: psycopg.Connection, face_id: int) -> np.ndarray | None:
    row = conn.execute("SELECT embedding FROM faces WHERE id = %s", (face_id,)).fetchone()
    return None if row is None else np.asarray(row["embedding"].to_numpy(), np.float32)


def vectors_of_photo(conn: psycopg.Connection, photo_id: int) -> list[dict[str, Any]]:
    """Existing faces of a photo with what a re-index must carry over."""
    return conn.execute(
        "SELECT id, bbox, embedding, person_id, assigned_by FROM faces WHERE photo_id = %s ORDER BY id",
        (photo_id,),
    ).fetchall()


def insert(conn: psycopg.Connection, photo_id: int, face: NewFace, model: str,
           person_id: int | None = None, assigned_by: str | None = None) -> int:
    row = conn.execute(
        "INSERT INTO faces (photo_id, bbox, landmarks, det_score, age, gender, embedding, person_id, assigned_by, model)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (photo_id, [float(v) for v in face.bbox], [float(v) for p in face.landmarks for v in p], float(face.det_score),
         face.age, face.gender, Vector(np.asarray(face.embedding, np.float32)), person_id, assigned_by, model),
    ).fetchone()
    return row["id"]


def update_detection(conn: psycopg.Connection, face_id: int, face: NewFace, model: str) -> None:
    """New geometry and vector for a face that keeps its id, person and suggestion."""
    conn.execute(
        "UPDATE faces SET bbox = %s, landmarks = %s, det_score = %s, age = %s, gender = %s, embedding = %s,"
        " model = %s WHERE id = %s",
        ([float(v) for v in face.bbox], [float(v) for p in face.landmarks for v in p], float(face.det_score),
         face.age, face.gender, Vector(np.asarray(face.embedding, np.float32)), model, face_id),
    )


def delete(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute("DELETE FROM faces WHERE id = ANY(%s)", (list(ids),))


def mark_indexed(conn: psycopg.Connection, photo_id: int) -> None:
    conn.execute("UPDATE photos SET faces_indexed = TRUE WHERE id = %s", (photo_id,))


def reset_indexed(conn: psycopg.Connection) -> int:
    return conn.execute("UPDATE photos SET faces_indexed = FALSE WHERE faces_indexed").rowcount


def pending(conn: psycopg.Connection, after_id: int = 0, limit: int = 5000) -> list[PendingPhoto]:
    rows = conn.execute(
        "SELECT id, path, format, size, mtime FROM photos"
        " WHERE NOT faces_indexed AND NOT index_failed AND offline_since IS NULL AND id > %s ORDER BY id LIMIT %s",
        (after_id, limit),
    ).fetchall()
    return [PendingPhoto(**r) for r in rows]


def count_pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM photos WHERE NOT faces_indexed AND NOT index_failed"
                        " AND offline_since IS NULL").fetchone()["n"]


@dataclass(frozen=True)
class FaceNeighbour:
    face_id: int
    photo_id: int
    score: float


def nearest(
    conn: psycopg.Connection,
    query: np.ndarray,
    top_k: int,
    *,
    min_score: float | None = None,
    exclude_face_ids: Sequence[int] = (),
    unassigned_only: bool = False,
) -> list[FaceNeighbour]:
    """Nearest faces by cosine through the HNSW index (iterative scans keep filtered queries full)."""
    conditions, params = [], []
    if exclude_face_ids:
        conditions.append("NOT (id = ANY(%s))")
        params.append(list(exclude_face_ids))
    if unassigned_only:
        conditions.append("person_id IS NULL")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    vec = Vector(np.asarray(query, np.float32))
    rows = conn.execute(
        "SELECT * FROM ("
        f" SELECT id AS face_id, photo_id, 1 - (embedding <=> %s) AS score FROM faces {where}"
        " ORDER BY embedding <=> %s LIMIT %s) hits"
        " WHERE %s::float8 IS NULL OR score >= %s ORDER BY score DESC",
        (vec, *params, vec, top_k, min_score, min_score),
    ).fetchall()
    return [FaceNeighbour(**r) for r in rows]


@dataclass(frozen=True)
class FaceCounts:
    total_faces: int
    assigned_faces: int
    unassigned_faces: int
    photos_with_faces: int
    photos_indexed: int
    photos_pending: int
    persons: int
    suggestions: int


def stats(conn: psycopg.Connection, min_photos: int = 2) -> FaceCounts:
    """Counts, all from the rows: suggestions are those that would be listed (`clusters.open_groups`)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM faces) AS total_faces,"
        " (SELECT count(*) FROM faces WHERE person_id IS NOT NULL) AS assigned_faces,"
        " (SELECT count(*) FROM faces WHERE person_id IS NULL) AS unassigned_faces,"
        " (SELECT count(DISTINCT photo_id) FROM faces) AS photos_with_faces,"
        " (SELECT count(*) FROM photos WHERE faces_indexed) AS photos_indexed,"
        " (SELECT count(*) FROM photos WHERE NOT faces_indexed AND NOT index_failed AND offline_since IS NULL) AS photos_pending,"
        " (SELECT count(*) FROM persons) AS persons"
    ).fetchone()
    return FaceCounts(**row, suggestions=cluster_rows.count_open(conn, min_photos))


@dataclass(frozen=True)
class Candidate:
    """An unassigned face proposed to a person, with its best similarity to the person's faces."""

    face_id: int
    photo_id: int
    similarity: float
