"""Duplicates: POST /duplicates lists groups, DELETE /duplicates moves the extras to the trash."""
from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.library import trashed_out
from dashboard.api.library_errors import LibraryRoute
from dashboard.api.library_schemas import (DeleteDuplicatesRequest, DeleteDuplicatesResponse, DuplicateGroupOut,
                                           DuplicatePhotoOut, DuplicatesRequest, DuplicatesResponse)
from engine.library.duplicates import DuplicateReport

router = APIRouter(tags=["duplicates"], route_class=LibraryRoute)


def _params(body: DuplicatesRequest) -> dict:
    return {"max_distance": body.max_distance, "threshold": body.threshold, "model": body.model,
            "neighbours": body.neighbours}


def _groups(report: DuplicateReport) -> dict:
    groups = [
        DuplicateGroupOut(
            keep_id=g.keep.id, closeness=round(g.closeness, 6),
            photos=[DuplicatePhotoOut(id=p.id, path=p.path, format=p.format, size=p.size, width=p.width,
                                      height=p.height, taken_at=p.taken_at, keep=p.id == g.keep.id,
                                      thumbnail_url=f"/image/{p.id}/thumb") for p in g.photos],
        )
        for g in report.groups
    ]
    extras = [p for g in report.groups for p in g.extras]
    return {"method": report.method, "model": report.model, "total_groups": report.total_groups,
            "total_extras": len(extras), "extra_bytes": sum(p.size for p in extras), "groups": groups}


@router.post("/duplicates", response_model=DuplicatesResponse)
async def find(body: DuplicatesRequest, engine: Engine) -> DuplicatesResponse:
    """Groups of duplicates, the copy to keep first (largest resolution, then oldest).

    `phash` needs the pHash stage (Index-All or /admin/index-all with stage phash); `clip` needs
    the model's embeddings.
    """
    report = await run_in_threadpool(engine.library.duplicates, body.method, limit=body.limit, **_params(body))
    return DuplicatesResponse(**_groups(report))


@router.delete("/duplicates", response_model=DeleteDuplicatesResponse)
async def delete(body: DeleteDuplicatesRequest, engine: Engine) -> DeleteDuplicatesResponse:
    """Find duplicates and move every group's extras to the trash, keeping the best copy.
    `dry_run` (the default) only reports; all groups are handled, `limit` only shortens the answer."""
    report, trash = await run_in_threadpool(engine.library.delete_duplicates, body.method, dry_run=body.dry_run,
                                            **_params(body))
    out = _groups(report)
    out["groups"] = out["groups"][: body.limit]
    trashed = [trashed_out(t) for t in trash.trashed] if trash else []
    return DeleteDuplicatesResponse(**out, dry_run=body.dry_run, deleted=len(trashed), trashed=trashed)
