"""Request and response models of the library, albums and admin endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from dashboard.api.schemas import JobOut

Ids = list[int]


# --- trash
class DeleteRequest(BaseModel):
    image_ids: list[int] = Field(default_factory=list, max_length=10_000, description="Photo ids to move to the trash.")
    paths: list[str] = Field(default_factory=list, max_length=10_000, description="Or library-relative paths of indexed photos.")
    reason: str | None = Field(None, max_length=500)


class TrashedOut(BaseModel):
    trash_id: int
    photo_id: int
    original_path: str
    trash_path: str
    size: int
    content_hash: str | None
    deleted_at: datetime | None = None
    reason: str | None = None


class DeleteResponse(BaseModel):
    deleted: int
    trashed: list[TrashedOut]
    missing_files: list[str] = Field(description="Indexed photos whose file was already gone; their rows were removed.")
    trash_dir: str


class TrashListOut(BaseModel):
    total: int
    items: list[TrashedOut]


class RestoreRequest(BaseModel):
    trash_ids: list[int] = Field(min_length=1, max_length=10_000)


class RestoreResponse(BaseModel):
    restored: list[TrashedOut]


class PurgeRequest(BaseModel):
    trash_ids: list[int] | None = Field(None, max_length=10_000, description="None empties the whole trash.")


class PurgeResponse(BaseModel):
    removed: int


# --- rotation
class RotateRequest(BaseModel):
    degrees: int = Field(90, ge=-270, le=270, multiple_of=90, description="Clockwise; -90 turns left.")
    relative: bool = Field(True, description="Add to the current angle (default) or set it (false).")


class RotateResponse(BaseModel):
    id: int
    rotation: int = Field(description="The stored angle, clockwise: 0, 90, 180 or 270.")
    thumbnail_url: str
    full_url: str


# --- duplicates
class DuplicatesRequest(BaseModel):
    method: Literal["phash", "clip"] = Field("phash", description="Perceptual hash or image-embedding similarity.")
    max_distance: int = Field(24, ge=0, le=256, description="phash: Hamming distance out of 256 bits (unrelated pictures are ~128 apart); 0 = identical hashes.")
    threshold: float = Field(0.95, ge=0.0, le=1.0, description="clip: minimum cosine similarity.")
    model: str | None = Field(None, description="clip: registry name; default CLIP_MODEL.")
    neighbours: int = Field(20, ge=1, le=200, description="Near-neighbours examined per photo.")
    limit: int = Field(200, ge=1, le=10_000, description="Groups returned (largest first).")


class DeleteDuplicatesRequest(DuplicatesRequest):
    dry_run: bool = Field(True, description="Only report what would be moved to the trash.")


class DuplicatePhotoOut(BaseModel):
    id: int
    path: str
    format: str
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None
    keep: bool
    thumbnail_url: str


class DuplicateGroupOut(BaseModel):
    keep_id: int
    closeness: float = Field(description="phash: largest Hamming distance in the group; clip: smallest similarity.")
    photos: list[DuplicatePhotoOut]


class DuplicatesResponse(BaseModel):
    method: str
    model: str | None
    total_groups: int
    total_extras: int
    extra_bytes: int
    groups: list[DuplicateGroupOut]


class DeleteDuplicatesResponse(DuplicatesResponse):
    dry_run: bool
    deleted: int
    trashed: list[TrashedOut]


# --- albums
class AlbumCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    photo_ids: list[int] = Field(default_factory=list, max_length=10_000)


class AlbumUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    cover_photo_id: int | None = Field(None, description="A photo of the album; see clear_cover.")
    clear_cover: bool = Field(False, description="Go back to the automatic cover (the latest added photo).")


class AlbumPhotosRequest(BaseModel):
    photo_ids: list[int] = Field(min_length=1, max_length=10_000)


class AlbumOut(BaseModel):
    id: int
    name: str
    description: str | None
    photo_count: int
    cover_photo_id: int | None
    cover_url: str | None
    created_at: datetime
    updated_at: datetime


class AlbumPhotoOut(BaseModel):
    id: int
    path: str
    format: str
    width: int | None
    height: int | None
    taken_at: datetime | None
    added_at: datetime
    thumbnail_url: str


class AlbumDetailOut(AlbumOut):
    photos: list[AlbumPhotoOut]


class AlbumPhotosResponse(BaseModel):
    album_id: int
    changed: int
    photo_count: int


# --- admin
class ModelRequest(BaseModel):
    model: str = Field(min_length=1, max_length=100, description='Registry name, e.g. "SigLIP".')


class ModelStatusOut(BaseModel):
    name: str
    hf_id: str
    dim: int
    available: bool
    loaded: bool
    device: str | None
    memory_bytes: int
    path: str | None
    reason: str | None


class ModelsStatusOut(BaseModel):
    models: list[ModelStatusOut]
    loaded: list[str]


class GpuProcessOut(BaseModel):
    pid: int
    used_bytes: int | None
    this_process: bool


class GpuDeviceOut(BaseModel):
    index: int
    name: str
    memory_total_bytes: int
    memory_used_bytes: int
    memory_free_bytes: int
    utilization_percent: int | None
    memory_utilization_percent: int | None
    temperature_c: int | None
    processes: list[GpuProcessOut]


class GpuStatsOut(BaseModel):
    available: bool
    reason: str | None
    driver_version: str | None = None
    devices: list[GpuDeviceOut]
    models: list[ModelStatusOut] = Field(description="Models loaded in this server process, with their memory.")


class FailedFileOut(BaseModel):
    id: int
    path: str
    format: str
    size: int
    reason: str | None


class FailedFilesOut(BaseModel):
    total: int
    files: list[FailedFileOut]


class ResetFailedRequest(BaseModel):
    image_ids: list[int] | None = Field(None, max_length=100_000, description="None resets every failed file.")


class ResetFailedResponse(BaseModel):
    reset: int


class IndexAllRequest(BaseModel):
    models: list[str] | None = Field(None, max_length=10, description="Image-text models; default CLIP_MODEL.")
    all_models: bool = Field(False, description="Every available image-text model.")
    stages: list[str] | None = Field(None, max_length=10, description='Later stages, default all: ["faces", "phash"].')


class IndexAllResponse(BaseModel):
    jobs: list[JobOut]
    skipped: dict[str, str]


class ShutdownFlagOut(BaseModel):
    enabled: bool
    configured: bool = Field(description="Whether QUEUE_EMPTY_COMMAND is set.")
    command: list[str] | None
    last_run: dict[str, Any] | None


class ShutdownFlagRequest(BaseModel):
    enabled: bool


class IndexAllStatus(BaseModel):
    running: bool
    current: JobOut | None
    queued: list[JobOut]
    batch: list[JobOut] = Field(description="The jobs of the last Index-All request, in order.")
    stages: list[str]
    shutdown: ShutdownFlagOut


class CancelResponse(BaseModel):
    cancelled: list[int]


class CacheStatsOut(BaseModel):
    disk: dict[str, Any]
    memory: dict[str, Any]


class CacheWarmRequest(BaseModel):
    kinds: list[Literal["thumb", "full"]] = Field(default_factory=lambda: ["thumb"], min_length=1, max_length=2)


class CacheClearResponse(BaseModel):
    removed_files: int
