"""The library: trash, rotation, duplicates, albums."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field, field_validator, model_validator

from dashboard.api.schemas.common import Out, PhotoLinks, photo_url, renamed


# --- trash
class DeleteRequest(BaseModel):
    image_ids: list[int] = Field(default_factory=list, max_length=10_000, description="Photo ids to move to the trash.")
    paths: list[str] = Field(default_factory=list, max_length=10_000, description="Or library-relative paths of indexed photos.")
    reason: str | None = Field(None, max_length=500)


class TrashedOut(Out):
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


class RestoreResponse(Out):
    restored: list[TrashedOut]


class PurgeRequest(BaseModel):
    trash_ids: list[int] | None = Field(None, max_length=10_000, description="The items to delete for good.")
    all: bool = Field(False, description="With trash_ids null: empty the whole trash (never by default).")


class PurgeResponse(BaseModel):
    removed: int


# --- rotation
class RotateRequest(BaseModel):
    degrees: int = Field(90, ge=-270, le=270, multiple_of=90, description="Clockwise; -90 turns left.")
    relative: bool = Field(True, description="Add to the current angle (default) or set it (false).")


class RotateResponse(PhotoLinks):
    rotation: int = Field(description="The stored angle, clockwise: 0, 90, 180 or 270.")


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


class DuplicatePhotoOut(PhotoLinks):
    path: str
    format: str
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None
    keep: bool = False


class DuplicateGroupOut(Out):
    keep_id: int = Field(validation_alias=renamed("keep_id", "keep", "id"))
    closeness: float = Field(description="phash: largest Hamming distance in the group; clip: smallest similarity.")
    photos: list[DuplicatePhotoOut]

    @field_validator("closeness")
    @classmethod
    def _closeness(cls, value: float) -> float:
        return round(value, 6)

    @model_validator(mode="after")
    def _mark_keep(self) -> "DuplicateGroupOut":
        for photo in self.photos:
            photo.keep = photo.id == self.keep_id
        return self


class DuplicatesResponse(Out):
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


class AlbumOut(Out):
    id: int
    name: str
    description: str | None
    photo_count: int
    cover_photo_id: int | None
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cover_url(self) -> str | None:
        return None if self.cover_photo_id is None else photo_url(self.cover_photo_id)


class AlbumPhotoOut(PhotoLinks):
    path: str
    format: str
    width: int | None
    height: int | None
    taken_at: datetime | None
    added_at: datetime


class AlbumDetailOut(AlbumOut):
    photos: list[AlbumPhotoOut]


class AlbumPhotosResponse(BaseModel):
    album_id: int
    changed: int
    photo_count: int


# --- offline photos
class OfflinePhotoOut(Out):
    id: int
    path: str
    size: int
    offline_since: datetime


class OfflineListOut(BaseModel):
    total: int
    items: list[OfflinePhotoOut]


class RemoveOfflineRequest(BaseModel):
    ids: list[int] | None = Field(None, max_length=100_000, description="Offline photos to remove; null = all of them.")
    dry_run: bool = Field(True, description="Only say how many would go (the default).")


class RemoveOfflineResponse(BaseModel):
    dry_run: bool
    count: int = Field(description="Photos removed from the index (or that would be, with dry_run).")
    ids: list[int]
