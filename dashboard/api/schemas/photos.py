"""One photo as stored."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

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
    place_names: dict[str, str] = Field(default_factory=dict, description=(
        'Where it was taken (reverse-geocoded GPS), per interface language: {"en": "Paris, France", '
        '"ru": "Париж, Франция"}; empty without a place.'))


class NearPhotoOut(PhotoLinks):
    path: str
    latitude: float
    longitude: float
    taken_at: datetime | None
    place: str | None = Field(None, description="The big city (else the city) and the country, when geocoded.")
    distance_km: float | None = Field(None, description="From the point asked about; null for a place name.")


class NearPhotosOut(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[NearPhotoOut]
