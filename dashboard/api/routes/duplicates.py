"""Duplicates: /duplicates lists groups (post) and moves every group's extras to the trash (delete)."""
from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas.library import (DeleteDuplicatesRequest, DeleteDuplicatesResponse, DuplicatesRequest,
                                           DuplicatesResponse)

router = APIRouter(tags=["duplicates"])


def _params(body: DuplicatesRequest) -> dict:
    return {"max_distance": body.max_distance, "threshold": body.threshold, "model": body.model,
            "neighbours": body.neighbours}


@router.post("/duplicates", response_model=DuplicatesResponse)
async def find(body: DuplicatesRequest, engine: Engine) -> DuplicatesResponse:
    """Groups of duplicates, the copy to keep first (largest resolution, then oldest).

    `phash` needs the pHash stage (Index-All or /admin/index-all with stage phash); `clip` needs
    the model's embeddings.
    """
    report = await run_in_threadpool(engine.library.duplicates, body.method, limit=body.limit, **_params(body))
    return DuplicatesResponse.model_validate(report)


@router.delete("/duplicates", response_model=DeleteDuplicatesResponse)
async def delete(body: DeleteDuplicatesRequest, engine: Engine) -> DeleteDuplicatesResponse:
    """Find duplicates and move every group's extras to the trash, keeping the best copy.
    `dry_run` (the default) only reports; all groups are handled, `limit` only shortens the answer."""
    report, trash = await run_in_threadpool(engine.library.delete_duplicates, body.method, dry_run=body.dry_run,
                                            **_params(body))
    trashed = trash.trashed if trash else []
    found = DuplicatesResponse.model_validate(report)
    return DeleteDuplicatesResponse(**{**dict(found), "groups": found.groups[: body.limit]}, dry_run=body.dry_run,
                                    deleted=len(trashed), trashed=trashed)
