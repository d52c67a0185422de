"""SQL of the duplicate finder (migrations 003 and 008): signatures, compared photos, pairs with
their evidence, chosen keepers, and image-embedding neighbours. The caller owns the transaction."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

FACTS = ("id, path, format, size, width, height, taken_at, camera, latitude, longitude, content_hash,"
         " jpeg_quality")


def store_signature(conn: psycopg.Connection, photo_id: int, size: int, mtime: float, phash: str | None,
                    signature: bytes | None, jpeg_quality: int | None) -> None:
    """Write one photo's hash and signature unless the file changed since it was read (size/mtime guard).
    A NULL hash marks the photo tried (not decodable)."""
    conn.execute(
        "UPDATE photos SET phash = %s::bit(256), signature = %s, jpeg_quality = %s, phash_indexed = TRUE"
        " WHERE id = %s AND size = %s AND mtime = %s",
        (phash, signature, jpeg_quality, photo_id, size, mtime),
    )


def reset_old_signatures(conn: psycopg.Connection, version: int) -> int:
    """Photos whose signature has another version byte are hashed (and compared) again."""
    ids = [r["id"] for r in conn.execute(
        "UPDATE photos SET phash_indexed = FALSE WHERE phash_indexed AND signature IS NOT NULL"
        " AND get_byte(signature, 0) <> %s RETURNING id", (version,)).fetchall()]
    if ids:
        forget(conn, ids)
    return len(ids)


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


def facts(conn: psycopg.Connection, ids: Sequence[int], *, with_signature: bool = False) -> list[dict[str, Any]]:
    columns = FACTS + (", signature" if with_signature else "")
    return conn.execute(f"SELECT {columns} FROM photos WHERE id = ANY(%s)", (list(ids),)).fetchall()


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


def embedding_count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def embedding_pairs(conn: psycopg.Connection, table: str, threshold: float, neighbours: int
                    ) -> list[tuple[int, int, float]]:
    """Pairs of photos whose image-text vectors are at least `threshold` similar (HNSW neighbours)."""
    rows = conn.execute(
        f"SELECT a.photo_id AS a, n.photo_id AS b, 1 - n.d AS sim FROM {table} a CROSS JOIN LATERAL ("
        f"  SELECT b.photo_id, (b.embedding <=> a.embedding) AS d FROM {table} b"
        f"  WHERE b.photo_id <> a.photo_id ORDER BY b.embedding <=> a.embedding LIMIT %s) n"
        f" WHERE 1 - n.d >= %s",
        (neighbours, threshold),
    ).fetchall()
    return [(min(r["a"], r["b"]), max(r["a"], r["b"]), float(r["sim"])) for r in rows]


def embedding_similarities(conn: psycopg.Connection, table: str, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """Cosine similarity of the image-text vectors of each pair that has both."""
    if not pairs:
        return {}
    rows = conn.execute(
        f"SELECT x.a, x.b, 1 - (ea.embedding <=> eb.embedding) AS sim"
        f" FROM unnest(%s::bigint[], %s::bigint[]) AS x(a, b)"
        f" JOIN {table} ea ON ea.photo_id = x.a JOIN {table} eb ON eb.photo_id = x.b",
        ([a for a, _ in pairs], [b for _, b in pairs])).fetchall()
    return {(r["a"], r["b"]): float(r["sim"]) for r in rows}
