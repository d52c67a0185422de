"""Schema versioning: `engine/db/sql/init_db.sql` is version 1, `sql/migrations/NNN_name.sql` follow.

Applied at start under an advisory lock, each migration in its own transaction, so two
processes starting together never apply one twice.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "sql"
LOCK_KEY = 0x70686F746F  # "photo"
_NAME = re.compile(r"^(\d{3,})_([\w-]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available_migrations(sql_dir: Path = SQL_DIR) -> list[Migration]:
    found = [Migration(1, "init_db", sql_dir / "init_db.sql")]
    for path in sorted((sql_dir / "migrations").glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 002_name.sql: {path}")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions) or versions != sorted(versions):
        raise ValueError(f"migration versions must be unique and ascending: {versions}")
    return found


def apply_migrations(conn: psycopg.Connection, sql_dir: Path = SQL_DIR) -> list[int]:
    """Apply every pending migration; return the versions applied now."""
    applied_now: list[int] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        conn.commit()
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in available_migrations(sql_dir):
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.path.read_text())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            applied_now.append(migration.version)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        conn.commit()
    return applied_now


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    applied_at: datetime


def applied(conn: psycopg.Connection) -> list[Applied]:
    """The migrations this database has, in order."""
    rows = conn.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").fetchall()
    return [Applied(**r) for r in rows]


def update_vector_extension(conn: psycopg.Connection) -> str | None:
    """Bring the database's pgvector catalog to the library's version (a data folder made by an
    older server, e.g. 0.8.2, opened by a newer one); return the new version when it changed."""
    row = conn.execute(
        "SELECT e.extversion, a.default_version FROM pg_extension e"
        " JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'vector'").fetchone()
    if row is None or row[0] == row[1]:
        return None
    try:
        conn.execute("ALTER EXTENSION vector UPDATE")
        conn.commit()
    except psycopg.Error as exc:  # not the extension's owner on an external server: keep the old catalog
        conn.rollback()
        log.warning("pgvector stays at %s (library %s): %s", row[0], row[1], exc)
        return None
    log.info("pgvector updated from %s to %s", row[0], row[1])
    return row[1]
