"""What every resource's models share: the `Out` base and background jobs."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (AliasChoices, AliasPath, BaseModel, BeforeValidator, ConfigDict, Field, computed_field,
                      field_validator)

T = TypeVar("T")


def _from_epoch(value: Any) -> Any:
    return datetime.fromtimestamp(value, tz=timezone.utc) if isinstance(value, (int, float)) else value


Timestamp = Annotated[datetime, BeforeValidator(_from_epoch)]
"""A moment as ISO 8601 with its time zone (UTC, "…Z"); the engine's epoch seconds are converted."""


def example(*examples: dict[str, Any]) -> ConfigDict:
    """A model's config with the examples /docs shows for it."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class Out(BaseModel):
    """A response model filled from an engine object: `Model.model_validate(obj)`."""

    model_config = ConfigDict(from_attributes=True)


def renamed(field: str, *source: str) -> AliasChoices:
    """Fill `field` from the engine object's attribute `source` (several names: a path into it),
    or from its own name, as FastAPI reads a returned model again from its dump."""
    return AliasChoices(field, AliasPath(*source) if len(source) > 1 else source[0])


def photo_url(photo_id: int, kind: str = "thumb") -> str:
    return f"/image/{photo_id}/{kind}"


class PhotoLinks(Out):
    """A photo's picture URLs, computed from its `id`."""

    id: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str:
        return photo_url(self.id)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def full_url(self) -> str:
        return photo_url(self.id, "full")


class Page(BaseModel, Generic[T]):
    """The one list envelope: a page of `items` out of `total`, from `offset`, at most `limit`."""

    items: list[T]
    total: int = Field(description="How many there are in all (every page).")
    limit: int = Field(description="The most items one page holds (the request's `limit`).")
    offset: int = Field(description="How many were skipped before this page.")


class JobOut(Out):
    model_config = example({
        "id": 3, "kind": "index:SigLIP", "state": "running", "stage": "embedding", "done": 1200, "total": 5000,
        "failed": 2, "rate": 14.2, "eta_seconds": 267.6, "current": "2023/06/IMG_0042.HEIC", "error": None,
        "result": None, "started_at": "2026-12-01T16:20:05.412Z", "finished_at": None, "progress": 0.24})
    id: int
    kind: str
    state: str
    stage: str
    done: int
    total: int
    failed: int
    rate: float
    eta_seconds: float | None
    current: str | None
    error: str | None
    result: dict[str, Any] | None
    started_at: Timestamp | None = Field(examples=["2026-12-01T16:20:05.412Z"])
    finished_at: Timestamp | None = Field(examples=["2026-12-01T16:21:47.003Z"])

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        return round(value, 3)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progress(self) -> float:
        return (self.done / self.total) if self.total else (1.0 if self.state == "done" else 0.0)


class JobListOut(Page[JobOut]):
    pass


class ReindexStatus(BaseModel):
    running: bool
    job: JobOut | None


class CancelResponse(BaseModel):
    cancelled: list[int]
