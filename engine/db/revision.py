"""The library revision (migration 009): a counter that moves whenever photos, faces, persons,
albums or the trash change, whoever changed them, so a page knows to refresh with one cheap read."""
from __future__ import annotations

import psycopg


def current(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT last_value, is_called FROM library_revision").fetchone()
    return int(row["last_value"]) if row["is_called"] else 0
