"""Non-destructive rotation: the angle lives in `exif_data["UserRotation"]`, the file is never written.

Angles are clockwise, 0/90/180/270. `relative=True` adds to the current angle (the lightbox's
↻ = +90, ↺ = -90); `relative=False` sets it. Thumbnails and full views are rendered with it
(their cache key carries the angle), and re-reading a file's EXIF keeps it.
"""
from __future__ import annotations

import psycopg

from engine.media.thumbnails import normalize_rotation
from engine.search.service import PhotoNotFound


def rotate(conn: psycopg.Connection, photo_id: int, degrees: int, *, relative: bool = True) -> int:
    """Store the new angle atomically; returns it. Raises ValueError for angles not a multiple of 90."""
    step = normalize_rotation(degrees)
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
    if row is None:
        raise PhotoNotFound(f"no photo with id {photo_id}")
    return int(row["r"])
