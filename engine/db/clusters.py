"""SQL for `face_clusters`: suggested people, groups of unassigned faces (migration 002)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg
from pgvector import Vector


def unclustered(conn: psycopg.Connection) -> list[tuple[int, np.ndarray]]:
    """Unassigned faces in no group yet, in id order, with their vectors."""
    rows = conn.execute(
        "SELECT id, embedding FROM faces WHERE person_id IS NULL AND cluster_id IS NULL ORDER BY id").fetchall()
    return [(r["id"], np.asarray(r["embedding"].to_numpy(), np.float32)) for r in rows]


def nearest_group(conn: psycopg.Connection, vector: np.ndarray) -> tuple[int, float] | None:
    """The group of the grouped unassigned face nearest to `vector`, and its cosine similarity."""
    vec = Vector(np.asarray(vector, np.float32))
    row = conn.execute(
        "SELECT cluster_id, 1 - (embedding <=> %s) AS score FROM faces"
        " WHERE cluster_id IS NOT NULL AND person_id IS NULL ORDER BY embedding <=> %s LIMIT 1",
        (vec, vec),
    ).fetchone()
    return None if row is None else (row["cluster_id"], float(row["score"]))


def join(conn: psycopg.Connection, face_id: int, cluster_id: int) -> None:
    conn.execute("UPDATE faces SET cluster_id = %s WHERE id = %s", (cluster_id, face_id))


def create(conn: psycopg.Connection, face_ids: Sequence[int]) -> int:
    """A new open group of these faces."""
    cluster_id = conn.execute("INSERT INTO face_clusters DEFAULT VALUES RETURNING id").fetchone()["id"]
    conn.execute("UPDATE faces SET cluster_id = %s WHERE id = ANY(%s)", (cluster_id, list(face_ids)))
    return cluster_id


def open_groups(conn: psycopg.Connection, limit: int, offset: int) -> list[tuple[int, int]]:
    """(id, unassigned face count) of the groups not dismissed, largest first."""
    rows = conn.execute(
        "SELECT c.id, count(f.id) AS n FROM face_clusters c JOIN faces f ON f.cluster_id = c.id"
        " AND f.person_id IS NULL WHERE NOT c.dismissed GROUP BY c.id ORDER BY n DESC, c.id LIMIT %s OFFSET %s",
        (limit, offset),
    ).fetchall()
    return [(r["id"], r["n"]) for r in rows]


def best_faces(conn: psycopg.Connection, cluster_id: int, limit: int) -> list[int]:
    """Ids of the group's unassigned faces, best detection score first."""
    return [r["id"] for r in conn.execute(
        "SELECT id FROM faces WHERE cluster_id = %s AND person_id IS NULL ORDER BY det_score DESC LIMIT %s",
        (cluster_id, limit))]


def is_open(conn: psycopg.Connection, cluster_id: int) -> bool:
    row = conn.execute("SELECT dismissed FROM face_clusters WHERE id = %s", (cluster_id,)).fetchone()
    return row is not None and not row["dismissed"]


def give_to_person(conn: psycopg.Connection, cluster_id: int, person_id: int) -> None:
    """The group's unassigned faces become the person's (marked `suggestion`); the group goes."""
    conn.execute("UPDATE faces SET person_id = %s, assigned_by = 'suggestion' WHERE cluster_id = %s"
                 " AND person_id IS NULL", (person_id, cluster_id))
    conn.execute("DELETE FROM face_clusters WHERE id = %s", (cluster_id,))


def dismiss(conn: psycopg.Connection, cluster_id: int) -> None:
    """The group stays, with its faces, so they are not suggested again."""
    conn.execute("UPDATE face_clusters SET dismissed = TRUE WHERE id = %s", (cluster_id,))
