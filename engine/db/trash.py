"""SQL for the `trash` table (migration 003): a trashed photo's rows kept for a restore.

`take` moves a photo's row, its faces (with person links and the persons each face was taken
away from, `face_rejections`), its image-text vectors and its album links into one trash row and
deletes the photo; `put_back` re-inserts them with the same ids.
The columns carried are listed here, explicitly: a migration that adds a column to `photos` or
`faces` decides here whether a restore brings it back (tests/test_store.py fails until it
does). A trash row made before a column existed restores it to the column's default.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from engine.db import albums as album_rows
from engine.db import embeddings

PHOTO_COLUMNS = (
    "id", "path", "size", "mtime", "content_hash", "format", "width", "height", "taken_at", "camera", "lens",
    "latitude", "longitude", "altitude", "exif_data", "metadata_read", "index_failed", "fail_reason",
    "faces_indexed", "created_at", "updated_at", "phash", "phash_indexed", "place_country", "place_country_code",
    "place_state", "place_city", "place_metro", "place_geocoded", "signature", "jpeg_quality", "offline_since",
)
FACE_COLUMNS = (
    "id", "photo_id", "bbox", "landmarks", "det_score", "age", "gender", "embedding", "person_id", "assigned_by",
    "model", "created_at",
)
_LINKS = {"person_id": "pe.id"}
"""Face links to rows deleted while the photo was in the trash become NULL on restore."""
_GROUP = "'cluster_id', g.cluster_id, 'cluster_checked', coalesce(g.checked, false)"
"""A face's `face_groups` row, kept in its trash JSON under the names the `faces` columns had before migration 011."""
_REJECTIONS = ("(SELECT coalesce(jsonb_agg(jsonb_build_object('person_id', r.person_id, 'created_at', r.created_at)"
               " ORDER BY r.person_id), '[]'::jsonb) FROM face_rejections r WHERE r.face_id = f.id)")
"""A face's "not this person" marks, kept in its trash JSON under `rejections`."""


def _json_of(alias: str, columns: Sequence[str]) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{c}', {alias}.{c}" for c in columns) + ")"


@dataclass(frozen=True)
class TrashRow:
    id: int
    photo_id: int
    original_path: str
    trash_path: str
    size: int
    content_hash: str | None
    photo: dict[str, Any]
    album_ids: list[int]
    faces: list[dict[str, Any]]
    embeddings: dict[str, str]
    reason: str | None
    deleted_at: datetime


def take(conn: psycopg.Connection, photo_id: int, trash_path: str, reason: str | None) -> TrashRow | None:
    """Move the photo's rows into a new trash row (its file is to go to `trash_path`); None when
    the photo is gone already. The photo's row is locked first, so a concurrent change waits."""
    photo = conn.execute(f"SELECT {_json_of('p', PHOTO_COLUMNS)} AS j FROM photos p WHERE id = %s FOR UPDATE",
                         (photo_id,)).fetchone()
    if photo is None:
        return None
    data = photo["j"]
    faces = conn.execute(
        f"SELECT coalesce(jsonb_agg({_json_of('f', FACE_COLUMNS)}"
        f" || jsonb_build_object('rejections', {_REJECTIONS}, {_GROUP}) ORDER BY f.id), '[]'::jsonb) AS j"
        " FROM faces f LEFT JOIN face_groups g ON g.face_id = f.id WHERE photo_id = %s", (photo_id,)).fetchone()["j"]
    row = conn.execute(
        "INSERT INTO trash (photo_id, original_path, trash_path, size, content_hash, photo, album_ids,"
        " faces, embeddings, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
        (photo_id, data["path"], trash_path, data["size"], data.get("content_hash"), Jsonb(data),
         album_rows.of_photo(conn, photo_id), Jsonb(faces), Jsonb(embeddings.snapshot(conn, photo_id)), reason),
    ).fetchone()
    conn.execute("DELETE FROM photos WHERE id = %s", (photo_id,))
    return TrashRow(**row)


def put_back(conn: psycopg.Connection, item: TrashRow) -> None:
    """Re-insert what `take` kept (same photo and face ids) and drop the trash row."""
    present = [c for c in PHOTO_COLUMNS if c in item.photo]
    names = ", ".join(present)
    conn.execute(f"INSERT INTO photos ({names}) SELECT {names} FROM jsonb_populate_record(NULL::photos, %s)",
                 (Jsonb(item.photo),))
    if item.faces:
        values = ", ".join(_LINKS.get(c, f"r.{c}") for c in FACE_COLUMNS)
        conn.execute(
            f"INSERT INTO faces ({', '.join(FACE_COLUMNS)}) SELECT {values}"
            " FROM jsonb_populate_recordset(NULL::faces, %s) r LEFT JOIN persons pe ON pe.id = r.person_id",
            (Jsonb(item.faces),),
        )
        conn.execute(  # a suggestion deleted meanwhile is gone from the face, as its link would be
            "INSERT INTO face_groups (face_id, cluster_id, checked)"
            " SELECT (f ->> 'id')::bigint, c.id, coalesce((f ->> 'cluster_checked')::boolean, false)"
            " FROM jsonb_array_elements(%s::jsonb) f LEFT JOIN face_clusters c ON c.id = (f ->> 'cluster_id')::bigint"
            " WHERE c.id IS NOT NULL OR coalesce((f ->> 'cluster_checked')::boolean, false)", (Jsonb(item.faces),))
        conn.execute(  # marks for persons deleted meanwhile are gone with them; older trash rows have none
            "INSERT INTO face_rejections (face_id, person_id, created_at)"
            " SELECT (f ->> 'id')::bigint, (r ->> 'person_id')::bigint, (r ->> 'created_at')::timestamptz"
            " FROM jsonb_array_elements(%s::jsonb) f, jsonb_array_elements(coalesce(f -> 'rejections', '[]')) r"
            " WHERE EXISTS (SELECT 1 FROM persons pe WHERE pe.id = (r ->> 'person_id')::bigint)"
            " ON CONFLICT DO NOTHING", (Jsonb(item.faces),))
    embeddings.restore(conn, item.photo_id, item.embeddings or {})
    album_rows.put_back(conn, item.photo_id, item.album_ids or [])
    delete(conn, item.id)


def page(conn: psycopg.Connection, limit: int, offset: int) -> tuple[list[TrashRow], int]:
    """Trash rows, newest first, and how many there are."""
    rows = conn.execute("SELECT * FROM trash ORDER BY id DESC LIMIT %s OFFSET %s", (limit, offset)).fetchall()
    total = conn.execute("SELECT count(*) AS n FROM trash").fetchone()["n"]
    return [TrashRow(**r) for r in rows], total


def get_many(conn: psycopg.Connection, ids: Sequence[int] | None = None) -> list[TrashRow]:
    """The trash rows of `ids` that exist (every row with None), oldest first."""
    if ids is None:
        rows = conn.execute("SELECT * FROM trash ORDER BY id").fetchall()
    else:
        rows = conn.execute("SELECT * FROM trash WHERE id = ANY(%s) ORDER BY id", (list(ids),)).fetchall()
    return [TrashRow(**r) for r in rows]


def delete(conn: psycopg.Connection, trash_id: int) -> None:
    conn.execute("DELETE FROM trash WHERE id = %s", (trash_id,))
