"""Request and response models of the REST API."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TextSearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000)
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="Minimum cosine similarity; none by default.")
    formats: list[str] | None = Field(None, description='e.g. ["JPG", "HEIC", "RAW"] or stored names like "nef".')
    model: str | None = Field(None, description="Registry name; default CLIP_MODEL.")


class SearchHitOut(BaseModel):
    id: int
    path: str
    score: float
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None
    thumbnail_url: str
    full_url: str


class SearchResponse(BaseModel):
    model: str
    query: str | None = None
    count: int
    results: list[SearchHitOut]


class PhotoOut(BaseModel):
    id: int
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
    indexed_models: list[str]
    thumbnail_url: str
    full_url: str


class ModelOut(BaseModel):
    name: str
    hf_id: str
    dim: int
    multilingual: bool
    default: bool
    available: bool
    loaded: bool
    path: str | None = None
    reason: str | None = None


class JobOut(BaseModel):
    id: int
    kind: str
    state: str
    stage: str
    done: int
    total: int
    failed: int
    progress: float
    rate: float
    eta_seconds: float | None
    current: str | None
    error: str | None
    result: dict[str, Any] | None
    started_at: float | None
    finished_at: float | None


class ReindexStatus(BaseModel):
    running: bool
    job: JobOut | None


class HealthOut(BaseModel):
    status: str
    database: str
    library: str
    library_available: bool
    default_model: str
    default_model_available: bool
    detail: dict[str, str] = {}
