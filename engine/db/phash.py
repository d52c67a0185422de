"""SQL for the perceptual hashes (`photos.phash`, migration 003): the pHash stage and near copies.

`phash` is a BIT(256) column, so pgvector's Hamming operator `<~>` and its HNSW index find near
copies; `phash_indexed` is the stage's own flag (TRUE with a NULL hash: not decodable).
"""
from __future__ import annotations

from collections.abc import Sequence

import psycopg

from engine.db.photos import PendingPhoto


def count_pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM photos WHERE NOT phash_indexed AND offline_since IS NULL"
                        ).fetchone()["n"]


def pending(conn: psycopg.Connection, after_id: int = 0, limit: int = 5000) -> list[PendingPhoto]:
    """Photos not yet hashed whose file is there, in id order."""
    rows = conn.execute(
        "SELECT id, path, format, size, mtime FROM photos WHERE NOT phash_indexed AND offline_since IS NULL"
        " AND id > %s ORDER BY id LIMIT %s",
        (after_id, limit),
    ).fetchall()
    return [PendingPhoto(**r) for r in rows]


def store(conn: psycopg.Connection, photo: PendingPhoto, bits: str | None) -> None:
    """Write one hash (None: not decodable) unless the file changed since it was read (size/mtime guard)."""
    conn.execute(
        "UPDATE photos SET phash = %s::bit(256), phash_indexed = TRUE WHERE id = %s AND size = %s AND mtime = %s",
        (bits, photo.id, photo.size, photo.mtime),
    )


def reset(conn: psycopg.Connection, ids: Sequence[int] | None = None) -> int:
    """Forget hashes (all, or of some photos) so the next stage run computes them again."""
    if ids is None:
        return conn.execute("UPDATE photos SET phash = NULL, phash_indexed = FALSE WHERE phash_indexed").rowcount
    return conn.execute("UPDATE photos SET phash = NULL, phash_indexed = FALSE WHERE id = ANY(%s)",
                        (list(ids),)).rowcount


def identical_pairs(conn: psycopg.Connection) -> list[tuple[int, int, float]]:
    """(first photo, other photo, 0) for every group of photos with the same hash (complete, no index)."""
    rows = conn.execute(
        "SELECT array_agg(id ORDER BY id) AS ids FROM photos WHERE phash IS NOT NULL"
        " GROUP BY phash HAVING count(*) > 1"
    ).fetchall()
    return [(r["ids"][0], other, 0.0) for r in rows for other in r["ids"][1:]]


def near_pairs(conn: psycopg.Connection, max_distance: int, neighbours: int) -> list[tuple[int, int, float]]:
    """(photo, neighbour, Hamming distance) for each photo's `neighbours` nearest hashes within `max_distance`."""
    rows = conn.execute(
        "SELECT a.id AS a, n.id AS b, n.d FROM photos a CROSS JOIN LATERAL ("
        "  SELECT b.id, (b.phash <~> a.phash) AS d FROM photos b"
        "  WHERE b.phash IS NOT NULL AND b.id <> a.id ORDER BY b.phash <~> a.phash LIMIT %s) n"
        " WHERE a.phash IS NOT NULL AND n.d <= %s",
        (neighbours, max_distance),
    ).fetchall()
    return [(r["a"], r["b"], float(r["d"])) for r in rows]
