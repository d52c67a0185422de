"""The files a scan lists as unsupported (not indexed), with the reason."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True)
class UnsupportedFile:
    path: str
    size: int
    mtime: float
    extension: str
    reason: str


def stage(conn: psycopg.Connection) -> None:
    """`scan_unsupported`: the unsupported files a scan finds, added batch by batch (dropped at commit)."""
    conn.execute("CREATE TEMP TABLE scan_unsupported (path TEXT PRIMARY KEY, size BIGINT NOT NULL,"
                 " mtime DOUBLE PRECISION NOT NULL, extension TEXT NOT NULL, reason TEXT NOT NULL) ON COMMIT DROP")


def add_staged(conn: psycopg.Connection, files: Sequence[UnsupportedFile]) -> None:
    with conn.cursor() as cur, cur.copy("COPY scan_unsupported (path, size, mtime, extension, reason) FROM STDIN") as copy:
        for f in files:
            copy.write_row((f.path, f.size, f.mtime, f.extension, f.reason))


def replace_with_staged(conn: psycopg.Connection, keep_under: Sequence[str] = ()) -> int:
    """Make the table hold the staged files; rows under `keep_under` (folders the scan could not
    read) stay. How many files are staged."""
    conn.execute(
        "DELETE FROM unsupported_files u WHERE NOT EXISTS (SELECT 1 FROM scan_unsupported s WHERE s.path = u.path)"
        " AND NOT EXISTS (SELECT 1 FROM unnest(%s::text[]) d WHERE d = '' OR starts_with(u.path, d || '/'))",
        (list(keep_under),))
    return conn.execute(
        "INSERT INTO unsupported_files (path, size, mtime, extension, reason)"
        " SELECT path, size, mtime, extension, reason FROM scan_unsupported"
        " ON CONFLICT (path) DO UPDATE SET size = EXCLUDED.size, mtime = EXCLUDED.mtime,"
        " extension = EXCLUDED.extension, reason = EXCLUDED.reason, seen_at = now()").rowcount


def listed(conn: psycopg.Connection, limit: int = 100, offset: int = 0) -> list[UnsupportedFile]:
    with conn.cursor(row_factory=class_row(UnsupportedFile)) as cur:
        return cur.execute("SELECT path, size, mtime, extension, reason FROM unsupported_files"
                           " ORDER BY path LIMIT %s OFFSET %s", (limit, offset)).fetchall()


def count_by_extension(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT extension, count(*) AS n FROM unsupported_files GROUP BY extension"
                        " ORDER BY n DESC, extension").fetchall()
    return {r["extension"]: r["n"] for r in rows}
