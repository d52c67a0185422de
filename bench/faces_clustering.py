"""Suggested people at scale: N synthetic face vectors clustered incrementally, time and peak memory.

Identities are random unit 512-d centres; each face is its identity's centre plus gaussian noise
(cosine ~0.65 between two faces of one person, ~0 between people, like ArcFace). Sizes follow a
long tail (2-80 faces), plus strangers seen once; one to three faces per photo, never one
person twice in a photo. Photos and faces are bulk-loaded (binary COPY) into a fresh embedded
database, the schema's HNSW index is built after the load, and `FaceClusters.update` places
every face (batches of 500: exact search in memory while the checked faces fit, the HNSW index
beyond), then 1 % more faces arrive and are placed.
Scored as pairs of faces against the identities (strangers' faces should stay unsuggested).

    .venv/bin/python bench/faces_clustering.py --n 100000
"""
from __future__ import annotations

import argparse
import gc
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import psutil
from pgvector import Vector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, CpuMeter, command, log, machine, revision, stop_embedded  # noqa: E402

from engine.config import Settings  # noqa: E402
from engine.runtime.progress import Progress  # noqa: E402

DIM = 512
NOISE = 0.73
"""Per-face noise norm relative to the centre: cosine between two faces of one person ~ 1/(1+NOISE²)."""


def synthetic_faces(n: int, seed: int, first_photo: int, strangers: float = 0.1
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, identity per face (-1 = a stranger), photo per face)."""
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    while sum(sizes) < n * (1 - strangers):
        sizes.append(int(min(80, 2 + rng.zipf(1.6))))
    identities = np.concatenate([np.full(s, i) for i, s in enumerate(sizes)])[: int(n * (1 - strangers))]
    identities = np.concatenate([identities, np.full(n - len(identities), -1)])
    rng.shuffle(identities)
    centres = rng.normal(size=(len(sizes), DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.normal(size=(n, DIM)) * (NOISE / np.sqrt(DIM))
    base = np.where(identities[:, None] >= 0, centres[np.maximum(identities, 0)], 0.0)
    strangers_v = rng.normal(size=(n, DIM)) / np.sqrt(DIM)
    vectors = np.where(identities[:, None] >= 0, base + noise, strangers_v)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    photos = np.empty(n, np.int64)
    photo, i = first_photo, 0
    while i < n:
        k = int(rng.integers(1, 4))
        group = identities[i:i + k]
        if len(set(group[group >= 0].tolist())) < int((group >= 0).sum()):
            k = 1  # never one person twice in a photo
        photos[i:i + k] = photo
        photo, i = photo + 1, i + k
    return vectors.astype(np.float32), identities, photos


def load(db, vectors: np.ndarray, photos: np.ndarray, first_face: int, *, with_index: bool) -> float:
    started = time.perf_counter()
    with db.connection() as conn:
        if not with_index:
            conn.execute("DROP INDEX IF EXISTS faces_embedding_hnsw")
        cur = conn.cursor()
        with cur.copy("COPY photos (id, path, size, mtime, format, metadata_read, faces_indexed) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "int8", "float8", "text", "bool", "bool"])
            for p in np.unique(photos):
                copy.write_row((int(p), f"p/{int(p):07d}.jpg", 1000, 0.0, "jpg", True, True))
        with cur.copy("COPY faces (id, photo_id, bbox, det_score, embedding, model) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "float4[]", "float4", "vector", "text"])
            for i, (vec, p) in enumerate(zip(vectors, photos)):
                copy.write_row((first_face + i, int(p), [0.0, 0.0, 10.0, 10.0], 0.9, Vector(vec), "synthetic"))
        for table in ("photos", "faces"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        if not with_index:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX faces_embedding_hnsw ON faces USING hnsw (embedding vector_cosine_ops)")
    return time.perf_counter() - started


def score(db, identities: np.ndarray, first_face: int) -> tuple[float, float, int]:
    with db.connection() as conn:
        rows = conn.execute("SELECT face_id AS id, cluster_id FROM face_groups WHERE cluster_id IS NOT NULL").fetchall()
    clusters: dict[int, list[int]] = {}
    for r in rows:
        clusters.setdefault(r["cluster_id"], []).append(r["id"] - first_face)
    predicted = same = 0
    for members in clusters.values():
        ids = identities[np.array(members)]
        predicted += len(members) * (len(members) - 1) // 2
        for ident in np.unique(ids[ids >= 0]):
            k = int((ids == ident).sum())
            same += k * (k - 1) // 2
    true = sum(int(k) * (int(k) - 1) // 2 for k in np.bincount(identities[identities >= 0]))
    return same / max(1, predicted), same / max(1, true), len(clusters)


class Watch:
    """The progress callback of one run: logs each tenth of the faces once (a 100k run takes
    minutes) and samples this process's resident memory at every batch."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start_mib = self.max_mib = self.rss_mib()
        self.shown: set[int] = set()

    def rss_mib(self) -> float:
        return self.process.memory_info().rss / 2**20

    def __call__(self, p: Progress) -> None:
        self.max_mib = max(self.max_mib, self.rss_mib())
        tenth = p.done * 10 // max(1, p.total)
        if tenth not in self.shown:
            self.shown.add(tenth)
            log(f"{p.stage}: {p.done:,} of {p.total:,} faces ({p.rate:.0f}/s), RSS {self.rss_mib():.0f} MiB")

    def cell(self) -> str:
        return f"{self.start_mib:.0f} → {self.max_mib:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=BENCH_ROOT / "faces-clustering")
    args = parser.parse_args()

    from engine.db.database import open_database
    from engine.faces.clustering import FaceClusters

    shutil.rmtree(args.work, ignore_errors=True)
    settings = Settings(_env_file=None, data_dir=args.work / "data", photos_dir=args.work / "library", index_on_start=False)
    vectors, identities, photos = synthetic_faces(args.n, 1, 1)
    extra = max(1, args.n // 100)
    more_vectors, _, more_photos = synthetic_faces(extra, 2, int(photos.max()) + 1)
    db = open_database(settings)
    try:
        log(f"loading {args.n:,} faces and building the HNSW index")
        loaded = load(db, vectors, photos, 1, with_index=False)
        del vectors
        gc.collect()
        clusters = FaceClusters(db, settings.face_cluster_similarity, settings.face_cluster_min_faces)
        first_watch = Watch()
        with CpuMeter(settings.embedded_db_dir) as first_run:
            first = clusters.update(progress=first_watch)
        precision, recall, suggestions = score(db, identities, 1)
        load(db, more_vectors, more_photos, args.n + 1, with_index=True)
        second_watch = Watch()
        with CpuMeter(settings.embedded_db_dir) as second_run:
            second = clusters.update(progress=second_watch)
        again = clusters.update()
    finally:
        db.close()
        stop_embedded(settings)
    print(f"# {command()}")
    print(f"# engine {revision()}; {machine()}")
    print(f"# {args.n} faces of {len(np.unique(identities[identities >= 0]))} people (+{int((identities < 0).sum())} strangers)"
          f" in {len(np.unique(photos))} photos; bulk load + HNSW build {loaded:.0f} s")
    print()
    print("| step | faces | s | faces/s | new suggestions | joined | RSS MiB at start → most during (this process) | our cores | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| place every face (from scratch) | {first.considered} | {first_run.seconds:.0f} |"
          f" {first.considered / first_run.seconds:.0f} | {first.new_suggestions} | {first.joined_existing} |"
          f" {first_watch.cell()} | {first_run.own_cores:.2f} | {first_run.other_cores:.2f} |")
    print(f"| place {extra} new faces | {second.considered} | {second_run.seconds:.1f} |"
          f" {second.considered / second_run.seconds:.0f} | {second.new_suggestions} | {second.joined_existing} |"
          f" {second_watch.cell()} | {second_run.own_cores:.2f} | {second_run.other_cores:.2f} |")
    print()
    print(f"pairs of faces in one suggestion vs one person: precision {precision:.3f}, recall {recall:.3f};"
          f" {suggestions} suggestions; a third run considered {again.considered} faces")


if __name__ == "__main__":
    main()
