"""Vector search latency and recall on the real schema and the real search SQL, up to a million photos.

N clustered unit vectors (a mixture of gaussians) are bulk-loaded with binary COPY into a fresh
embedded database's embedding table with their `photos` rows; one person is in 5% of the photos
(a `faces` row each) and 10% are HEIC. The schema's HNSW index is rebuilt after the load. Then:

- the search SQL alone (`engine.db.embeddings.nearest`, what every search runs): Q queries from
  the same mixture, latency percentiles and recall@10 against exact search (numpy, same float16
  values), without a filter, with the person, with the format and with both, at several
  `hnsw.ef_search`; a filtered query that comes back with fewer than 10 rows is counted;
- text search server-side as the REST route runs it (`SearchService.text`: query encoding with
  the model's text tower on the engine's runtime + HNSW + join), top 20, at the engine's
  settings, with the same filters: p50/p95 and whether every query returned the full limit.

    .venv/bin/python bench/search_latency.py --n 1000000 --dim 512
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector import HalfVector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CpuMeter, ensure_model, log, provenance, scratch_dir, stop_embedded  # noqa: E402

from engine.config import Settings  # noqa: E402
from engine.db.database import HNSW_EF_SEARCH, Database, open_database  # noqa: E402
from engine.db.embeddings import nearest, table_name  # noqa: E402
from engine.db.filters import where as filters_where  # noqa: E402
from engine.models.manager import ModelManager  # noqa: E402
from engine.models.registry import MODELS  # noqa: E402
from engine.search.filters import SearchFilters  # noqa: E402
from engine.search.service import SearchService  # noqa: E402

TOP_K = 10
SEARCH_LIMIT = 20
FILTER_FORMAT = "heic"
PERSON_ID = 1
TEXTS = ["a photo of a beach", "snowy mountains", "a red car in the city", "my grandmother at a birthday party",
         "sunset over the sea", "the dog in the garden", "fireworks at new year", "a lake in autumn"]


@dataclass(frozen=True)
class Filter:
    name: str
    filters: SearchFilters
    mask: np.ndarray | None


@dataclass(frozen=True)
class Result:
    ef_search: int
    filter: Filter
    latencies_ms: np.ndarray
    recall: float
    short: int
    plan: str
    other_cores: float

    def markdown(self) -> str:
        p50, p95, p99 = np.percentile(self.latencies_ms, [50, 95, 99])
        return (f"| {self.ef_search} | {self.filter.name} | {p50:.2f} | {p95:.2f} | {p99:.2f} | {self.recall:.3f} |"
                f" {self.short} | {self.plan} | {self.other_cores:.2f} |")


class Recorder:
    """A connection stand-in that remembers the last statement, to EXPLAIN exactly what ran."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.last: tuple[str, Any] = ("", None)

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor:
        self.last = (sql, params)
        return self.conn.execute(sql, params)


def normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def mixture(rng: np.random.Generator, centres: np.ndarray, weights: np.ndarray, n: int, spread: float) -> np.ndarray:
    """float16 unit vectors around weighted centres, made in chunks (a million rows fit in memory
    once); `spread` is the noise norm relative to a centre's."""
    dim = centres.shape[1]
    out = np.empty((n, dim), np.float16)
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        labels = rng.choice(len(centres), size=size, p=weights)
        noise = rng.standard_normal((size, dim), dtype=np.float32) * np.float32(spread / np.sqrt(dim))
        out[start:start + size] = normalised(centres[labels] + noise)
    return out


def bulk_load(db: Database, table: str, vectors: np.ndarray, formats: list[str], person_photos: np.ndarray) -> float:
    """photos + vectors + one face of the person on each of `person_photos` (ids), by binary COPY."""
    started = time.perf_counter()
    with db.connection() as conn, conn.cursor() as cur:
        with cur.copy("COPY photos (id, path, size, mtime, format, metadata_read) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "int8", "float8", "text", "bool"])
            for i, fmt in enumerate(formats, start=1):
                copy.write_row((i, f"library/{i // 1000:04d}/{i:07d}.{fmt}", 2_000_000, 0.0, fmt, True))
        cur.execute("SELECT setval('photos_id_seq', %s)", (len(formats),))
        with cur.copy(f"COPY {table} (photo_id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "halfvec"])
            for i, vec in enumerate(vectors, start=1):
                copy.write_row((i, HalfVector(vec)))
        cur.execute("INSERT INTO persons (id, name) VALUES (%s, 'Grandma')", (PERSON_ID,))
        face = "[" + ",".join(["0.0441941738"] * 512) + "]"  # one unit vector: faces are not searched here
        with cur.copy("COPY faces (photo_id, bbox, det_score, embedding, person_id, assigned_by, model) FROM STDIN") as copy:
            for pid in person_photos:
                copy.write_row((int(pid), "{10,10,60,60}", 0.9, face, PERSON_ID, "user", "bench"))
    return time.perf_counter() - started


def build_index(db: Database, pgdata: Path, table: str, indexdef: str, memory: str, workers: int) -> CpuMeter:
    """The vectors live in TOAST, so the heap is small enough that PostgreSQL would plan a serial
    build; the table's `parallel_workers` asks for the parallel one (reset afterwards)."""
    with db.connection() as conn:
        conn.execute(f"SET maintenance_work_mem = '{memory}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {workers}")
        conn.execute(f"ALTER TABLE {table} SET (parallel_workers = {workers})")
        conn.commit()
        with CpuMeter(pgdata) as cpu:
            conn.execute(indexdef)
            conn.commit()
        conn.execute(f"ALTER TABLE {table} RESET (parallel_workers)")
        conn.execute("ANALYZE")
    return cpu


def exact_top(data: np.ndarray, queries: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Photo ids (1-based) of the exact top-k by cosine over rows where `mask` holds, in chunks."""
    q = normalised(queries.astype(np.float32))
    best_scores = np.full((len(q), TOP_K), -np.inf, np.float32)
    best_ids = np.zeros((len(q), TOP_K), np.int64)
    for start in range(0, len(data), 200_000):
        scores = q @ data[start:start + 200_000].astype(np.float32).T
        if mask is not None:
            scores[:, ~mask[start:start + 200_000]] = -np.inf
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        merged_scores, merged_ids = np.hstack([best_scores, scores]), np.hstack([best_ids, ids])
        top = np.argpartition(-merged_scores, TOP_K, axis=1)[:, :TOP_K]
        best_scores = np.take_along_axis(merged_scores, top, axis=1)
        best_ids = np.take_along_axis(merged_ids, top, axis=1)
    return best_ids + 1


def measure(conn: psycopg.Connection, pgdata: Path, model: str, index: str, queries: np.ndarray, truth: np.ndarray,
            ef: int, flt: Filter) -> Result:
    conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")  # this transaction only: the pool's connections keep the engine's
    where = filters_where(flt.filters)
    for q in queries[:20]:
        nearest(conn, model, q, TOP_K, where=where)
    latencies, recalls, short = [], [], 0
    with CpuMeter(pgdata) as cpu:
        for q, exact in zip(queries, truth):
            started = time.perf_counter()
            hits = nearest(conn, model, q, TOP_K, where=where)
            latencies.append(1000 * (time.perf_counter() - started))
            short += len(hits) < TOP_K
            recalls.append(len({h.id for h in hits} & set(exact.tolist())) / TOP_K)
    recorder = Recorder(conn)
    nearest(recorder, model, queries[0], TOP_K, where=where)  # type: ignore[arg-type]
    sql, params = recorder.last
    plan = "\n".join(r["QUERY PLAN"] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
    kind = f"HNSW `{index}`" if index in plan else "exact (no HNSW)"
    return Result(ef, flt, np.asarray(latencies), float(np.mean(recalls)), short, kind, cpu.other_cores)


def text_search(search: SearchService, model: str, flt: Filter, rounds: int) -> tuple[np.ndarray, int, int]:
    """Latencies (ms) of `SearchService.text` over TEXTS x rounds, queries short of the limit, total."""
    for text in TEXTS[:3]:
        search.text(text, model=model, top_k=SEARCH_LIMIT, filters=flt.filters)
    latencies, short = [], 0
    for _ in range(rounds):
        for text in TEXTS:
            started = time.perf_counter()
            hits = search.text(text, model=model, top_k=SEARCH_LIMIT, filters=flt.filters).hits
            latencies.append(1000 * (time.perf_counter() - started))
            short += len(hits) < SEARCH_LIMIT
    return np.asarray(latencies), short, rounds * len(TEXTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="vectors (photos) in the table")
    parser.add_argument("--dim", type=int, default=1152, choices=sorted({s.dim for s in MODELS.values()}))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--spread", type=float, default=1.0, help="noise norm relative to a cluster centre")
    parser.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    parser.add_argument("--text-rounds", type=int, default=10, help="rounds over the text queries per filter")
    parser.add_argument("--maintenance-work-mem", default="2GB")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    spec = next(s for s in MODELS.values() if s.dim == args.dim)
    table = table_name(spec.name)
    rng = np.random.default_rng(args.seed)
    centres = normalised(rng.standard_normal((args.clusters, args.dim), dtype=np.float32))
    weights = rng.dirichlet(np.ones(args.clusters))
    log(f"generating {args.n:,} x {args.dim} vectors in {args.clusters} clusters")
    data = mixture(rng, centres, weights, args.n, args.spread)
    queries = mixture(rng, centres, weights, args.queries, args.spread)
    heic = rng.random(args.n) < 0.10
    person = rng.random(args.n) < 0.05
    formats = [FILTER_FORMAT if f else "jpg" for f in heic]
    filters = [
        Filter("none", SearchFilters(), None),
        Filter(f"person ({person.mean():.1%})", SearchFilters(person_ids=(PERSON_ID,)), person),
        Filter(f"format = {FILTER_FORMAT} ({heic.mean():.1%})", SearchFilters(formats=(FILTER_FORMAT,)), heic),
        Filter(f"person and format ({(person & heic).mean():.2%})",
               SearchFilters(person_ids=(PERSON_ID,), formats=(FILTER_FORMAT,)), person & heic),
    ]
    log("exact top-10 by numpy")
    truth = {f.name: exact_top(data, queries, f.mask) for f in filters}
    model_dir = ensure_model(spec)

    run_dir = scratch_dir("search-run-")
    settings = Settings(_env_file=None, data_dir=run_dir, database_url=None, model_paths={spec.name: model_dir},
                        clip_model=spec.name)
    db = open_database(settings)
    pgdata = settings.embedded_db_dir.resolve()
    workers = max(0, (os.cpu_count() or 1) - 1)
    models = ModelManager(settings)
    try:
        with db.connection() as conn:
            row = conn.execute("SELECT indexname, indexdef FROM pg_indexes"
                               " WHERE tablename = %s AND indexdef ILIKE '%%using hnsw%%'", (table,)).fetchone()
            index, indexdef = row["indexname"], row["indexdef"]
            conn.execute(f"DROP INDEX {index}")
            conn.execute("DROP INDEX faces_embedding_hnsw")  # face vectors are not searched here
        log(f"loading {table}")
        load_s = bulk_load(db, table, data, formats, np.flatnonzero(person) + 1)
        log(f"loaded in {load_s:.1f} s; building {index}")
        build = build_index(db, pgdata, table, indexdef, args.maintenance_work_mem, workers)
        log(f"built in {build.seconds:.1f} s")
        with db.connection() as conn:
            sizes = conn.execute("SELECT pg_size_pretty(pg_relation_size(%s)) AS idx,"
                                 " pg_size_pretty(pg_total_relation_size(%s)) AS tbl,"
                                 " current_setting('shared_buffers') AS sb",
                                 (index, table)).fetchone()
            results = [measure(conn, pgdata, spec.name, index, queries, truth[f.name], ef, f)
                       for ef in args.ef for f in filters]
        log("text search through SearchService")
        search = SearchService(db, models, default_model=spec.name)
        model = models.warm(spec.name)
        started = time.perf_counter()
        for _ in range(20):
            model.encode_text([TEXTS[0]])
        encode_ms = 1000 * (time.perf_counter() - started) / 20
        with CpuMeter(pgdata) as text_cpu:
            texts = [(f, *text_search(search, spec.name, f, args.text_rounds)) for f in filters]
        runtime = model.backend
    finally:
        models.unload_all()
        db.close()
        stop_embedded(settings)
        shutil.rmtree(run_dir, ignore_errors=True)

    print(f"\n### Search latency: {args.n:,} x halfvec({args.dim}) in `{table}`, top-{TOP_K},"
          f" {args.queries} queries through `engine.db.embeddings.nearest`\n")
    print(f"- data: mixture of {args.clusters} gaussians (Dirichlet weights, noise/centre norm {args.spread}), unit norm;"
          f" queries from the same mixture; one person in {person.mean():.1%} of the photos (a `faces` row each),"
          f" {heic.mean():.1%} HEIC")
    print(f"- bulk load (binary COPY, photos + vectors + faces): {load_s:.1f} s;"
          f" HNSW build after the load: **{build.seconds:.1f} s** (`{indexdef.split(' USING ')[1]}`, m=16,"
          f" ef_construction=64 defaults, maintenance_work_mem {args.maintenance_work_mem}, {workers} parallel maintenance"
          f" workers (table parallel_workers={workers}: the TOASTed heap is too small for PostgreSQL to plan them"
          f" otherwise); {build.own_cores:.2f} cores busy building, other load {build.other_cores:.2f} cores)")
    print(f"- sizes: index **{sizes['idx']}**, table with TOAST {sizes['tbl']}; shared_buffers {sizes['sb']};"
          f" iterative scan relaxed_order (set per connection by the engine)\n")
    print("| ef_search | filter | p50 ms | p95 ms | p99 ms | recall@10 | queries with < 10 rows | plan | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(result.markdown())
    print(f"\n#### Text search server-side: `SearchService.text` (query encoding on {runtime} + HNSW + join),"
          f" top {SEARCH_LIMIT}, engine settings (ef_search {HNSW_EF_SEARCH})\n")
    print(f"query encoding alone: {encode_ms:.1f} ms (mean of 20, {spec.name} text tower, random weights)\n")
    print("| filter | queries | p50 ms | p95 ms | queries with < 20 rows |")
    print("|---|---|---|---|---|")
    for flt, latencies, short, total in texts:
        p50, p95 = np.percentile(latencies, [50, 95])
        print(f"| {flt.name} | {total} | **{p50:.1f}** | **{p95:.1f}** | {short} |")
    print(f"\nother load during the text searches: {text_cpu.other_cores:.2f} cores;"
          f" load average at the end: {os.getloadavg()[0]:.2f}")
    print(provenance())


if __name__ == "__main__":
    main()
