"""Suggested people (B1): unassigned faces grouped by look, to be named or dismissed.

Incremental: a face not yet in a group first joins the group of its nearest grouped neighbour
when that one is similar enough (one HNSW query per face); the rest are clustered among
themselves with DBSCAN on cosine distance, and each dense group becomes a suggestion. Faces
left as noise are tried again on the next run, when more faces may make them a group. A
dismissed suggestion keeps its faces, so they are not suggested again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.db import faces as face_rows
from engine.db import persons as person_rows
from engine.db.database import Database
from engine.faces.errors import InvalidRequest, PersonNotFound, SuggestionNotFound
from engine.faces.records import Face, Person


@dataclass(frozen=True)
class ClusterReport:
    considered: int
    joined_existing: int
    new_suggestions: int
    clustered: int


@dataclass(frozen=True)
class Suggestion:
    id: int
    face_count: int
    sample_faces: list[Face]


class FaceClusters:
    def __init__(self, db: Database, min_similarity: float = 0.5, min_faces: int = 3) -> None:
        self.db = db
        self.min_similarity = min_similarity
        self.min_faces = min_faces

    def update(self, *, min_similarity: float | None = None, min_faces: int | None = None) -> ClusterReport:
        from sklearn.cluster import DBSCAN

        sim = self.min_similarity if min_similarity is None else float(min_similarity)
        size = self.min_faces if min_faces is None else int(min_faces)
        if not 0.0 < sim < 1.0 or size < 2:
            raise InvalidRequest("min_similarity must be in (0, 1) and min_faces at least 2")
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id, embedding FROM faces WHERE person_id IS NULL AND cluster_id IS NULL ORDER BY id"
            ).fetchall()
            joined = 0
            rest: list[tuple[int, np.ndarray]] = []
            for r in rows:
                vec = r["embedding"]
                near = conn.execute(
                    "SELECT cluster_id, 1 - (embedding <=> %s) AS score FROM faces"
                    " WHERE cluster_id IS NOT NULL AND person_id IS NULL ORDER BY embedding <=> %s LIMIT 1",
                    (vec, vec),
                ).fetchone()
                if near is not None and near["score"] >= sim:
                    conn.execute("UPDATE faces SET cluster_id = %s WHERE id = %s", (near["cluster_id"], r["id"]))
                    joined += 1
                else:
                    rest.append((r["id"], np.asarray(vec.to_numpy(), np.float32)))
            new_groups = clustered = 0
            if len(rest) >= size:
                X = np.stack([v for _, v in rest])
                labels = DBSCAN(eps=1.0 - sim, min_samples=size, metric="cosine").fit_predict(X)
                for label in sorted(set(labels) - {-1}):
                    members = [rest[i][0] for i in np.flatnonzero(labels == label)]
                    cluster_id = conn.execute("INSERT INTO face_clusters DEFAULT VALUES RETURNING id").fetchone()["id"]
                    conn.execute("UPDATE faces SET cluster_id = %s WHERE id = ANY(%s)", (cluster_id, members))
                    new_groups += 1
                    clustered += len(members)
        return ClusterReport(len(rows), joined, new_groups, clustered)

    def suggestions(self, *, limit: int = 50, offset: int = 0, samples: int = 6) -> list[Suggestion]:
        """Open suggestions, largest first, each with its best faces."""
        with self.db.connection() as conn:
            groups = conn.execute(
                "SELECT c.id, count(f.id) AS n FROM face_clusters c JOIN faces f ON f.cluster_id = c.id"
                " AND f.person_id IS NULL WHERE NOT c.dismissed GROUP BY c.id ORDER BY n DESC, c.id LIMIT %s OFFSET %s",
                (limit, offset),
            ).fetchall()
            out = []
            for g in groups:
                ids = [r["id"] for r in conn.execute(
                    "SELECT id FROM faces WHERE cluster_id = %s AND person_id IS NULL ORDER BY det_score DESC LIMIT %s",
                    (g["id"], samples)).fetchall()]
                out.append(Suggestion(g["id"], g["n"], [Face.from_row(face_rows.get(conn, i)) for i in ids]))
        return out

    def name(self, cluster_id: int, *, name: str | None = None, person_id: int | None = None) -> Person:
        """Give the suggestion's unassigned faces to a new person `name` or an existing `person_id`."""
        if (name is None) == (person_id is None):
            raise InvalidRequest("give either a name for a new person or an existing person id")
        with self.db.connection() as conn:
            self._check(conn, cluster_id)
            if person_id is None:
                if not (name or "").strip():
                    raise InvalidRequest("a person needs a non-empty name")
                person_id = person_rows.create(conn, name.strip()[:200])
            elif person_rows.get(conn, person_id) is None:
                raise PersonNotFound(f"no person with id {person_id}")
            conn.execute("UPDATE faces SET person_id = %s, assigned_by = 'suggestion' WHERE cluster_id = %s"
                         " AND person_id IS NULL", (person_id, cluster_id))
            conn.execute("DELETE FROM face_clusters WHERE id = %s", (cluster_id,))
            return person_rows.get(conn, person_id)

    def dismiss(self, cluster_id: int) -> None:
        with self.db.connection() as conn:
            self._check(conn, cluster_id)
            conn.execute("UPDATE face_clusters SET dismissed = TRUE WHERE id = %s", (cluster_id,))

    @staticmethod
    def _check(conn, cluster_id: int) -> None:
        row = conn.execute("SELECT dismissed FROM face_clusters WHERE id = %s", (cluster_id,)).fetchone()
        if row is None or row["dismissed"]:
            raise SuggestionNotFound(f"no open suggestion with id {cluster_id}")
