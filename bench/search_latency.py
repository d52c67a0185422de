"""Vector search latency and recall on the real schema and the real search SQL.

N clustered unit vectors (a mixture of gaussians) are bulk-loaded with binary COPY into a fresh
embedded database's embedding table, the schema's HNSW index is rebuilt after the load, and Q
queries from the same mixture go through `engine.db.embeddings.nearest`: latency percentiles
and recall@10 against numpy brute force on the same float16 values, without and with a format
filter that matches ~10% of the rows, at several `hnsw.ef_search`.

    .venv/bin/python bench/search_latency.py --n 100000 --dim 1152
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector import HalfVector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, CpuMeter, command, machine, revision, stop_embedded  # noqa: E402

from engine.config import Settings  # noqa: E402
from engine.db.database import Database, open_database  # noqa: E402
from engine.db.embeddings import nearest, table_name  # noqa: E402
from engine.db.filters import where  # noqa: E402
from engine.search.filters import SearchFilters  # noqa: E402
from engine.models.registry import MODELS  # noqa: E402

TOP_K = 10
FILTER_FORMAT = "heic"


@dataclass(frozen=True)
class Result:
    ef_search: int
    filtered: bool
    latencies_ms: np.ndarray
    recall: float
    short: int
    plan: str
    other_cores: float

    def markdown(self) -> str:
        p50, p95, p99 = np.percentile(self.latencies_ms, [50, 95, 99])
        where = f"format = {FILTER_FORMAT} (~10%)" if self.filtered else "none"
        return (f"| {self.ef_search} | {where} | {p50:.2f} | {p95:.2f} | {p99:.2f} | {self.recall:.3f} |"
                f" {self.short} | {self.plan} | {self.other_cores:.2f} |")


class Recorder:
    """A connection stand-in that remembers the last statement, to EXPLAIN exactly what ran."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.last: tuple[str, Any] = ("", None)

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor:
        self.last = (sql, params)
        return self.conn.execute(sql, params)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def mixture(rng: np.random.Generator, centres: np.ndarray, weights: np.ndarray, n: int, spread: float) -> np.ndarray:
    """Unit vectors around weighted centres; `spread` is the noise norm relative to a centre's."""
    dim = centres.shape[1]
    labels = rng.choice(len(centres), size=n, p=weights)
    noise = rng.standard_normal((n, dim), dtype=np.float32) * np.float32(spread / np.sqrt(dim))
    return normalised(centres[labels] + noise).astype(np.float32)


def bulk_load(db: Database, table: str, vectors: np.ndarray, formats: list[str]) -> float:
    started = time.perf_counter()
    with db.connection() as conn, conn.cursor() as cur:
        with cur.copy("COPY photos (id, path, size, mtime, format, metadata_read) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "int8", "float8", "text", "bool"])
            for i, fmt in enumerate(formats, start=1):
                copy.write_row((i, f"library/{i:07d}.{fmt}", 2_000_000, 0.0, fmt, True))
        cur.execute("SELECT setval('photos_id_seq', %s)", (len(formats),))
        with cur.copy(f"COPY {table} (photo_id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "halfvec"])
            for i, vec in enumerate(vectors, start=1):
                copy.write_row((i, HalfVector(vec)))
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
    """Photo ids (1-based) of the exact top-k by cosine, over rows where `mask` holds."""
    scores = normalised(queries) @ normalised(data).T
    if mask is not None:
        scores[:, ~mask] = -np.inf
    top = np.argpartition(-scores, TOP_K, axis=1)[:, :TOP_K]
    return top + 1


def measure(conn: psycopg.Connection, pgdata: Path, model: str, index: str, queries: np.ndarray, truth: np.ndarray,
            ef: int, filtered: bool) -> Result:
    conn.execute(f"SET hnsw.ef_search = {ef}")
    formats = where(SearchFilters(formats=(FILTER_FORMAT,) if filtered else ()))
    for q in queries[:20]:
        nearest(conn, model, q, TOP_K, where=formats)
    latencies, recalls, short = [], [], 0
    with CpuMeter(pgdata) as cpu:
        for q, exact in zip(queries, truth):
            started = time.perf_counter()
            hits = nearest(conn, model, q, TOP_K, where=formats)
            latencies.append(1000 * (time.perf_counter() - started))
            short += len(hits) < TOP_K
            recalls.append(len({h.id for h in hits} & set(exact.tolist())) / TOP_K)
    recorder = Recorder(conn)
    nearest(recorder, model, queries[0], TOP_K, where=formats)  # type: ignore[arg-type]
    sql, params = recorder.last
    plan = "\n".join(r["QUERY PLAN"] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
    kind = f"HNSW `{index}`" if index in plan else "exact (no HNSW)"
    return Result(ef, filtered, np.asarray(latencies), float(np.mean(recalls)), short, kind, cpu.other_cores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="vectors in the table")
    parser.add_argument("--dim", type=int, default=1152, choices=sorted({s.dim for s in MODELS.values()}))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--spread", type=float, default=1.0, help="noise norm relative to a cluster centre")
    parser.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    parser.add_argument("--maintenance-work-mem", default="2GB")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    spec = next(s for s in MODELS.values() if s.dim == args.dim)
    table = table_name(spec.name)
    rng = np.random.default_rng(args.seed)
    centres = normalised(rng.standard_normal((args.clusters, args.dim), dtype=np.float32))
    weights = rng.dirichlet(np.ones(args.clusters))
    log(f"generating {args.n} x {args.dim} vectors in {args.clusters} clusters")
    data = mixture(rng, centres, weights, args.n, args.spread).astype(np.float16)
    queries = mixture(rng, centres, weights, args.queries, args.spread).astype(np.float16)
    is_filtered = rng.random(args.n) < 0.10
    formats = [FILTER_FORMAT if f else "jpg" for f in is_filtered]
    truth = {False: exact_top(data.astype(np.float32), queries.astype(np.float32), None),
             True: exact_top(data.astype(np.float32), queries.astype(np.float32), is_filtered)}

    run_dir = Path(tempfile.mkdtemp(dir=BENCH_ROOT, prefix="search-run-"))
    settings = Settings(data_dir=run_dir, database_url=None)
    db = open_database(settings)
    pgdata = settings.embedded_db_dir.resolve()
    workers = max(0, (os.cpu_count() or 1) - 1)
    try:
        with db.connection() as conn:
            row = conn.execute("SELECT indexname, indexdef FROM pg_indexes"
                               " WHERE tablename = %s AND indexdef ILIKE '%%using hnsw%%'", (table,)).fetchone()
            index, indexdef = row["indexname"], row["indexdef"]
            conn.execute(f"DROP INDEX {index}")
        log(f"loading {table}")
        load_s = bulk_load(db, table, data, formats)
        log(f"loaded in {load_s:.1f} s; building {index}")
        build = build_index(db, pgdata, table, indexdef, args.maintenance_work_mem, workers)
        log(f"built in {build.seconds:.1f} s")
        with db.connection() as conn:
            sizes = conn.execute("SELECT pg_size_pretty(pg_relation_size(%s)) AS idx,"
                                 " pg_size_pretty(pg_total_relation_size(%s)) AS tbl,"
                                 " current_setting('shared_buffers') AS sb",
                                 (index, table)).fetchone()
            results = [measure(conn, pgdata, spec.name, index, queries, truth[filtered], ef, filtered)
                       for ef in args.ef for filtered in (False, True)]
    finally:
        db.close()
        stop_embedded(settings)
        shutil.rmtree(run_dir, ignore_errors=True)

    print(f"\n### Search latency: {args.n:,} x halfvec({args.dim}) in `{table}`, top-{TOP_K},"
          f" {args.queries} queries through `engine.db.embeddings.nearest`\n")
    print(f"- data: mixture of {args.clusters} gaussians (Dirichlet weights, noise/centre norm {args.spread}), unit norm;"
          f" queries from the same mixture; filter matches {is_filtered.mean():.1%} of rows")
    print(f"- bulk load (binary COPY, photos + vectors): {load_s:.1f} s;"
          f" HNSW build after the load: {build.seconds:.1f} s (`{indexdef.split(' USING ')[1]}`, m=16, ef_construction=64 defaults,"
          f" maintenance_work_mem {args.maintenance_work_mem}, {workers} parallel maintenance workers"
          f" (table parallel_workers={workers}: the TOASTed heap is too small for PostgreSQL to plan them otherwise);"
          f" {build.own_cores:.2f} cores busy building, other load {build.other_cores:.2f} cores)")
    print(f"- sizes: index {sizes['idx']}, table with TOAST {sizes['tbl']}; shared_buffers {sizes['sb']};"
          f" iterative scan relaxed_order (set per connection by the engine)\n")
    print("| ef_search | filter | p50 ms | p95 ms | p99 ms | recall@10 | queries with < 10 rows | plan | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(result.markdown())
    print(f"\ncommand: `{command()}`")
    print(f"machine: {machine()}")
    print(f"engine: {revision()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
