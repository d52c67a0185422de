"""Suggested people (B1): unassigned faces grouped by look, to be named or dismissed.

Incremental, one face at a time in id order, in bounded memory: a face not yet checked looks for
its nearest already-checked unassigned faces (at least `min_similarity` alike, from other photos:
one photo never shows a person twice). It joins the suggestion of the nearest one that is in a
suggestion, or, with enough nearby faces that are in none (from `min_faces` different photos
together with it), starts a new one; else it waits as noise, where a later face can find it. So a
run costs one nearest-neighbour search per new face, a second run has nothing to do, and the same
faces give the same partition. `recluster` starts over (dismissed suggestions keep their faces, so
they are not suggested again).

Faces go in batches of `BATCH`, each written back in one statement to `face_groups`, apart from
the faces' own rows: rewriting one of those is also an insert into their HNSW index. While the checked
faces number at most `EXACT_FACES` they are searched exactly in memory, a batch at a time: in a
first run the HNSW index would be asked for the few checked faces among many unchecked ones, a
filter its graph walk can only satisfy by visiting most of the index. Past that the index answers.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine.db import clusters as cluster_rows
from engine.db import faces as face_rows
from engine.db import persons as person_rows
from engine.db.database import Database
from engine.faces.errors import InvalidRequest, PersonNotFound, SuggestionNotFound
from engine.faces.records import Face, Person
from engine.runtime.progress import Progress, ProgressCallback, ignore
from engine.vectors import unit_rows

NEIGHBOURS = 16
"""Nearest checked faces a new face looks at."""
BATCH = 500
EXACT_FACES = 100_000
"""Checked faces searched exactly in memory (float32: 200 MB at 512 dimensions); more go to the HNSW
index. Exact is the faster of the two up to here: at 100k faces a batch's matrix product costs ~1 ms
a face, an HNSW query with its filter 6–10 ms (bench/RESULTS.md, face clustering at 100,000 faces)."""
EXACT_WORTH = 100
"""A run reads the checked faces into memory only when it places at least 1/100 of their number: at
100k faces, placing 1,000 new ones took about as long through the index as reading all 100k in
(bench/RESULTS.md), so a few new faces ask the index."""
STAGE = "grouping faces"


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


def unit_embeddings(rows: Sequence[dict]) -> np.ndarray:
    """The rows' embeddings as unit float32 vectors (a dot product is their cosine)."""
    return unit_rows(np.stack([r["embedding"].to_numpy() for r in rows]))


@dataclass
class _Tally:
    considered: int = 0
    joined: int = 0
    new: int = 0
    clustered: int = 0


class ExactNeighbours:
    """The checked faces of a run in memory, searched exactly (a matrix product per batch)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = EXACT_FACES if capacity is None else capacity
        self.vectors: np.ndarray | None = None
        self.ids = np.empty(self.capacity, np.int64)
        self.photos = np.empty(self.capacity, np.int64)
        self.clusters: dict[int, int] = {}
        self.size = 0
        self.overflowed = False
        """More faces were added than it holds: the caller must turn to the index."""

    @classmethod
    def of_checked(cls, conn) -> ExactNeighbours:
        exact, after = cls(), 0
        while page := cluster_rows.checked_page(conn, after, 5000):
            exact.add([r["id"] for r in page], [r["photo_id"] for r in page], unit_embeddings(page),
                      {r["id"]: r["cluster_id"] for r in page if r["cluster_id"] is not None})
            after = page[-1]["id"]
        return exact

    def add(self, ids: Sequence[int], photos: Sequence[int], vectors: np.ndarray, clusters: dict[int, int]) -> None:
        """These faces, now checked; `clusters` also moves faces already held into a group."""
        self.clusters.update(clusters)
        if self.size + len(ids) > self.capacity:
            self.overflowed = True
            return
        if self.vectors is None:
            self.vectors = np.empty((self.capacity, vectors.shape[1]), np.float32)
        end = self.size + len(ids)
        self.vectors[self.size:end], self.ids[self.size:end], self.photos[self.size:end] = vectors, ids, photos
        self.size = end

    def nearest(self, queries: np.ndarray, top_k: int, min_score: float) -> list[list[cluster_rows.ClusterNeighbour]]:
        """For each query, the `top_k` nearest held faces at least `min_score` alike, nearest first."""
        if not self.size or self.vectors is None:
            return [[] for _ in queries]
        out = []
        for start in range(0, len(queries), 100):
            scores = queries[start:start + 100] @ self.vectors[:self.size].T
            for row in scores:
                hits = np.flatnonzero(row >= min_score)
                if len(hits) > top_k:
                    hits = hits[np.argpartition(-row[hits], top_k - 1)[:top_k]]
                out.append([cluster_rows.ClusterNeighbour(int(self.ids[h]), int(self.photos[h]),
                                                          self.clusters.get(int(self.ids[h])), float(row[h]))
                            for h in hits])
        return out


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

    def update(self, *, min_similarity: float | None = None, min_faces: int | None = None,
               progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> ClusterReport:
        """Place every face not yet checked (see the module docstring); a cancelled run keeps the
        batches it finished and the next run goes on from there."""
        sim, size = self._params(min_similarity, min_faces)
        report = _Tally()
        with self.db.connection() as conn:
            state = Progress(stage=STAGE, total=cluster_rows.count_unchecked(conn))
            checked = cluster_rows.count_checked(conn)
            in_memory = checked <= EXACT_FACES and state.total * EXACT_WORTH >= checked
            exact = ExactNeighbours.of_checked(conn) if in_memory else None
        (progress or ignore)(state)
        after = 0
        while not (cancel is not None and cancel.is_set()):
            if exact is not None and exact.overflowed:
                exact = None
            with self.db.connection() as conn:
                batch = cluster_rows.unchecked(conn, after, BATCH)
                if not batch:
                    break
                after = batch[-1]["id"]
                self._place_batch(conn, batch, exact, sim, size, report)
            state.done += len(batch)
            (progress or ignore)(state)
        return ClusterReport(report.considered, report.joined, report.new, report.clustered)

    def _place_batch(self, conn, batch: list[dict], exact: ExactNeighbours | None, sim: float, size: int,
                     report: _Tally) -> None:
        ids = [f["id"] for f in batch]
        photos = [f["photo_id"] for f in batch]
        vectors = unit_embeddings(batch)
        if exact is not None:
            before = exact.nearest(vectors, NEIGHBOURS, sim)
        else:
            before = [cluster_rows.neighbours(conn, f["embedding"], NEIGHBOURS, sim) for f in batch]
        alike = vectors @ vectors.T
        groups: dict[int, int] = {}
        photos_of: dict[int, set[int]] = {}
        for i, face_id in enumerate(ids):
            report.considered += 1
            near = [replace(n, cluster_id=groups.get(n.face_id, n.cluster_id)) for n in before[i]]
            near += [cluster_rows.ClusterNeighbour(ids[j], photos[j], groups.get(ids[j]), float(alike[i, j]))
                     for j in np.flatnonzero(alike[i, :i] >= sim)]
            near = sorted(near, key=lambda n: (-n.score, n.face_id))[:NEIGHBOURS]
            for n in near:
                if n.cluster_id is not None and n.cluster_id not in photos_of:
                    photos_of[n.cluster_id] = cluster_rows.photos_of(conn, n.cluster_id)
            spot = place(photos[i], near, photos_of, size)
            if spot.cluster is not None:
                groups[face_id] = spot.cluster
                photos_of[spot.cluster].add(photos[i])
                report.joined += 1
                report.clustered += 1
            elif spot.together:
                cluster_id = cluster_rows.create(conn)
                members = {n.face_id: n.photo_id for n in near if n.face_id in spot.together}
                for member in (face_id, *spot.together):
                    groups[member] = cluster_id
                photos_of[cluster_id] = {photos[i], *members.values()}
                report.new += 1
                report.clustered += 1 + len(spot.together)
        cluster_rows.place(conn, ids, groups)
        if exact is not None:
            exact.add(ids, photos, vectors, groups)

    def recluster(self, *, min_similarity: float | None = None, min_faces: int | None = None) -> ClusterReport:
        """Start over: open suggestions are forgotten and every unassigned face outside a dismissed
        suggestion is placed again (an explicit action: it costs one search per face)."""
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
