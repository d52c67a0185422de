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


def replace(conn: psycopg.Connection, files: Sequence[UnsupportedFile], keep_under: Sequence[str] = ()) -> None:
    """Make the table hold `files`; rows under `keep_under` (folders the scan could not read) stay."""
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE seen_unsupported (path TEXT PRIMARY KEY) ON COMMIT DROP")
        with cur.copy("COPY seen_unsupported (path) FROM STDIN") as copy:
            for f in files:
                copy.write_row((f.path,))
        cur.execute(
            "DELETE FROM unsupported_files u WHERE NOT EXISTS (SELECT 1 FROM seen_unsupported s WHERE s.path = u.path)"
            " AND NOT (u.path LIKE ANY(%s))", ([folder.rstrip("/") + "/%" for folder in keep_under if folder],))
        cur.executemany(
            "INSERT INTO unsupported_files (path, size, mtime, extension, reason) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (path) DO UPDATE SET size = EXCLUDED.size, mtime = EXCLUDED.mtime,"
            " extension = EXCLUDED.extension, reason = EXCLUDED.reason, seen_at = now()",
            [(f.path, f.size, f.mtime, f.extension, f.reason) for f in files])
        cur.execute("DROP TABLE seen_unsupported")


def listed(conn: psycopg.Connection, limit: int = 100, offset: int = 0) -> list[UnsupportedFile]:
    with conn.cursor(row_factory=class_row(UnsupportedFile)) as cur:
        return cur.execute("SELECT path, size, mtime, extension, reason FROM unsupported_files"
                           " ORDER BY path LIMIT %s OFFSET %s", (limit, offset)).fetchall()


def count_by_extension(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT extension, count(*) AS n FROM unsupported_files GROUP BY extension"
                        " ORDER BY n DESC, extension").fetchall()
    return {r["extension"]: r["n"] for r in rows}
