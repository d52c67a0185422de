"""Connections to the store: a psycopg pool with pgvector types registered per connection."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from engine.config import Settings
from engine.db.embedded import EmbeddedServer, start_embedded_server, stop_embedded_server
from engine.db import embeddings as embedding_rows
from engine.db.migrations import apply_migrations, update_vector_extension
from engine.db.selfcheck import DatabaseUnusable, VectorCheck, check_vector_operations
from engine.errors import Invalid, Unavailable
from engine.models.registry import configure as configure_models

log = logging.getLogger(__name__)
HNSW_EF_SEARCH = 200
"""Candidates an HNSW search keeps: at a million photos 100 found 0.68 of the true top 10 and 200
found 0.81 for 2 ms more (bench/RESULTS.md, search at 1M), small beside the query's encoding."""


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached or started."""


class ConnectionLost(DatabaseUnavailable):
    """The server went away in the middle of the work (a restart, a crash, the network)."""

    def __init__(self, cause: psycopg.OperationalError) -> None:
        reason = (str(cause).strip().splitlines() or ["connection lost"])[0]
        super().__init__(f"The database connection was lost ({reason}); check that the database is running "
                         "(DATABASE_URL, or the embedded server's log in DATA_DIR/pgdata/log) and try again: "
                         "finished work is kept.")


class UnstorableInput(Invalid):
    """Input the database cannot hold (a NUL character, a number out of range)."""


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10,
                 vector_check: VectorCheck = VectorCheck(True), embedded: EmbeddedServer | None = None) -> None:
        self.url = url
        self.vector_check = vector_check
        self.embedded = embedded
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
        """A pooled connection; the block is one transaction (commit on success). A connection lost
        on the way is `ConnectionLost`, input the server cannot hold `UnstorableInput`."""
        try:
            with self.pool.connection() as conn:
                try:
                    yield conn
                except psycopg.DataError as exc:
                    raise UnstorableInput(str(exc)) from exc
        except psycopg.OperationalError as exc:
            raise ConnectionLost(exc) from exc

    def ping(self) -> None:
        """Raise when the server does not answer a trivial query."""
        with self.connection() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        """Close the pool; an embedded server this process started stops unless others still use it."""
        self.pool.close()
        if self.embedded is not None and self.embedded.started_here and not _other_clients(self.url):
            stop_embedded_server(self.embedded.data_dir)

    @property
    def is_embedded(self) -> bool:
        return "host=/" in self.url

    def require_vectors(self) -> None:
        """Raise the self-check's sentence when this server cannot run pgvector (see `selfcheck`)."""
        if not self.vector_check.ok:
            raise DatabaseUnusable(self.vector_check.message)


def _configure(conn: psycopg.Connection) -> None:
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:  # no pgvector in this database (the self-check says why)
        conn.rollback()
    conn.execute(f"SET hnsw.ef_search = {HNSW_EF_SEARCH}")
    try:
        # pgvector 0.8+: filtered HNSW scans continue until they have enough rows
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
    except psycopg.Error:
        conn.rollback()
        log.warning("pgvector < 0.8: filtered searches may return fewer rows than asked")
    conn.commit()


def _other_clients(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                               " AND pid <> pg_backend_pid()").fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def redacted(url: str) -> str:
    """The URL (or key=value conninfo) without its password, for messages and logs."""
    url = re.sub(r"(://[^:/@]*:)[^@]+@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)


def open_database(settings: Settings, *, max_size: int = 10) -> Database:
    """Connect (starting the embedded server if needed), check pgvector works on this machine and
    bring the schema up to date. A server that cannot run pgvector still opens: the failure is in
    `vector_check` (for /health and Admin) and `require_vectors()` raises it where vectors are needed."""
    models = configure_models(settings)  # a bad model entry is told before the server starts
    embedded = None
    try:
        if settings.database_url:
            url = settings.database_url
        else:
            embedded = start_embedded_server(settings.embedded_db_dir)
            url = embedded.uri
        check = check_vector_operations(url, server_log=embedded.log_file if embedded else None)
        if not check.ok:
            log.warning("%s", check.message)
        try:
            with psycopg.connect(url) as conn:
                applied = apply_migrations(conn)
                update_vector_extension(conn)
                if created := embedding_rows.ensure_tables(conn, models):
                    log.info("created vector tables %s", created)
        except psycopg.Error:
            if check.ok:
                raise
            log.exception("schema migrations failed on a server that cannot run pgvector")
        else:
            if applied:
                log.info("applied schema migrations %s", applied)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(_unreachable_sentence(settings, exc)) from exc
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, Unavailable):
            raise
        raise DatabaseUnavailable(f"The embedded database in {settings.embedded_db_dir} could not start ({exc}); "
                                  f"see {settings.embedded_db_dir / 'log'}, or set DATABASE_URL to an external "
                                  "PostgreSQL with pgvector.") from exc
    return Database(url, max_size=max_size, vector_check=check, embedded=embedded)


def _unreachable_sentence(settings: Settings, exc: Exception) -> str:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if settings.database_url:
        return (f"Cannot reach the database at {redacted(settings.database_url)} ({reason}); "
                "check DATABASE_URL and that the server is running.")
    return (f"Cannot reach the embedded database in {settings.embedded_db_dir} ({reason}); "
            f"see {settings.embedded_db_dir / 'log'}, or set DATABASE_URL to an external PostgreSQL with pgvector.")
