"""SQL for the per-model image-text vector tables (halfvec columns with HNSW cosine indexes).

This module owns their names: one table per entry of the model registry (`engine/models/registry.py`,
which owns the dimensions), called `table_name(model)`. Every function takes a registry model
name, never a table name or anything from a request. A table is created at start by `ensure_tables`
for every entry (built-in or added by configuration), so a new model needs no migration; the
built-in ones are also in `sql/init_db.sql`, which older databases were made with.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from pgvector import HalfVector
from psycopg import sql

from engine.db.migrations import LOCK_KEY
from engine.models.registry import MODELS, InvalidModelEntry, ModelSpec


def table_name(model: str) -> str:
    """`embeddings_` + the model's `ModelSpec.key` (ViT-B/32 -> embeddings_vit_b32). Only
    registry models have a table."""
    if model not in MODELS:
        raise KeyError(f"no vector table for {model!r}: not a registry model")
    table = "embeddings_" + MODELS[model].key
    if not re.fullmatch(r"[a-z0-9_]{1,52}", table):
        raise KeyError(f"no vector table for {model!r}: {table!r} is not a safe identifier")
    return table


def _table(model: str) -> str:
    """The table as a quoted identifier, for the statements below."""
    return f'"{table_name(model)}"'


def models() -> list[str]:
    """Every model with a vector table, in registry order."""
    return list(MODELS)


def ensure_tables(conn: psycopg.Connection, specs: Mapping[str, ModelSpec]) -> list[str]:
    """Create the vector table and HNSW index of every entry that has none (idempotent, under the
    migrations' lock so two processes starting together do not race); return the tables created.
    A table that holds another dimension than its entry says is refused in one sentence."""
    created: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        for spec in specs.values():
            table = "embeddings_" + spec.key
            row = conn.execute(
                "SELECT a.atttypmod AS dim FROM pg_attribute a WHERE a.attrelid = to_regclass(%s)"
                " AND a.attname = 'embedding' AND NOT a.attisdropped", (table,)).fetchone()
            if row is None:
                conn.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    " photo_id BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,"
                    " embedding HALFVEC({}) NOT NULL, indexed_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                ).format(sql.Identifier(table), sql.Literal(spec.dim)))
                created.append(table)
            elif row[0] != spec.dim:
                raise InvalidModelEntry(
                    f"Model {spec.name!r} says dim {spec.dim} but its table {table} holds {row[0]}-d vectors; "
                    "fix `dim` in its entry, or give the entry a new name for the other model.")
            conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding halfvec_cosine_ops)")
                         .format(sql.Identifier(table + "_hnsw"), sql.Identifier(table)))
    return created


@dataclass(frozen=True)
class Neighbour:
    id: int
    path: str
    format: str
    score: float
    taken_at: datetime | None
    width: int | None
    height: int | None


def upsert(conn: psycopg.Connection, model: str, rows: Sequence[tuple[int, np.ndarray]]) -> None:
    """Write vectors for photos that still exist (a concurrent delete wins)."""
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {_table(model)} (photo_id, embedding)"
            " SELECT %s, %s WHERE EXISTS (SELECT 1 FROM photos WHERE id = %s)"
            " ON CONFLICT (photo_id) DO UPDATE SET embedding = EXCLUDED.embedding, indexed_at = now()",
            [(pid, HalfVector(vec), pid) for pid, vec in rows],
        )


def vector_of(conn: psycopg.Connection, model: str, photo_id: int) -> np.ndarray | None:
    row = conn.execute(f"SELECT embedding FROM {_table(model)} WHERE photo_id = %s", (photo_id,)).fetchone()
    return None if row is None else np.asarray(row["embedding"].to_list(), dtype=np.float32)


def indexed_models(conn: psycopg.Connection, photo_id: int) -> list[str]:
    """The models that hold a vector of this photo."""
    return [m for m in models()
            if conn.execute(f"SELECT 1 FROM {_table(m)} WHERE photo_id = %s", (photo_id,)).fetchone()]


def count(conn: psycopg.Connection, model: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {_table(model)}").fetchone()["n"]


def counts(conn: psycopg.Connection, names: Iterable[str] | None = None) -> dict[str, int]:
    """Stored vectors per model (every model, or `names`)."""
    return {m: count(conn, m) for m in (models() if names is None else names)}


def missing_condition(names: Sequence[str], alias: str = "p") -> str:
    """SQL true for a photo (alias `alias`) without a vector of one of `names`."""
    return " OR ".join(f"NOT EXISTS (SELECT 1 FROM {_table(m)} e WHERE e.photo_id = {alias}.id)" for m in names)


def delete_of_photos(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    """Forget every model's vectors of these photos (their files changed)."""
    for m in models():
        conn.execute(f"DELETE FROM {_table(m)} WHERE photo_id = ANY(%s)", (list(ids),))


def snapshot(conn: psycopg.Connection, photo_id: int) -> dict[str, str]:
    """A photo's vectors as text by table name (the trash keeps them so a restore needs no re-indexing)."""
    found: dict[str, str] = {}
    for m in models():
        row = conn.execute(f"SELECT embedding::text AS v FROM {_table(m)} WHERE photo_id = %s",
                           (photo_id,)).fetchone()
        if row:
            found[table_name(m)] = row["v"]
    return found


def restore(conn: psycopg.Connection, photo_id: int, vectors: dict[str, str]) -> None:
    """Put back what `snapshot` kept; tables no model has any more are skipped."""
    for m in models():
        vector = vectors.get(table_name(m))
        if vector is not None:
            conn.execute(f"INSERT INTO {_table(m)} (photo_id, embedding) VALUES (%s, %s::halfvec)",
                         (photo_id, vector))


def nearest(
    conn: psycopg.Connection,
    model: str,
    query: np.ndarray,
    top_k: int,
    *,
    min_score: float | None = None,
    where: tuple[Sequence[str], Sequence[Any]] = ((), ()),
    exact: bool = False,
) -> list[Neighbour]:
    """Top-k photos by cosine similarity, `where` (SQL conditions on alias `p` with their
    parameters, see `engine.db.filters`) applied inside the scan.

    By default through the HNSW index: pgvector's iterative index scan (set per connection)
    keeps filtered queries from coming back short, and the score threshold is applied on the
    ordered candidates. `exact` ranks every photo passing `where` instead (for small sets, such
    as one person's photos), ties by id.
    """
    conditions, params = list(where[0]), list(where[1])
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    vec = HalfVector(np.asarray(query, dtype=np.float32))
    select = ("SELECT p.id, p.path, p.format, p.taken_at, p.width, p.height, 1 - (e.embedding <=> %s) AS score"
              f" FROM {_table(model)} e JOIN photos p ON p.id = e.photo_id {where_sql}")
    if exact:
        rows = conn.execute(
            f"SELECT * FROM ({select}) s WHERE %s::float8 IS NULL OR score >= %s ORDER BY score DESC, id LIMIT %s",
            (vec, *params, min_score, min_score, top_k)).fetchall()
    else:
        rows = conn.execute(
            f"SELECT * FROM ({select} ORDER BY e.embedding <=> %s LIMIT %s) hits"
            " WHERE %s::float8 IS NULL OR score >= %s ORDER BY score DESC",
            (vec, *params, vec, top_k, min_score, min_score)).fetchall()
    return [Neighbour(**r) for r in rows]


def similar_pairs(conn: psycopg.Connection, model: str, threshold: float, neighbours: int) -> list[tuple[int, int, float]]:
    """(photo, neighbour, cosine similarity) for each photo's `neighbours` nearest with similarity >= threshold."""
    table = _table(model)
    rows = conn.execute(
        f"SELECT a.photo_id AS a, n.photo_id AS b, 1 - n.d AS sim FROM {table} a CROSS JOIN LATERAL ("
        f"  SELECT b.photo_id, (b.embedding <=> a.embedding) AS d FROM {table} b"
        f"  WHERE b.photo_id <> a.photo_id ORDER BY b.embedding <=> a.embedding LIMIT %s) n"
        f" WHERE 1 - n.d >= %s",
        (neighbours, threshold),
    ).fetchall()
    return [(r["a"], r["b"], float(r["sim"])) for r in rows]


@dataclass(frozen=True)
class StoredVector:
    id: int
    path: str
    format: str
    vector: np.ndarray


def sample(conn: psycopg.Connection, model: str, limit: int, seed: int = 0) -> list[StoredVector]:
    """At most `limit` photos with a vector of `model`, in id order; the same ones for the same seed.

    Every photo when there are no more than `limit`. Otherwise the ids come first: one pass over the
    ids, ordered by a hash of id and seed with only the best `limit` kept (a top-N sort, not a sort
    of the table), and only their vectors are read.
    """
    select = f"SELECT p.id, p.path, p.format, e.embedding FROM {_table(model)} e JOIN photos p ON p.id = e.photo_id"
    if count(conn, model) <= limit:
        rows = conn.execute(f"{select} ORDER BY p.id").fetchall()
    else:
        rows = conn.execute(
            f"{select} WHERE e.photo_id IN (SELECT photo_id FROM {_table(model)}"
            " ORDER BY md5(photo_id::text || ':' || %s::text) LIMIT %s) ORDER BY p.id", (seed, limit)).fetchall()
    return [StoredVector(r["id"], r["path"], r["format"], np.asarray(r["embedding"].to_list(), np.float32))
            for r in rows]
