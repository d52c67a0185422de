"""Offline photos (in the index, their file gone): /library/offline and /library/offline/remove."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dashboard.api.deps import Engine

router = APIRouter(prefix="/library/offline", tags=["library"])


class OfflinePhotoOut(BaseModel):
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


@router.get("", response_model=OfflineListOut)
def list_offline(engine: Engine, limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                 offset: Annotated[int, Query(ge=0)] = 0) -> OfflineListOut:
    """Photos whose file the last scan did not find, longest gone first. They keep their albums,
    faces and rotation and come back by themselves when the file does."""
    items, total = engine.library.offline.list(limit, offset)
    return OfflineListOut(total=total, items=[OfflinePhotoOut(**vars(p)) for p in items])


@router.post("/remove", response_model=RemoveOfflineResponse)
def remove_offline(body: RemoveOfflineRequest, engine: Engine) -> RemoveOfflineResponse:
    """Remove offline photos from the index, with their vectors, faces and album links (the files
    are already gone). Photos that are there are never removed. `dry_run` (the default) only counts."""
    if body.dry_run:
        ids = engine.library.offline.ids(body.ids)
        return RemoveOfflineResponse(dry_run=True, count=len(ids), ids=ids)
    removed = engine.library.offline.remove(body.ids)
    return RemoveOfflineResponse(dry_run=False, count=len(removed), ids=removed)
