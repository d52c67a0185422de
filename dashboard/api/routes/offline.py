"""Offline photos (in the index, their file gone): /library/offline and /library/offline/remove."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dashboard.api.deps import Engine
from dashboard.api.schemas.library import (OfflineListOut, OfflinePhotoOut, RemoveOfflineRequest,
                                           RemoveOfflineResponse)

router = APIRouter(prefix="/library/offline", tags=["library"])


@router.get("", response_model=OfflineListOut)
def list_offline(engine: Engine, limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                 offset: Annotated[int, Query(ge=0)] = 0) -> OfflineListOut:
    """Photos whose file the last scan did not find, longest gone first. They keep their albums,
    faces and rotation and come back by themselves when the file does."""
    items, total = engine.library.offline.list(limit, offset)
    return OfflineListOut(total=total, limit=limit, offset=offset,
                          items=[OfflinePhotoOut.model_validate(p) for p in items])


@router.post("/remove", response_model=RemoveOfflineResponse)
def remove_offline(body: RemoveOfflineRequest, engine: Engine) -> RemoveOfflineResponse:
    """Remove offline photos from the index, with their vectors, faces and album links (the files
    are already gone). Photos that are there are never removed. `dry_run` (the default) only counts."""
    if body.dry_run:
        ids = engine.library.offline.ids(body.ids)
        return RemoveOfflineResponse(dry_run=True, count=len(ids), ids=ids)
    removed = engine.library.offline.remove(body.ids)
    return RemoveOfflineResponse(dry_run=False, count=len(removed), ids=removed)
