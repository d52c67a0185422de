"""SQL for the `photos` table. Functions take an open connection; the caller owns the transaction."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from engine.db import duplicates as duplicate_rows
from engine.db import embeddings
from engine.db.filters import Where, where_sql
from engine.media.exif import PhotoMetadata


@dataclass(frozen=True)
class FileState:
    id: int
    size: int
    mtime: float
    content_hash: str | None
    offline: bool = False


@dataclass(frozen=True)
class PendingPhoto:
    id: int
    path: str
    format: str
    size: int
    mtime: float


@dataclass(frozen=True)
class Photo:
    id: int
    path: str
    format: str
    size: int
    mtime: float
    content_hash: str | None
    width: int | None
    height: int | None
    taken_at: datetime | None
    camera: str | None
    lens: str | None
    latitude: float | None
    longitude: float | None
    altitude: float | None
    exif_data: dict[str, Any]
    index_failed: bool
    fail_reason: str | None
    faces_indexed: bool
    place_country: str | None = None
    """Where it was taken, reverse-geocoded from its GPS (migrations 004, 005; English GeoNames names)."""
    place_country_code: str | None = None
    place_state: str | None = None
    place_city: str | None = None
    place_metro: str | None = None

    @property
    def place(self) -> str:
        """Where it was taken, as people say it ("Sydney, Australia"), from the offline geocoder."""
        city = self.place_metro or self.place_city
        parts = [p for p in (city, self.place_state if not city else None, self.place_country) if p]
        return ", ".join(dict.fromkeys(parts))
    offline_since: datetime | None = None
    """When the scan last found the file gone; None while it is there."""

    @property
    def rotation(self) -> int:
        return int(self.exif_data.get("UserRotation", 0) or 0) % 360

    @property
    def version(self) -> str:
        """What identifies the file's bytes, for cache keys and ETags."""
        return self.content_hash or f"{self.size}-{self.mtime}"


_PHOTO_COLUMNS = ", ".join(Photo.__dataclass_fields__)


def file_states(conn: psycopg.Connection) -> dict[str, FileState]:
    rows = conn.execute("SELECT id, path, size, mtime, content_hash, offline_since IS NOT NULL AS offline"
                        " FROM photos").fetchall()
    return {r["path"]: FileState(r["id"], r["size"], r["mtime"], r["content_hash"], r["offline"]) for r in rows}


def is_empty(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM photos) AS empty").fetchone()["empty"]


def touch(conn: psycopg.Connection, changes: Sequence[tuple[int, float]]) -> None:
    """Same bytes, new mtime: nothing to re-index."""
    with conn.cursor() as cur:
        cur.executemany("UPDATE photos SET mtime = %s, updated_at = now() WHERE id = %s", [(m, i) for i, m in changes])


def reset_changed(conn: psycopg.Connection, changes: Sequence[tuple[int, int, float, str, str | None]]) -> None:
    """New bytes under a known path: forget what was learned from the old ones."""
    if not changes:
        return
    ids = [c[0] for c in changes]
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE photos SET size = %s, mtime = %s, format = %s, content_hash = %s,"
            " metadata_read = FALSE, index_failed = FALSE, fail_reason = NULL,"
            " faces_indexed = FALSE, phash = NULL, phash_indexed = FALSE, signature = NULL, jpeg_quality = NULL,"
            " updated_at = now() WHERE id = %s",
            [(size, mtime, fmt, h, pid) for pid, size, mtime, fmt, h in changes],
        )
    embeddings.delete_of_photos(conn, ids)
    duplicate_rows.forget(conn, ids)


def delete(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute("DELETE FROM photos WHERE id = ANY(%s)", (list(ids),))


def _unfinished(models: Sequence[str]) -> str:
    return " OR ".join(["NOT p.metadata_read", *([embeddings.missing_condition(models)] if models else [])])


def pending(conn: psycopg.Connection, models: Sequence[str], after_id: int = 0, limit: int = 5000) -> list[PendingPhoto]:
    """Photos that still miss metadata or a vector of one of `models`, in id order."""
    missing = _unfinished(models)
    rows = conn.execute(
        f"SELECT id, path, format, size, mtime FROM photos p"
        f" WHERE NOT index_failed AND offline_since IS NULL AND p.id > %s AND ({missing}) ORDER BY id LIMIT %s",
        (after_id, limit),
    ).fetchall()
    return [PendingPhoto(**r) for r in rows]


def count_pending(conn: psycopg.Connection, models: Sequence[str]) -> int:
    missing = _unfinished(models)
    return conn.execute(f"SELECT count(*) AS n FROM photos p WHERE NOT index_failed AND offline_since IS NULL"
                        f" AND ({missing})").fetchone()["n"]


def apply_update(conn: psycopg.Connection, photo: PendingPhoto, content_hash: str, m: PhotoMetadata) -> bool:
    """Store what decoding learned; False when the file changed since it was decoded (then nothing is stored).

    A user rotation already stored in `exif_data` survives re-reading the file's EXIF.
    """
    cur = conn.execute(
        "UPDATE photos SET content_hash = %s, width = %s, height = %s, taken_at = %s, camera = %s,"
        " lens = %s, latitude = %s, longitude = %s, altitude = %s,"
        " exif_data = %s || (CASE WHEN exif_data ? 'UserRotation'"
        "   THEN jsonb_build_object('UserRotation', exif_data->'UserRotation') ELSE '{}'::jsonb END),"
        " metadata_read = TRUE, index_failed = FALSE, fail_reason = NULL, updated_at = now()"
        " WHERE id = %s AND size = %s AND mtime = %s",
        (
            content_hash, m.width, m.height, m.taken_at, m.camera, m.lens, m.latitude, m.longitude,
            m.altitude, Jsonb(m.exif_data), photo.id, photo.size, photo.mtime,
        ),
    )
    return cur.rowcount == 1


def mark_failed(conn: psycopg.Connection, photo_id: int, reason: str, size: int, mtime: float) -> None:
    conn.execute(
        "UPDATE photos SET index_failed = TRUE, fail_reason = %s, updated_at = now()"
        " WHERE id = %s AND size = %s AND mtime = %s",
        (reason[:1000], photo_id, size, mtime),
    )


def get(conn: psycopg.Connection, photo_id: int) -> Photo | None:
    row = conn.execute(f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE id = %s", (photo_id,)).fetchone()
    return Photo(**row) if row else None


def get_by_path(conn: psycopg.Connection, path: str) -> Photo | None:
    row = conn.execute(f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE path = %s", (path,)).fetchone()
    return Photo(**row) if row else None


def failed(conn: psycopg.Connection, limit: int = 100, offset: int = 0) -> list[Photo]:
    rows = conn.execute(
        f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE index_failed ORDER BY id LIMIT %s OFFSET %s", (limit, offset)
    ).fetchall()
    return [Photo(**r) for r in rows]


def reset_failed(conn: psycopg.Connection, ids: Sequence[int] | None = None) -> int:
    if ids is None:
        cur = conn.execute("UPDATE photos SET index_failed = FALSE, fail_reason = NULL WHERE index_failed")
    else:
        cur = conn.execute(
            "UPDATE photos SET index_failed = FALSE, fail_reason = NULL WHERE index_failed AND id = ANY(%s)",
            (list(ids),),
        )
    return cur.rowcount


@dataclass(frozen=True)
class PhotoCounts:
    total_photos: int
    failed_count: int
    metadata_read: int
    with_gps: int
    faces_indexed: int
    offline_count: int
    """Photos whose file the last scan did not find (kept, with their albums and faces)."""
    total_bytes: int
    formats: dict[str, int]
    """Photos per stored format, most first."""


def stats(conn: psycopg.Connection) -> PhotoCounts:
    row = conn.execute(
        "SELECT count(*) AS total_photos,"
        " count(*) FILTER (WHERE index_failed) AS failed_count,"
        " count(*) FILTER (WHERE metadata_read) AS metadata_read,"
        " count(*) FILTER (WHERE latitude IS NOT NULL) AS with_gps,"
        " count(*) FILTER (WHERE faces_indexed) AS faces_indexed,"
        " count(*) FILTER (WHERE offline_since IS NOT NULL) AS offline_count,"
        " coalesce(sum(size), 0)::bigint AS total_bytes FROM photos"
    ).fetchone()
    formats = conn.execute("SELECT format, count(*) AS n FROM photos GROUP BY format ORDER BY n DESC").fetchall()
    return PhotoCounts(**row, formats={r["format"]: r["n"] for r in formats})


@dataclass(frozen=True)
class PhotoBrief:
    """What a grid of photos shows."""
    id: int
    path: str
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None


def browse(conn: psycopg.Connection, where: Where, limit: int, offset: int = 0) -> list[PhotoBrief]:
    """Photos passing `where` (conditions on alias `p`, see `engine.db.filters`), newest first."""
    conditions, params = where
    rows = conn.execute(
        f"SELECT p.id, p.path, p.format, p.taken_at, p.width, p.height FROM photos p {where_sql(conditions)}"
        " ORDER BY p.taken_at DESC NULLS LAST, p.id LIMIT %s OFFSET %s", (*params, limit, offset)).fetchall()
    return [PhotoBrief(**r) for r in rows]


@dataclass(frozen=True)
class GeoPhoto:
    id: int
    path: str
    latitude: float
    longitude: float
    taken_at: datetime | None
    place: str | None = None
    """The big city (else the city) and the country, when geocoded."""


def geotagged(conn: psycopg.Connection, where: Where = ([], []), ids: Sequence[int] | None = None,
              limit: int = 100_000, *, newest_first: bool = False) -> tuple[list[GeoPhoto], int]:
    """Photos with coordinates (those of `ids` and passing `where`), oldest first unless
    `newest_first`, at most `limit`; and how many there are in all."""
    conditions = ["p.latitude IS NOT NULL", "p.longitude IS NOT NULL", "NOT p.index_failed", *where[0]]
    args: list[Any] = list(where[1])
    if ids is not None:
        conditions.append("p.id = ANY(%s)")
        args.append(list(ids))
    condition = " AND ".join(conditions)
    total = conn.execute(f"SELECT count(*) AS n FROM photos p WHERE {condition}", args).fetchone()["n"]
    rows = conn.execute(
        "SELECT p.id, p.path, p.latitude, p.longitude, p.taken_at,"
        " nullif(concat_ws(', ', coalesce(p.place_metro, p.place_city), p.place_country), '') AS place"
        f" FROM photos p WHERE {condition}"
        f" ORDER BY p.taken_at {'DESC ' if newest_first else ''}NULLS LAST, p.id LIMIT %s", (*args, limit)).fetchall()
    return [GeoPhoto(**r) for r in rows], total


def get_many(conn: psycopg.Connection, ids: Sequence[int]) -> list[Photo]:
    """The photos of `ids` that exist, in id order."""
    rows = conn.execute(f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE id = ANY(%s) ORDER BY id", (list(ids),)).fetchall()
    return [Photo(**r) for r in rows]


def find(conn: psycopg.Connection, ids: Sequence[int] = (), paths: Sequence[str] = ()) -> list[Photo]:
    """The photos with one of `ids` or one of `paths`, in id order."""
    rows = conn.execute(f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE id = ANY(%s) OR path = ANY(%s) ORDER BY id",
                        (list(ids), list(paths))).fetchall()
    return [Photo(**r) for r in rows]


def readable(conn: psycopg.Connection) -> list[Photo]:
    """Every photo whose file is there, not flagged as unreadable."""
    return [Photo(**r) for r in conn.execute(
        f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE NOT index_failed AND offline_since IS NULL")]


def cameras(conn: psycopg.Connection, limit: int = 500) -> list[str]:
    """The camera names of the library, alphabetically."""
    return [r["camera"] for r in conn.execute(
        "SELECT DISTINCT camera FROM photos WHERE camera IS NOT NULL ORDER BY camera LIMIT %s", (limit,))]


def rotate(conn: psycopg.Connection, photo_id: int, step: int, *, relative: bool) -> int | None:
    """Store the user rotation (`step` degrees clockwise, added to the current angle when
    `relative`) atomically in `exif_data["UserRotation"]`; the new angle, None for an unknown photo."""
    if relative:
        row = conn.execute(
            "UPDATE photos SET exif_data = jsonb_set(exif_data, '{UserRotation}', to_jsonb("
            " (((CASE WHEN jsonb_typeof(exif_data->'UserRotation') = 'number'"
            "   THEN (exif_data->>'UserRotation')::numeric::int ELSE 0 END) + %s) %% 360 + 360) %% 360)),"
            " updated_at = now() WHERE id = %s RETURNING (exif_data->>'UserRotation')::int AS r",
            (step, photo_id),
        ).fetchone()
    else:
        row = conn.execute(
            "UPDATE photos SET exif_data = jsonb_set(exif_data, '{UserRotation}', to_jsonb(%s::int)), updated_at = now()"
            " WHERE id = %s RETURNING (exif_data->>'UserRotation')::int AS r",
            (step, photo_id),
        ).fetchone()
    return None if row is None else int(row["r"])
