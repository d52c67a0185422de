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
    method: Literal["all", "phash", "clip"] = Field(
        "all", description="all: the pictures (pHash over 8 orientations, pixels, crops) plus the image embeddings "
        "where indexed; phash: the pictures only; clip: image-embedding similarity only.")
    max_distance: int | None = Field(None, ge=0, le=256, description="pHash limit in bits of 256 (nearest of 8 "
                                     "orientations; unrelated photos are ≥ 90 apart); default: the calibrated 56.")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Embedding cosine similarity; default 0.95.")
    model: str | None = Field(None, description="Image-text model (registry name); default CLIP_MODEL.")
    neighbours: int = Field(20, ge=1, le=200, description="Embedding neighbours examined per photo.")
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
    camera: str | None
    has_gps: bool
    jpeg_quality: int | None = Field(description="Estimated from the file's quantisation tables (JPEG only).")
    keep: bool
    thumbnail_url: str
    full_url: str


class SignalOut(BaseModel):
    name: str = Field(description="pHash, pixels, crop, colour, EXIF, embedding, bytes or detail.")
    value: float | str
    unit: str
    limit: str | None = Field(description="What the value had to meet.")
    matched: bool


class DuplicatePairOut(BaseModel):
    a: int
    b: int = Field(description="The copy: `transform` says what it is relative to `a`.")
    rule: str = Field(description="The rule that matched: identical, flat, phash, phash+pixels, crop or embedding.")
    transform: str = Field(description='E.g. "rotated 90°", "cropped to 86 % × 90 %", "re-encoded (JPEG quality 92 → 40)".')
    signals: list[SignalOut]


class DuplicateGroupOut(BaseModel):
    keep_id: int = Field(description="The copy kept: the keeper rule's choice, or the one you chose.")
    anchor_id: int = Field(description="The best copy by the rule; every other member matches it.")
    keeper_chosen: bool
    keeper_reasons: list[str] = Field(description="Why the kept copy goes before the others.")
    needs_review: bool = Field(description="True: never offered for deleting extras; look at it yourself.")
    review: list[str]
    photos: list[DuplicatePhotoOut]
    pairs: list[DuplicatePairOut] = Field(description="Anchor -> each member, then other matching pairs inside.")
    extra_bytes: int


class DuplicatesResponse(BaseModel):
    method: str
    model: str | None
    total_groups: int
    review_groups: int = Field(description="Groups flagged for review (their extras are not counted below).")
    total_extras: int
    extra_bytes: int
    notes: list[str] = Field(description="What limited the answer: photos not hashed yet, a signal not available.")
    groups: list[DuplicateGroupOut]


class DeleteDuplicatesResponse(DuplicatesResponse):
    dry_run: bool
    deleted: int
    trashed: list[TrashedOut]


class KeeperRequest(BaseModel):
    photo_id: int = Field(description="The copy to keep.")
    group: list[int] = Field(min_length=2, max_length=10_000, description="The ids of the group's photos.")


class KeeperClearRequest(BaseModel):
    group: list[int] = Field(min_length=1, max_length=10_000, description="The ids of the group's photos.")


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
