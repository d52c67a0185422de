"""SQL for the `trash` table's reads by id."""
from __future__ import annotations

from typing import Any

import psycopg


def item(conn: psycopg.Connection, trash_id: int) -> dict[str, Any] | None:
    """One trash row (the photo's stored row included), or None."""
    return conn.execute("SELECT * FROM trash WHERE id = %s", (trash_id,)).fetchone()
