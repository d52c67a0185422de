"""The library: trash, rotation, duplicates, albums."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field, model_validator

from dashboard.api.schemas.common import Out, Page, PhotoLinks, example, photo_url


# --- trash
class DeleteRequest(BaseModel):
    model_config = example({"image_ids": [12, 13], "reason": "blurred"}, {"paths": ["2023/06/IMG_0042.HEIC"]})
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


class TrashListOut(Page[TrashedOut]):
    pass


class RestoreRequest(BaseModel):
    model_config = example({"trash_ids": [5]})
    trash_ids: list[int] = Field(min_length=1, max_length=10_000)


class RestoreResponse(Out):
    restored: list[TrashedOut]


class PurgeRequest(BaseModel):
    model_config = example({"trash_ids": [5, 6]}, {"all": True})
    trash_ids: list[int] | None = Field(None, max_length=10_000, description="The items to delete for good.")
    all: bool = Field(False, description="With trash_ids null: empty the whole trash (never by default).")


class PurgeResponse(BaseModel):
    removed: int


# --- rotation
class RotateRequest(BaseModel):
    model_config = example({"degrees": 90}, {"degrees": 0, "relative": False})
    degrees: int = Field(90, ge=-270, le=270, multiple_of=90, description="Clockwise; -90 turns left.")
    relative: bool = Field(True, description="Add to the current angle (default) or set it (false).")


class RotateResponse(PhotoLinks):
    rotation: int = Field(description="The stored angle, clockwise: 0, 90, 180 or 270.")


# --- duplicates
class DuplicatesRequest(BaseModel):
    model_config = example({"method": "all"}, {"method": "clip", "threshold": 0.97, "limit": 50})
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
    model_config = example({}, {"method": "phash", "dry_run": True})
    dry_run: bool = Field(True, description="Only report what would be moved to the trash.")


class DuplicatePhotoOut(PhotoLinks):
    path: str
    format: str
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None
    camera: str | None
    has_gps: bool
    jpeg_quality: int | None = Field(description="Estimated from the file's quantisation tables (JPEG only).")
    keep: bool = False


class SignalOut(Out):
    name: str = Field(description="pHash, pixels, crop, colour, EXIF, embedding, bytes or detail.")
    value: float | str
    unit: str
    limit: str | None = Field(description="What the value had to meet.")
    matched: bool


class DuplicatePairOut(Out):
    a: int
    b: int = Field(description="The copy: `transform` says what it is relative to `a`.")
    rule: str = Field(description="The rule that matched: identical, flat, phash, phash+pixels, crop or embedding.")
    transform: str = Field(description='E.g. "rotated 90°", "cropped to 86 % × 90 %", "re-encoded (JPEG quality 92 → 40)".')
    signals: list[SignalOut]


class DuplicateGroupOut(Out):
    keep_id: int = Field(description="The copy kept: the keeper rule's choice, or the one you chose.")
    anchor_id: int = Field(description="The best copy by the rule; every other member matches it.")
    keeper_chosen: bool
    keeper_reasons: list[str] = Field(description="Why the kept copy goes before the others.")
    needs_review: bool = Field(description="True: never offered for deleting extras; look at it yourself.")
    review: list[str]
    photos: list[DuplicatePhotoOut]
    pairs: list[DuplicatePairOut] = Field(description="Anchor -> each member, then other matching pairs inside.")
    extra_bytes: int

    @model_validator(mode="after")
    def _mark_keep(self) -> "DuplicateGroupOut":
        for photo in self.photos:
            photo.keep = photo.id == self.keep_id
        return self


class DuplicatesResponse(Out):
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
    note: str | None = Field(None, description="With dry_run: what to send to act.")

    @classmethod
    def of(cls, report: Any, trash: Any, *, dry_run: bool, limit: int) -> "DeleteDuplicatesResponse":
        """From `engine.library.delete_duplicates`: its report and trash report (None on a dry run)."""
        trashed = trash.trashed if trash else []
        found = DuplicatesResponse.model_validate(report)
        note = (f"Nothing was moved: send dry_run false to move the {found.total_extras} copies not kept to the trash."
                if dry_run and found.total_extras else None)
        return cls(**{**dict(found), "groups": found.groups[:limit]}, dry_run=dry_run, deleted=len(trashed),
                   trashed=trashed, note=note)


class KeeperRequest(BaseModel):
    model_config = example({"photo_id": 12, "group": [12, 13, 40]})
    photo_id: int = Field(description="The copy to keep.")
    group: list[int] = Field(min_length=2, max_length=10_000, description="The ids of the group's photos.")


class KeeperClearRequest(BaseModel):
    model_config = example({"group": [12, 13, 40]})
    group: list[int] = Field(min_length=1, max_length=10_000, description="The ids of the group's photos.")


# --- albums
class AlbumCreate(BaseModel):
    model_config = example({"name": "Лето 2023", "description": "Сочи", "photo_ids": [12, 13]})
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    photo_ids: list[int] = Field(default_factory=list, max_length=10_000)


class AlbumUpdate(BaseModel):
    model_config = example({"name": "Summer 2023"}, {"cover_photo_id": 13})
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    cover_photo_id: int | None = Field(None, description="A photo of the album; see clear_cover.")
    clear_cover: bool = Field(False, description="Go back to the automatic cover (the latest added photo).")


class AlbumPhotosRequest(BaseModel):
    model_config = example({"photo_ids": [12, 13]})
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


class AlbumListOut(Page[AlbumOut]):
    pass


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


class OfflineListOut(Page[OfflinePhotoOut]):
    pass


class RemoveOfflineRequest(BaseModel):
    model_config = example({"dry_run": True}, {"ids": [7, 8], "dry_run": False})
    ids: list[int] | None = Field(None, max_length=100_000, description="Offline photos to remove; null = all of them.")
    dry_run: bool = Field(True, description="Only say how many would go (the default).")


class RemoveOfflineResponse(BaseModel):
    dry_run: bool
    count: int = Field(description="Photos removed from the index (or that would be, with dry_run).")
    ids: list[int]
