"""One photo as stored."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from dashboard.api.schemas.common import PhotoLinks


class PhotoOut(PhotoLinks):
    path: str
    format: str
    size: int
    content_hash: str | None
    width: int | None
    height: int | None
    taken_at: datetime | None
    camera: str | None
    lens: str | None
    latitude: float | None
    longitude: float | None
    altitude: float | None
    rotation: int
    exif_data: dict[str, Any]
    index_failed: bool
    fail_reason: str | None
    faces_indexed: bool
    offline_since: datetime | None = Field(None, description="Set while the file is gone (an unplugged disk?).")
    indexed_models: list[str] = []
