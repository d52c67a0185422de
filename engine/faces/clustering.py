"""Suggested people (B1): unassigned faces grouped by look, to be named or dismissed.

Incremental, one face at a time in id order, in bounded memory: a face not yet checked asks the
HNSW index for its nearest already-checked unassigned faces (at least `min_similarity` alike,
from other photos: one photo never shows a person twice). It joins the suggestion of the nearest
one that is in a suggestion, or, with enough nearby faces that are in none (from `min_faces`
different photos together with it), starts a new one; else it waits as noise, where a later face
can find it. So a run costs one index query per new face, a second run has nothing to do, and
the same faces give the same partition. `recluster` starts over (dismissed suggestions keep
their faces, so they are not suggested again).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.db import clusters as cluster_rows
from engine.db import faces as face_rows
from engine.db import persons as person_rows
from engine.db.database import Database
from engine.faces.errors import InvalidRequest, PersonNotFound, SuggestionNotFound
from engine.faces.records import Face, Person

NEIGHBOURS = 16
"""Index neighbours a new face looks at."""
BATCH = 500


@dataclass(frozen=True)
class ClusterReport:
    considered: int
    joined_existing: int
    new_suggestions: int
    clustered: int
    """Faces put in a suggestion by this run (joined or new)."""


@dataclass(frozen=True)
class Suggestion:
    id: int
    face_count: int
    photo_count: int
    sample_faces: list[Face]


@dataclass(frozen=True)
class Placement:
    """Where one new face goes: into `cluster` (an existing one), or a new one with `together`, or nowhere."""

    cluster: int | None = None
    together: tuple[int, ...] = ()


def place(photo_id: int, neighbours: Sequence[cluster_rows.ClusterNeighbour], photos_of: dict[int, set[int]],
          min_photos: int) -> Placement:
    """Pure: the nearest neighbour in a suggestion that has no face of this photo yet wins; else the
    unclustered neighbours (one face per photo, nearest first) start one if there are enough photos."""
    others = [n for n in neighbours if n.photo_id != photo_id]
    for n in others:
        if n.cluster_id is not None and photo_id not in photos_of.get(n.cluster_id, set()):
            return Placement(cluster=n.cluster_id)
    together, photos = [], {photo_id}
    for n in others:
        if n.cluster_id is None and n.photo_id not in photos:
            together.append(n.face_id)
            photos.add(n.photo_id)
    if len(photos) >= min_photos:
        return Placement(together=tuple(together))
    return Placement()


class FaceClusters:
    def __init__(self, db: Database, min_similarity: float = 0.5, min_faces: int = 2) -> None:
        self.db = db
        self.min_similarity = min_similarity
        self.min_faces = min_faces

    def _params(self, min_similarity: float | None, min_faces: int | None) -> tuple[float, int]:
        sim = self.min_similarity if min_similarity is None else float(min_similarity)
        size = self.min_faces if min_faces is None else int(min_faces)
        if not 0.0 < sim < 1.0 or size < 2:
            raise InvalidRequest("min_similarity must be in (0, 1) and min_faces at least 2")
        return sim, size

    def update(self, *, min_similarity: float | None = None, min_faces: int | None = None) -> ClusterReport:
        """Place every face not yet checked (see the module docstring)."""
        sim, size = self._params(min_similarity, min_faces)
        considered = joined = new = clustered = 0
        while True:
            with self.db.connection() as conn:
                batch = cluster_rows.unchecked(conn, BATCH)
                if not batch:
                    break
                photos_of: dict[int, set[int]] = {}
                for face in batch:
                    considered += 1
                    neighbours = cluster_rows.neighbours(conn, face["embedding"], NEIGHBOURS, sim)
                    for n in neighbours:
                        if n.cluster_id is not None and n.cluster_id not in photos_of:
                            photos_of[n.cluster_id] = cluster_rows.photos_of(conn, n.cluster_id)
                    spot = place(face["photo_id"], neighbours, photos_of, size)
                    if spot.cluster is not None:
                        cluster_rows.join(conn, face["id"], spot.cluster)
                        photos_of[spot.cluster].add(face["photo_id"])
                        joined += 1
                        clustered += 1
                    elif spot.together:
                        cluster_id = cluster_rows.create(conn, [face["id"], *spot.together])
                        photos_of[cluster_id] = cluster_rows.photos_of(conn, cluster_id)
                        new += 1
                        clustered += 1 + len(spot.together)
                    cluster_rows.mark_checked(conn, face["id"])
        return ClusterReport(considered, joined, new, clustered)

    def recluster(self, *, min_similarity: float | None = None, min_faces: int | None = None) -> ClusterReport:
        """Start over: open suggestions are forgotten and every unassigned face outside a dismissed
        suggestion is placed again (an explicit action: it costs one index query per face)."""
        self._params(min_similarity, min_faces)
        with self.db.connection() as conn:
            cluster_rows.reset(conn)
        return self.update(min_similarity=min_similarity, min_faces=min_faces)

    def suggestions(self, *, limit: int = 50, offset: int = 0, samples: int = 6) -> list[Suggestion]:
        """Open suggestions with faces from at least `min_faces` photos, largest first, each with its best faces."""
        with self.db.connection() as conn:
            out = []
            for g in cluster_rows.open_groups(conn, self.min_faces, limit, offset):
                ids = cluster_rows.best_faces(conn, g["id"], samples)
                out.append(Suggestion(g["id"], g["faces"], g["photos"], [Face.from_row(face_rows.get(conn, i)) for i in ids]))
        return out

    def count(self) -> int:
        """How many suggestions `suggestions` lists without its limit."""
        with self.db.connection() as conn:
            return cluster_rows.count_open(conn, self.min_faces)

    def name(self, cluster_id: int, *, name: str | None = None, person_id: int | None = None) -> Person:
        """Give the suggestion's unassigned faces to a new person `name` or an existing `person_id`
        (except faces a user took away from that person before)."""
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
