"""Suggested people over many faces: the exact in-memory search and the HNSW index give the same
suggestions, a run switches from one to the other part way, and a cancelled run goes on later."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pgvector import Vector

from engine.config import Settings
from engine.db.database import Database, open_database
from engine.faces import clustering
from engine.faces.clustering import FaceClusters
from engine.runtime.progress import Progress

PEOPLE = 12


def synthetic_faces(seed: int = 7) -> tuple[np.ndarray, list[int], list[int]]:
    """Faces of PEOPLE people (2–14 photos each, ~0.65 alike within a person, ~0 between people) and
    strangers seen once; (vectors, person per face (-1: a stranger), photo per face), shuffled."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(PEOPLE, 512))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    people = [p for p in range(PEOPLE) for _ in range(2 + p)] + [-1] * 40
    rng.shuffle(people)
    vectors = np.stack([(centres[p] if p >= 0 else np.zeros(512)) + rng.normal(size=512) * (0.73 if p >= 0 else 1) / np.sqrt(512)
                        for p in people])
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), people, list(range(1, len(people) + 1))


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=database_url,
                        photos_dir=tmp_path / "library", index_on_start=False)
    database = open_database(settings)
    vectors, _, photos = synthetic_faces()
    with database.connection() as conn:
        for face_id, (vector, photo) in enumerate(zip(vectors, photos), start=1):
            conn.execute("INSERT INTO photos (id, path, size, mtime, format) VALUES (%s, %s, 1000, 0, 'jpg')"
                         " ON CONFLICT DO NOTHING", (photo, f"p{photo}.jpg"))
            conn.execute("INSERT INTO faces (id, photo_id, bbox, det_score, embedding, model)"
                         " VALUES (%s, %s, '{0,0,10,10}', 0.9, %s, 'synthetic')", (face_id, photo, Vector(vector)))
    yield database
    database.close()


def partition(db: Database) -> set[frozenset[int]]:
    with db.connection() as conn:
        rows = conn.execute("SELECT face_id AS id, cluster_id FROM face_groups WHERE cluster_id IS NOT NULL").fetchall()
    groups: dict[int, set[int]] = {}
    for r in rows:
        groups.setdefault(r["cluster_id"], set()).add(r["id"])
    return {frozenset(g) for g in groups.values()}


def by_person() -> set[frozenset[int]]:
    _, people, _ = synthetic_faces()
    return {frozenset(i for i, p in enumerate(people, start=1) if p == person) for person in range(PEOPLE)}


@pytest.mark.parametrize("exact_faces", [10_000, 0, 100], ids=["exact", "index", "exact-then-index"])
def test_every_person_is_one_suggestion_and_strangers_none(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                           exact_faces: int) -> None:
    monkeypatch.setattr(clustering, "BATCH", 40)
    monkeypatch.setattr(clustering, "EXACT_FACES", exact_faces)
    clusters = FaceClusters(db)
    report = clusters.update()
    assert report.considered == sum(2 + p for p in range(PEOPLE)) + 40
    assert partition(db) == by_person()
    assert (report.new_suggestions, report.clustered) == (PEOPLE, report.considered - 40)
    assert clusters.update().considered == 0


def test_a_cancelled_run_keeps_its_batches_and_the_next_goes_on(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clustering, "BATCH", 40)
    cancel = threading.Event()
    seen: list[tuple[str, int, int]] = []

    def progress(p: Progress) -> None:
        seen.append((p.stage, p.done, p.total))
        if p.done >= 80:
            cancel.set()

    clusters = FaceClusters(db)
    first = clusters.update(progress=progress, cancel=cancel)
    total = sum(2 + p for p in range(PEOPLE)) + 40
    assert first.considered == 80
    assert seen == [(clustering.STAGE, 0, total), (clustering.STAGE, 40, total), (clustering.STAGE, 80, total)]
    rest = clusters.update()
    assert rest.considered == total - 80
    assert partition(db) == by_person()


def test_a_few_new_faces_ask_the_index_instead_of_reading_every_face(db: Database,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clustering, "EXACT_WORTH", 10)
    clusters = FaceClusters(db)
    clusters.update()
    reads: list[int] = []
    of_checked = clustering.ExactNeighbours.of_checked
    monkeypatch.setattr(clustering.ExactNeighbours, "of_checked",
                        classmethod(lambda cls, conn: reads.append(1) or of_checked(conn)))
    rng = np.random.default_rng(11)
    centre = rng.normal(size=512)
    with db.connection() as conn:
        for i in range(3):
            vector = centre / np.linalg.norm(centre) + rng.normal(size=512) * 0.73 / np.sqrt(512)
            conn.execute("INSERT INTO photos (id, path, size, mtime, format) VALUES (%s, %s, 1000, 0, 'jpg')",
                         (1000 + i, f"new{i}.jpg"))
            conn.execute("INSERT INTO faces (id, photo_id, bbox, det_score, embedding, model)"
                         " VALUES (%s, %s, '{0,0,10,10}', 0.9, %s, 'synthetic')",
                         (1000 + i, 1000 + i, Vector(vector / np.linalg.norm(vector))))
    again = clusters.update()
    assert reads == []  # 3 × 10 < 130 checked faces: the index, not every checked face read into memory
    assert (again.considered, again.new_suggestions, again.clustered) == (3, 1, 3)
    assert frozenset({1000, 1001, 1002}) in partition(db)
    monkeypatch.setattr(clustering, "EXACT_WORTH", 100)
    with db.connection() as conn:
        conn.execute("DELETE FROM face_groups WHERE face_id >= 1000")
    assert clusters.update().considered == 3 and reads == [1]  # 3 × 100 ≥ 130: worth reading them in
    assert frozenset({1000, 1001, 1002}) in partition(db)
