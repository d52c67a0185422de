"""What every resource's models share: the `Out` base and background jobs."""
from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, computed_field, field_validator


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


class JobOut(Out):
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
    started_at: float | None
    finished_at: float | None

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        return round(value, 3)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progress(self) -> float:
        return (self.done / self.total) if self.total else (1.0 if self.state == "done" else 0.0)


class ReindexStatus(BaseModel):
    running: bool
    job: JobOut | None


class CancelResponse(BaseModel):
    cancelled: list[int]
