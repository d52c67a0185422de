"""SQL of the library scan: the walk is staged in temporary tables and compared with `photos` here.

The scan runs in one transaction: `scan_files` holds every file the walk found (COPYed batch by
batch, in walk order), `scan_missing` the photos whose file it did not find. Both drop at commit,
and a scan that stops (an exception, a kill) leaves the tables as they were. Rows are read back
in pages of at most `limit`, so the process never holds the library in memory.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class StagedFile:
    seq: int
    """Position in the walk (the key pages are read by)."""
    path: str
    size: int
    mtime: float
    format: str


@dataclass(frozen=True)
class ChangedFile:
    photo_id: int
    file: StagedFile
    content_hash: str | None
    """The hash of the bytes the photo was indexed from (None when never hashed)."""


@dataclass(frozen=True)
class MissingPhoto:
    id: int
    path: str
    size: int
    content_hash: str


def stage(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TEMP TABLE scan_files (seq BIGSERIAL PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
                 " size BIGINT NOT NULL, mtime DOUBLE PRECISION NOT NULL, format TEXT NOT NULL) ON COMMIT DROP")


def add_files(conn: psycopg.Connection, files: Sequence[tuple[str, int, float, str]]) -> None:
    """(path, size, mtime, format) of the next files of the walk."""
    with conn.cursor() as cur, cur.copy("COPY scan_files (path, size, mtime, format) FROM STDIN") as copy:
        for row in files:
            copy.write_row(row)


def finish_staging(conn: psycopg.Connection) -> int:
    """After the walk: how many files it found (and statistics for the planner, which autovacuum
    never gathers on temporary tables)."""
    conn.execute("ANALYZE scan_files")
    return conn.execute("SELECT count(*) AS n FROM scan_files").fetchone()["n"]


def online_count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM photos WHERE offline_since IS NULL").fetchone()["n"]


def changed_page(conn: psycopg.Connection, after_seq: int, limit: int) -> list[ChangedFile]:
    """Files at a known path whose size or mtime differ from the photo's, in walk order after `after_seq`."""
    rows = conn.execute(
        "SELECT p.id, p.content_hash, s.seq, s.path, s.size, s.mtime, s.format FROM scan_files s"
        " JOIN photos p ON p.path = s.path WHERE s.seq > %s AND (p.size <> s.size OR p.mtime <> s.mtime)"
        " ORDER BY s.seq LIMIT %s", (after_seq, limit)).fetchall()
    return [ChangedFile(r["id"], StagedFile(r["seq"], r["path"], r["size"], r["mtime"], r["format"]), r["content_hash"])
            for r in rows]


def bring_back(conn: psycopg.Connection) -> int:
    """Offline photos whose file is there again at its path are online; how many."""
    return conn.execute(
        "UPDATE photos p SET offline_since = NULL, updated_at = now() FROM scan_files s"
        " WHERE s.path = p.path AND p.offline_since IS NOT NULL").rowcount


def stage_missing(conn: psycopg.Connection, unreadable_dirs: Sequence[str]) -> None:
    """`scan_missing`: photos whose file the walk did not find, except those under folders it could not read."""
    conn.execute(
        "CREATE TEMP TABLE scan_missing ON COMMIT DROP AS"
        " SELECT p.id, p.path, p.size, p.content_hash, p.offline_since IS NOT NULL AS offline FROM photos p"
        " WHERE NOT EXISTS (SELECT 1 FROM scan_files s WHERE s.path = p.path)"
        " AND NOT EXISTS (SELECT 1 FROM unnest(%s::text[]) d WHERE d = '' OR starts_with(p.path, d || '/'))",
        (list(unreadable_dirs),))
    conn.execute("CREATE INDEX ON scan_missing (size, content_hash)")
    conn.execute("ANALYZE scan_missing")


def move_candidates_page(conn: psycopg.Connection, after_seq: int, limit: int) -> list[StagedFile]:
    """New files (no photo at their path) of the size of a missing, hashed photo, in walk order."""
    rows = conn.execute(
        "SELECT s.seq, s.path, s.size, s.mtime, s.format FROM scan_files s WHERE s.seq > %s"
        " AND s.size IN (SELECT m.size FROM scan_missing m WHERE m.content_hash IS NOT NULL)"
        " AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.path = s.path) ORDER BY s.seq LIMIT %s",
        (after_seq, limit)).fetchall()
    return [StagedFile(**r) for r in rows]


def missing_with(conn: psycopg.Connection, keys: Sequence[tuple[int, str]]) -> list[MissingPhoto]:
    """Missing photos with one of the (size, content hash) `keys`, in path order."""
    if not keys:
        return []
    rows = conn.execute(
        "SELECT id, path, size, content_hash FROM scan_missing"
        " WHERE (size, content_hash) IN (SELECT * FROM unnest(%s::bigint[], %s::text[])) ORDER BY path",
        ([k[0] for k in keys], [k[1] for k in keys])).fetchall()
    return [MissingPhoto(**r) for r in rows]


def forget_missing(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    """These photos were found under a new path (moved)."""
    if ids:
        conn.execute("DELETE FROM scan_missing WHERE id = ANY(%s)", (list(ids),))


def going_count(conn: psycopg.Connection) -> int:
    """Online photos that the scan would mark offline."""
    return conn.execute("SELECT count(*) AS n FROM scan_missing WHERE NOT offline").fetchone()["n"]


def mark_offline(conn: psycopg.Connection) -> int:
    return conn.execute(
        "UPDATE photos p SET offline_since = now() FROM scan_missing m"
        " WHERE m.id = p.id AND NOT m.offline AND p.offline_since IS NULL").rowcount


def insert_new(conn: psycopg.Connection) -> int:
    """A photo row for every staged file with none at its path (ids in walk order); how many."""
    return conn.execute(
        "INSERT INTO photos (path, size, mtime, format) SELECT s.path, s.size, s.mtime, s.format FROM scan_files s"
        " WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.path = s.path) ORDER BY s.seq"
        " ON CONFLICT (path) DO NOTHING").rowcount
