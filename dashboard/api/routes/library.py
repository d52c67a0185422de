"""Trash and rotation: /photos/delete, /trash..., /photo/{id}/rotate."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas.library import (DeleteRequest, DeleteResponse, PurgeRequest, PurgeResponse, RestoreRequest,
                                           RestoreResponse, RotateRequest, RotateResponse, TrashListOut)

router = APIRouter(tags=["library"])


@router.post("/photos/delete", response_model=DeleteResponse)
async def delete_photos(body: DeleteRequest, engine: Engine) -> DeleteResponse:
    """Move photos to TRASH_DIR (folder structure kept); their index rows leave with them.

    The whole request is refused, nothing moved, when any id or path is unknown (404) or a path
    is absolute, has `..` or goes through a symbolic link (403).
    """
    report = await run_in_threadpool(engine.library.trash.move_to_trash, body.image_ids, body.paths, reason=body.reason)
    return DeleteResponse(deleted=len(report.trashed) + len(report.missing_files), trashed=report.trashed,
                          missing_files=report.missing_files, trash_dir=str(engine.settings.resolved_trash_dir))


@router.get("/trash", response_model=TrashListOut)
def list_trash(engine: Engine, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               offset: Annotated[int, Query(ge=0)] = 0) -> TrashListOut:
    items, total = engine.library.trash.list(limit, offset)
    return TrashListOut(total=total, limit=limit, offset=offset, items=items)


@router.post("/trash/restore", response_model=RestoreResponse)
async def restore(body: RestoreRequest, engine: Engine) -> RestoreResponse:
    """Put trashed photos back at their original paths with their index rows (same ids)."""
    report = await run_in_threadpool(engine.library.trash.restore, body.trash_ids)
    return RestoreResponse.model_validate(report)


@router.post("/trash/purge", response_model=PurgeResponse)
async def purge(body: PurgeRequest, engine: Engine) -> PurgeResponse:
    """Delete trashed files for good: those of `trash_ids`, or every one with `all: true`."""
    if body.trash_ids is None and not body.all:
        raise HTTPException(422, "name the trash_ids to delete for good, or send all: true to empty the whole trash")
    return PurgeResponse(removed=await run_in_threadpool(engine.library.trash.purge, body.trash_ids))


@router.post("/photo/{photo_id}/rotate", response_model=RotateResponse)
def rotate(photo_id: int, body: RotateRequest, engine: Engine) -> RotateResponse:
    """Rotate for display only: the angle is stored in exif_data["UserRotation"], the file is never written."""
    angle = engine.library.rotate(photo_id, body.degrees, relative=body.relative)
    return RotateResponse(id=photo_id, rotation=angle)
