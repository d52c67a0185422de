"""SQL for offline photos (`photos.offline_since`): marked by the scan, brought back, moved, removed."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg


def mark(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute("UPDATE photos SET offline_since = now() WHERE id = ANY(%s) AND offline_since IS NULL",
                     (list(ids),))


def bring_back(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    """The file is there again at its path."""
    if ids:
        conn.execute("UPDATE photos SET offline_since = NULL, updated_at = now() WHERE id = ANY(%s)", (list(ids),))


def move(conn: psycopg.Connection, moves: Sequence[tuple[int, str, float, str]]) -> None:
    """(id, new path, mtime, format): the same bytes under a new path keep their row (albums, faces, rotation)."""
    with conn.cursor() as cur:
        cur.executemany("UPDATE photos SET path = %s, mtime = %s, format = %s, offline_since = NULL,"
                        " updated_at = now() WHERE id = %s", [(path, mtime, fmt, pid) for pid, path, mtime, fmt in moves])


def count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM photos WHERE offline_since IS NOT NULL").fetchone()["n"]


def listed(conn: psycopg.Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    """id, path, size, offline_since of offline photos, longest offline first."""
    return conn.execute(
        "SELECT id, path, size, offline_since FROM photos WHERE offline_since IS NOT NULL"
        " ORDER BY offline_since, id LIMIT %s OFFSET %s", (limit, offset)).fetchall()


def ids(conn: psycopg.Connection, among: Sequence[int] | None = None) -> list[int]:
    if among is None:
        rows = conn.execute("SELECT id FROM photos WHERE offline_since IS NOT NULL ORDER BY id").fetchall()
    else:
        rows = conn.execute("SELECT id FROM photos WHERE offline_since IS NOT NULL AND id = ANY(%s) ORDER BY id",
                            (list(among),)).fetchall()
    return [r["id"] for r in rows]


def remove(conn: psycopg.Connection, ids: Sequence[int] | None = None, offline_before: datetime | None = None) -> list[int]:
    """Delete offline photos' rows (embeddings, faces and album links go with them): all of them,
    those of `ids`, or those offline since before `offline_before`. Online photos are never touched."""
    conditions, params = ["offline_since IS NOT NULL"], []
    if ids is not None:
        conditions.append("id = ANY(%s)")
        params.append(list(ids))
    if offline_before is not None:
        conditions.append("offline_since < %s")
        params.append(offline_before)
    rows = conn.execute(f"DELETE FROM photos WHERE {' AND '.join(conditions)} RETURNING id", params).fetchall()
    return [r["id"] for r in rows]
