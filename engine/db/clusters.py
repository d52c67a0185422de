"""SQL for suggested people: `face_clusters` (migration 002), groups of unassigned faces, and
`face_groups` (migration 011): each face's group and whether it was checked against the others,
which makes clustering incremental."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg


NEIGHBOUR_EF_SEARCH = 100
"""HNSW candidates for a face's 16 neighbours: faces of one person are close, so fewer than a
search's (`database.HNSW_EF_SEARCH`) do; the setting lasts for the caller's transaction."""


@dataclass(frozen=True)
class ClusterNeighbour:
    face_id: int
    photo_id: int
    cluster_id: int | None
    score: float


_UNCHECKED = ("f.person_id IS NULL"
              " AND NOT EXISTS (SELECT 1 FROM face_groups g WHERE g.face_id = f.id AND g.checked)")


def count_unchecked(conn: psycopg.Connection) -> int:
    """Unassigned faces not yet checked against the others."""
    return conn.execute(f"SELECT count(*) AS n FROM faces f WHERE {_UNCHECKED}").fetchone()["n"]


def count_checked(conn: psycopg.Connection) -> int:
    """Unassigned faces already checked: the ones a new face is compared with."""
    return conn.execute("SELECT count(*) AS n FROM face_groups g JOIN faces f ON f.id = g.face_id"
                        " WHERE g.checked AND f.person_id IS NULL").fetchone()["n"]


def checked_page(conn: psycopg.Connection, after_id: int, limit: int) -> list[dict[str, Any]]:
    """A page of the checked unassigned faces in id order: id, photo_id, cluster_id, embedding."""
    return conn.cursor(binary=True).execute(  # binary: parsing a vector from text costs more than its query
        "SELECT f.id, f.photo_id, g.cluster_id, f.embedding FROM face_groups g JOIN faces f ON f.id = g.face_id"
        " WHERE g.checked AND f.person_id IS NULL AND f.id > %s ORDER BY f.id LIMIT %s", (after_id, limit)).fetchall()


def unchecked(conn: psycopg.Connection, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Unassigned faces not yet checked against the others, in id order after `after_id`: id, photo_id, embedding."""
    return conn.cursor(binary=True).execute(
        f"SELECT f.id, f.photo_id, f.embedding FROM faces f WHERE {_UNCHECKED} AND f.id > %s ORDER BY f.id LIMIT %s",
        (after_id, limit)).fetchall()


def neighbours(conn: psycopg.Connection, embedding: Any, top_k: int, min_score: float) -> list[ClusterNeighbour]:
    """The nearest already-checked unassigned faces (HNSW), at least `min_score` similar. "Checked"
    is a scalar subquery, not a join, so it stays a filter on the HNSW scan (which the iterative
    scan satisfies) rather than a hash join the planner would sort exactly."""
    conn.execute(f"SET LOCAL hnsw.ef_search = {NEIGHBOUR_EF_SEARCH}")
    rows = conn.execute(
        "SELECT n.face_id, n.photo_id, g.cluster_id, n.score FROM (SELECT f.id AS face_id, f.photo_id,"
        "  1 - (f.embedding <=> %s) AS score FROM faces f"
        "  WHERE f.person_id IS NULL AND (SELECT g.checked FROM face_groups g WHERE g.face_id = f.id)"
        "  ORDER BY f.embedding <=> %s LIMIT %s) n JOIN face_groups g ON g.face_id = n.face_id"
        " WHERE n.score >= %s ORDER BY n.score DESC, n.face_id", (embedding, embedding, top_k, min_score)).fetchall()
    return [ClusterNeighbour(**r) for r in rows]


def photos_of(conn: psycopg.Connection, cluster_id: int) -> set[int]:
    """The photos of the group's unassigned faces."""
    return {r["photo_id"] for r in conn.execute(
        "SELECT DISTINCT f.photo_id FROM face_groups g JOIN faces f ON f.id = g.face_id"
        " WHERE g.cluster_id = %s AND f.person_id IS NULL", (cluster_id,))}


def create(conn: psycopg.Connection) -> int:
    """A new open group, empty until `place` gives it faces."""
    return conn.execute("INSERT INTO face_clusters DEFAULT VALUES RETURNING id").fetchone()["id"]


def place(conn: psycopg.Connection, checked_ids: Sequence[int], groups: Mapping[int, int]) -> None:
    """One statement for a batch: the faces `checked_ids` are checked, and each face in `groups`
    is in that group (the faces' own rows, and so their HNSW entries, are not touched)."""
    checked = set(checked_ids)
    ids = sorted(checked | set(groups))
    conn.execute(
        "INSERT INTO face_groups (face_id, checked, cluster_id)"
        " SELECT * FROM unnest(%s::bigint[], %s::boolean[], %s::bigint[])"
        " ON CONFLICT (face_id) DO UPDATE SET checked = face_groups.checked OR EXCLUDED.checked,"
        "  cluster_id = COALESCE(EXCLUDED.cluster_id, face_groups.cluster_id)",
        (ids, [i in checked for i in ids], [groups.get(i) for i in ids]))


def reset(conn: psycopg.Connection) -> int:
    """Forget the open groups (dismissed ones keep their faces): their faces are checked again."""
    conn.execute("DELETE FROM face_clusters WHERE NOT dismissed")
    return conn.execute(
        "DELETE FROM face_groups g USING faces f WHERE f.id = g.face_id AND f.person_id IS NULL AND g.cluster_id IS NULL"
    ).rowcount


_OPEN = ("FROM face_clusters c JOIN face_groups g ON g.cluster_id = c.id JOIN faces f ON f.id = g.face_id"
         " AND f.person_id IS NULL WHERE NOT c.dismissed GROUP BY c.id HAVING count(DISTINCT f.photo_id) >= %s")


def open_groups(conn: psycopg.Connection, min_photos: int, limit: int, offset: int) -> list[dict[str, Any]]:
    """Groups not dismissed with unassigned faces in at least `min_photos` photos, largest first:
    id, faces, photos."""
    return conn.execute(
        f"SELECT c.id, count(f.id) AS faces, count(DISTINCT f.photo_id) AS photos {_OPEN}"
        " ORDER BY count(f.id) DESC, c.id LIMIT %s OFFSET %s", (min_photos, limit, offset)).fetchall()


def count_open(conn: psycopg.Connection, min_photos: int) -> int:
    """How many groups `open_groups` would list."""
    return conn.execute(f"SELECT count(*) AS n FROM (SELECT c.id {_OPEN}) s", (min_photos,)).fetchone()["n"]


def best_faces(conn: psycopg.Connection, cluster_id: int, limit: int) -> list[int]:
    """Ids of the group's unassigned faces, best detection score first."""
    return [r["id"] for r in conn.execute(
        "SELECT f.id FROM face_groups g JOIN faces f ON f.id = g.face_id WHERE g.cluster_id = %s AND f.person_id IS NULL"
        " ORDER BY f.det_score DESC, f.id LIMIT %s", (cluster_id, limit))]


def is_open(conn: psycopg.Connection, cluster_id: int) -> bool:
    row = conn.execute("SELECT dismissed FROM face_clusters WHERE id = %s", (cluster_id,)).fetchone()
    return row is not None and not row["dismissed"]


def give_to_person(conn: psycopg.Connection, cluster_id: int, person_id: int) -> int:
    """The group's unassigned faces become the person's (marked `suggestion`), except those once
    taken away from that person; the group goes."""
    given = conn.execute(
        "UPDATE faces f SET person_id = %s, assigned_by = 'suggestion' FROM face_groups g"
        " WHERE g.face_id = f.id AND g.cluster_id = %s AND f.person_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM face_rejections r WHERE r.face_id = f.id AND r.person_id = %s)",
        (person_id, cluster_id, person_id)).rowcount
    conn.execute("DELETE FROM face_clusters WHERE id = %s", (cluster_id,))
    return given


def dismiss(conn: psycopg.Connection, cluster_id: int) -> None:
    """The group stays, with its faces, so they are not suggested again."""
    conn.execute("UPDATE face_clusters SET dismissed = TRUE WHERE id = %s", (cluster_id,))
