"""Run every pgvector operation the product uses once, in a throw-away connection, at start.

A pgvector library built for another CPU dies with SIGILL on the first distance it computes,
taking PostgreSQL into crash recovery; found at start, that is one sentence instead of an
indexing run that stops with "server closed the connection unexpectedly" half way.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from engine.errors import Unavailable

log = logging.getLogger(__name__)

# In order, in one transaction that is rolled back: loading the library, each distance the product
# computes, and HNSW inserts into indexes of each type on a temporary table.
VECTOR_OPERATIONS: dict[str, str] = {
    "library load": "CREATE EXTENSION IF NOT EXISTS vector",
    "halfvec cosine distance": "SELECT '[1,2,3]'::halfvec(3) <=> '[3,2,1]'::halfvec(3)",
    "vector cosine distance": "SELECT '[1,2,3]'::vector(3) <=> '[3,2,1]'::vector(3)",
    "bit Hamming distance": "SELECT B'10101010' <~> B'01010101'",
    "HNSW insert": """
        CREATE TEMP TABLE vector_selfcheck (h halfvec(3), v vector(3), b bit(64)) ON COMMIT DROP;
        CREATE INDEX ON vector_selfcheck USING hnsw (h halfvec_cosine_ops);
        CREATE INDEX ON vector_selfcheck USING hnsw (v vector_cosine_ops);
        CREATE INDEX ON vector_selfcheck USING hnsw (b bit_hamming_ops);
        INSERT INTO vector_selfcheck
            SELECT ARRAY[random(), random(), random()]::halfvec(3), ARRAY[random(), random(), random()]::vector(3),
                   (random() * 1e15)::bigint::bit(64)
            FROM generate_series(1, 64)
    """,
    "HNSW search": """
        SET LOCAL enable_seqscan = off;
        SELECT count(*) FROM (SELECT 1 FROM vector_selfcheck ORDER BY v <=> '[1,1,1]' LIMIT 3) AS nearest
    """,
}


@dataclass(frozen=True)
class VectorCheck:
    ok: bool
    failed_operation: str | None = None
    message: str | None = None
    """One sentence for the user: what crashed, why, and the setting that avoids it."""


class DatabaseUnusable(Unavailable):
    """The database server cannot run the vector operations the product needs."""


def check_vector_operations(url: str, *, server_log: Path | None = None,
                            operations: dict[str, str] | None = None, connect_timeout_s: int = 10) -> VectorCheck:
    """Connection errors propagate; a failure of an operation is the returned `VectorCheck`."""
    name = ""
    try:
        with psycopg.connect(url, connect_timeout=connect_timeout_s) as conn:
            with conn.transaction(force_rollback=True):
                for name, statement in (operations or VECTOR_OPERATIONS).items():
                    conn.execute(statement)
    except psycopg.OperationalError as exc:
        if not name:
            raise
        log.warning("pgvector self-check: %s failed: %s", name, exc)
        _wait_for_recovery(url)
        return VectorCheck(False, name, _crash_sentence(name, server_log))
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return VectorCheck(False, name, f"The database cannot run pgvector's {name} ({first_line}); "
                                        "set DATABASE_URL to a PostgreSQL 15+ with pgvector 0.8 or newer.")
    return VectorCheck(True)


def _crash_sentence(operation: str, server_log: Path | None) -> str:
    cause = "its server process crashed"
    if server_log is not None and _log_says_illegal_instruction(server_log):
        cause = ("its server process was killed by an illegal instruction: the pgvector library was built "
                 "for a newer CPU than this one")
    return (f"The database crashed running pgvector's {operation} ({cause}); set DATABASE_URL to a PostgreSQL "
            "with pgvector built for this machine (for example the db service of docker-compose.yml).")


def _log_says_illegal_instruction(server_log: Path, wait_s: float = 5.0) -> bool:
    """The postmaster logs how the backend died once it has reaped it, a moment after the crash."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with server_log.open("rb") as f:
                f.seek(max(0, server_log.stat().st_size - 64_000))
                tail = f.read().decode("utf-8", "replace")
        except OSError:
            tail = ""
        if "Illegal instruction" in tail or "signal 4:" in tail:
            return True
        if "terminated by signal" in tail or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def _wait_for_recovery(url: str, timeout_s: float = 30.0) -> None:
    """After a backend crash PostgreSQL restarts every backend; wait until it accepts connections."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.Error:
            time.sleep(0.5)
