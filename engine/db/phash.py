"""SQL for the pHash stage: `photos.phash` (BIT(256), migration 003), `signature` and
`jpeg_quality` (migration 008); `phash_indexed` is the stage's own flag (TRUE with a NULL hash:
not decodable). Pairs and comparisons: `engine.db.duplicates`.
"""
from __future__ import annotations

import psycopg

from engine.db import duplicates as duplicate_rows
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


def store(conn: psycopg.Connection, photo: PendingPhoto, bits: str | None, signature: bytes | None = None,
          jpeg_quality: int | None = None) -> None:
    """Write one hash, signature and JPEG quality (None hash: not decodable) unless the file
    changed since it was read (size/mtime guard)."""
    conn.execute(
        "UPDATE photos SET phash = %s::bit(256), signature = %s, jpeg_quality = %s, phash_indexed = TRUE"
        " WHERE id = %s AND size = %s AND mtime = %s",
        (bits, signature, jpeg_quality, photo.id, photo.size, photo.mtime),
    )


def reset_old_signatures(conn: psycopg.Connection, version: int) -> int:
    """Photos whose signature has another version byte are hashed (and compared) again."""
    ids = [r["id"] for r in conn.execute(
        "UPDATE photos SET phash_indexed = FALSE WHERE phash_indexed AND signature IS NOT NULL"
        " AND get_byte(signature, 0) <> %s RETURNING id", (version,)).fetchall()]
    if ids:
        duplicate_rows.forget(conn, ids)
    return len(ids)
