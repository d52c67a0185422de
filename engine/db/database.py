"""Connections to the store: a psycopg pool with pgvector types registered per connection."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from engine.config import Settings
from engine.db.embedded import start_embedded_server
from engine.db.migrations import apply_migrations

log = logging.getLogger(__name__)


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            configure=_configure,
            kwargs={"row_factory": dict_row},
            open=True,
        )

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; the block is one transaction (commit on success)."""
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()

    @property
    def is_embedded(self) -> bool:
        return "host=/" in self.url


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    conn.execute("SET hnsw.ef_search = 100")
    try:
        # pgvector 0.8+: filtered HNSW scans continue until they have enough rows
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
    except psycopg.Error:
        conn.rollback()
        log.warning("pgvector < 0.8: filtered searches may return fewer rows than asked")
    conn.commit()


def database_url(settings: Settings) -> str:
    """The external `DATABASE_URL` when set, else the embedded server's URI."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_server(settings.embedded_db_dir)


def open_database(settings: Settings, *, max_size: int = 10) -> Database:
    """Connect (starting the embedded server if needed) and bring the schema up to date."""
    url = database_url(settings)
    with psycopg.connect(url) as conn:
        applied = apply_migrations(conn)
    if applied:
        log.info("applied schema migrations %s", applied)
    return Database(url, max_size=max_size)
