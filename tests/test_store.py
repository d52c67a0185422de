"""What `engine/db` writes down by hand agrees with the schema the migrations build."""
from __future__ import annotations

from engine.config import Settings
from engine.db import embeddings, trash
from engine.db.database import open_database
from engine.models.registry import MODELS


def _columns(conn, table: str) -> set[str]:
    return {r["column_name"] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema = current_schema()",
        (table,))}


def test_every_registry_model_has_its_vector_table(settings: Settings) -> None:
    db = open_database(settings)
    try:
        with db.connection() as conn:
            for name, spec in MODELS.items():
                row = conn.execute(
                    "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute"
                    " WHERE attrelid = %s::regclass AND attname = 'embedding'", (embeddings.table_name(name),)).fetchone()
                assert row is not None and row["type"] == f"halfvec({spec.dim})", name
    finally:
        db.close()


def test_the_trash_carries_every_column(settings: Settings) -> None:
    """A migration that adds a column to photos or faces must say in engine/db/trash.py whether a restore keeps it."""
    db = open_database(settings)
    try:
        with db.connection() as conn:
            assert _columns(conn, "photos") == set(trash.PHOTO_COLUMNS)
            assert _columns(conn, "faces") == set(trash.FACE_COLUMNS)
    finally:
        db.close()
