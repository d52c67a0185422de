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

from engine.db import clusters as cluster_rows
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
            rows = cluster_rows.unclustered(conn)
            joined = 0
            rest: list[tuple[int, np.ndarray]] = []
            for face_id, vec in rows:
                near = cluster_rows.nearest_group(conn, vec)
                if near is not None and near[1] >= sim:
                    cluster_rows.join(conn, face_id, near[0])
                    joined += 1
                else:
                    rest.append((face_id, vec))
            new_groups = clustered = 0
            if len(rest) >= size:
                X = np.stack([v for _, v in rest])
                labels = DBSCAN(eps=1.0 - sim, min_samples=size, metric="cosine").fit_predict(X)
                for label in sorted(set(labels) - {-1}):
                    members = [rest[i][0] for i in np.flatnonzero(labels == label)]
                    cluster_rows.create(conn, members)
                    new_groups += 1
                    clustered += len(members)
        return ClusterReport(len(rows), joined, new_groups, clustered)

    def suggestions(self, *, limit: int = 50, offset: int = 0, samples: int = 6) -> list[Suggestion]:
        """Open suggestions, largest first, each with its best faces."""
        with self.db.connection() as conn:
            return [Suggestion(cluster_id, n, [Face.from_row(face_rows.get(conn, i))
                                               for i in cluster_rows.best_faces(conn, cluster_id, samples)])
                    for cluster_id, n in cluster_rows.open_groups(conn, limit, offset)]

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
            cluster_rows.give_to_person(conn, cluster_id, person_id)
            return person_rows.get(conn, person_id)

    def dismiss(self, cluster_id: int) -> None:
        with self.db.connection() as conn:
            self._check(conn, cluster_id)
            cluster_rows.dismiss(conn, cluster_id)

    @staticmethod
    def _check(conn, cluster_id: int) -> None:
        if not cluster_rows.is_open(conn, cluster_id):
            raise SuggestionNotFound(f"no open suggestion with id {cluster_id}")
