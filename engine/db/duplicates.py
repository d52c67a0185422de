"""SQL of the duplicate finder (migrations 003 and 008): signatures, compared photos, pairs with
their evidence, and chosen keepers. The caller owns the transaction."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

FACTS = ("id, path, format, size, width, height, taken_at, camera, latitude, longitude, content_hash,"
         " jpeg_quality")


def reset_comparisons(conn: psycopg.Connection, version: int | None = None) -> int:
    """Forget every pair and comparison (of another `version`, or all): they are found again."""
    if version is not None:
        stale = conn.execute("SELECT 1 FROM duplicate_compared WHERE version <> %s LIMIT 1", (version,)).fetchone()
        if stale is None:
            return 0
    conn.execute("DELETE FROM duplicate_pairs")
    return conn.execute("DELETE FROM duplicate_compared").rowcount


def forget(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    """Photos whose bytes changed: their pairs and comparisons go."""
    conn.execute("DELETE FROM duplicate_pairs WHERE a = ANY(%s) OR b = ANY(%s)", (list(ids), list(ids)))
    conn.execute("DELETE FROM duplicate_compared WHERE photo_id = ANY(%s)", (list(ids),))


def counts(conn: psycopg.Connection) -> dict[str, int]:
    """hashed (with a signature), compared, waiting to be hashed (pending), waiting to be compared."""
    return conn.execute(
        "SELECT count(*) FILTER (WHERE p.signature IS NOT NULL) AS hashed,"
        " count(c.photo_id) AS compared,"
        " count(*) FILTER (WHERE NOT p.phash_indexed AND NOT p.index_failed) AS unhashed,"
        " count(*) FILTER (WHERE p.signature IS NOT NULL AND c.photo_id IS NULL) AS uncompared"
        " FROM photos p LEFT JOIN duplicate_compared c ON c.photo_id = p.id"
    ).fetchone()


def signature_chunks(conn: psycopg.Connection, *, compared: bool | None = None, chunk: int = 2000
                     ) -> Iterator[list[dict[str, Any]]]:
    """(id, path, signature) of hashed photos in id order, `chunk` rows at a time (all, only compared, or only not)."""
    condition = {None: "", True: " AND c.photo_id IS NOT NULL", False: " AND c.photo_id IS NULL"}[compared]
    after = 0
    while True:
        rows = conn.execute(
            "SELECT p.id, p.path, p.signature FROM photos p LEFT JOIN duplicate_compared c ON c.photo_id = p.id"
            f" WHERE p.signature IS NOT NULL AND p.id > %s{condition} ORDER BY p.id LIMIT %s", (after, chunk)
        ).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


def facts(conn: psycopg.Connection, ids: Sequence[int], *, with_signature: bool = False,
          online_only: bool = False) -> list[dict[str, Any]]:
    """`online_only`: leave out offline photos (their files are gone: never kept, never trashed)."""
    columns = FACTS + (", signature" if with_signature else "")
    online = " AND offline_since IS NULL" if online_only else ""
    return conn.execute(f"SELECT {columns} FROM photos WHERE id = ANY(%s){online}", (list(ids),)).fetchall()


def store_pairs(conn: psycopg.Connection, pairs: Sequence[tuple[int, int, dict[str, Any]]]) -> None:
    """Upsert pairs (a < b) whose photos still exist."""
    if not pairs:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO duplicate_pairs (a, b, evidence) SELECT %s, %s, %s"
            " WHERE EXISTS (SELECT 1 FROM photos WHERE id = %s) AND EXISTS (SELECT 1 FROM photos WHERE id = %s)"
            " ON CONFLICT (a, b) DO UPDATE SET evidence = EXCLUDED.evidence",
            [(a, b, Jsonb(ev), a, b) for a, b, ev in pairs],
        )


def mark_compared(conn: psycopg.Connection, ids: Sequence[int], version: int) -> None:
    conn.execute(
        "INSERT INTO duplicate_compared (photo_id, version) SELECT i, %s FROM unnest(%s::bigint[]) i"
        " WHERE EXISTS (SELECT 1 FROM photos WHERE id = i)"
        " ON CONFLICT (photo_id) DO UPDATE SET version = EXCLUDED.version", (version, list(ids)))


def pair_chunks(conn: psycopg.Connection, chunk: int = 50_000) -> Iterator[list[dict[str, Any]]]:
    """Every stored pair (a, b, evidence), in key order, `chunk` at a time."""
    last = (0, 0)
    while True:
        rows = conn.execute(
            "SELECT a, b, evidence FROM duplicate_pairs WHERE (a, b) > (%s, %s) ORDER BY a, b LIMIT %s",
            (*last, chunk)).fetchall()
        if not rows:
            return
        yield rows
        last = (rows[-1]["a"], rows[-1]["b"])


def pairs_among(conn: psycopg.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    return conn.execute("SELECT a, b, evidence FROM duplicate_pairs WHERE a = ANY(%s) AND b = ANY(%s)",
                        (list(ids), list(ids))).fetchall()


def chosen_keepers(conn: psycopg.Connection, ids: Sequence[int] | None = None) -> set[int]:
    if ids is None:
        rows = conn.execute("SELECT photo_id FROM duplicate_keepers").fetchall()
    else:
        rows = conn.execute("SELECT photo_id FROM duplicate_keepers WHERE photo_id = ANY(%s)", (list(ids),)).fetchall()
    return {r["photo_id"] for r in rows}


def choose_keeper(conn: psycopg.Connection, photo_id: int, group: Sequence[int]) -> None:
    """`photo_id` is kept in its group: any earlier choice among `group` is dropped."""
    conn.execute("DELETE FROM duplicate_keepers WHERE photo_id = ANY(%s)", (list(group),))
    conn.execute("INSERT INTO duplicate_keepers (photo_id) VALUES (%s) ON CONFLICT DO NOTHING", (photo_id,))


def clear_keepers(conn: psycopg.Connection, ids: Sequence[int]) -> int:
    return conn.execute("DELETE FROM duplicate_keepers WHERE photo_id = ANY(%s)", (list(ids),)).rowcount

