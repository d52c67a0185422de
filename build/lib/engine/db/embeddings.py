"""SQL for the per-model embedding stores (halfvec columns with HNSW cosine indexes).

Table names come from the model registry, never from a request.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg
from pgvector import HalfVector


@dataclass(frozen=True)
class Neighbour:
    id: int
    path: str
    format: str
    score: float
    taken_at: datetime | None
    width: int | None
    height: int | None


def upsert(conn: psycopg.Connection, table: str, rows: Sequence[tuple[int, np.ndarray]]) -> None:
    """Write vectors for photos that still exist (a concurrent delete wins)."""
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (photo_id, embedding)"
            " SELECT %s, %s WHERE EXISTS (SELECT 1 FROM photos WHERE id = %s)"
            " ON CONFLICT (photo_id) DO UPDATE SET embedding = EXCLUDED.embedding, indexed_at = now()",
            [(pid, HalfVector(vec), pid) for pid, vec in rows],
        )


def vector_of(conn: psycopg.Connection, table: str, photo_id: int) -> np.ndarray | None:
    row = conn.execute(f"SELECT embedding FROM {table} WHERE photo_id = %s", (photo_id,)).fetchone()
    return None if row is None else np.asarray(row["embedding"].to_list(), dtype=np.float32)


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def nearest(
    conn: psycopg.Connection,
    table: str,
    query: np.ndarray,
    top_k: int,
    *,
    min_score: float | None = None,
    formats: Sequence[str] | None = None,
    exclude_ids: Sequence[int] = (),
    where: tuple[Sequence[str], Sequence[object]] = ((), ()),
) -> list[Neighbour]:
    """Top-k photos by cosine similarity through the HNSW index, filters applied inside the scan.

    pgvector's iterative index scan (set per connection) keeps filtered queries from coming back
    short; the score threshold is applied on the ordered candidates.
    """
    conditions, params = [], []
    if formats:
        conditions.append("p.format = ANY(%s)")
        params.append(list(formats))
    if exclude_ids:
        conditions.append("NOT (p.id = ANY(%s))")
        params.append(list(exclude_ids))
    conditions += list(where[0])
    params += list(where[1])
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    vec = HalfVector(np.asarray(query, dtype=np.float32))
    sql = (
        "SELECT * FROM ("
        f" SELECT p.id, p.path, p.format, p.taken_at, p.width, p.height,"
        f" 1 - (e.embedding <=> %s) AS score"
        f" FROM {table} e JOIN photos p ON p.id = e.photo_id {where_sql}"
        f" ORDER BY e.embedding <=> %s LIMIT %s) hits"
        " WHERE %s::float8 IS NULL OR score >= %s ORDER BY score DESC"
    )
    rows = conn.execute(sql, (vec, *params, vec, top_k, min_score, min_score)).fetchall()
    return [Neighbour(**r) for r in rows]
