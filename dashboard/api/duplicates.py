"""Duplicates: POST /duplicates lists groups with each pair's reasons, DELETE /duplicates moves the
extras of the groups not flagged for review to the trash, PUT/DELETE /duplicates/keeper choose the
copy kept."""
from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.library import trashed_out
from dashboard.api.library_errors import LibraryRoute
from dashboard.api.library_schemas import (DeleteDuplicatesRequest, DeleteDuplicatesResponse, DuplicateGroupOut,
                                           DuplicatePairOut, DuplicatePhotoOut, DuplicatesRequest, DuplicatesResponse,
                                           KeeperClearRequest, KeeperRequest, SignalOut)
from engine.library.duplicates import DuplicateGroup, DuplicateReport

router = APIRouter(tags=["duplicates"], route_class=LibraryRoute)


def _params(body: DuplicatesRequest) -> dict:
    return {"max_distance": body.max_distance, "threshold": body.threshold, "model": body.model,
            "neighbours": body.neighbours}


def group_out(g: DuplicateGroup) -> DuplicateGroupOut:
    photos = [DuplicatePhotoOut(id=p.id, path=p.path, format=p.format, size=p.size, width=p.width, height=p.height,
                                taken_at=p.taken_at, camera=p.camera, has_gps=p.latitude is not None,
                                jpeg_quality=p.jpeg_quality, keep=p.id == g.keep_id,
                                thumbnail_url=f"/image/{p.id}/thumb", full_url=f"/image/{p.id}/full")
              for p in g.photos]
    pairs = [DuplicatePairOut(a=x.a, b=x.b, rule=x.rule, transform=x.transform,
                              signals=[SignalOut(name=s.name, value=s.value, unit=s.unit, limit=s.limit,
                                                 matched=s.matched) for s in x.signals]) for x in g.pairs]
    return DuplicateGroupOut(keep_id=g.keep_id, anchor_id=g.anchor_id, keeper_chosen=g.keeper_chosen,
                             keeper_reasons=g.keeper_reasons, needs_review=g.needs_review, review=g.review,
                             photos=photos, pairs=pairs, extra_bytes=sum(p.size for p in g.extras))


def _report(report: DuplicateReport) -> dict:
    extras = [p for g in report.groups if not g.needs_review for p in g.extras]
    return {"method": report.method, "model": report.model, "total_groups": report.total_groups,
            "review_groups": report.review_groups, "total_extras": len(extras),
            "extra_bytes": sum(p.size for p in extras), "notes": report.notes,
            "groups": [group_out(g) for g in report.groups]}


@router.post("/duplicates", response_model=DuplicatesResponse)
async def find(body: DuplicatesRequest, engine: Engine) -> DuplicatesResponse:
    """Groups of duplicates, the copy kept first; each pair says which signals matched, with their
    units, and what the copy is ("rotated 90°", "cropped to 86 % × 90 %").

    `phash`/`all` need the pHash stage (Index-All, `photoindex index`, /admin/index-all with stage
    phash); `clip` needs the model's embeddings (one sentence, 409, when there are none).
    """
    report = await run_in_threadpool(engine.library.duplicates, body.method, limit=body.limit, **_params(body))
    return DuplicatesResponse(**_report(report))


@router.delete("/duplicates", response_model=DeleteDuplicatesResponse)
async def delete(body: DeleteDuplicatesRequest, engine: Engine) -> DeleteDuplicatesResponse:
    """Find duplicates and move the extras of every group not flagged for review to the trash.
    `dry_run` (the default) only reports; all groups are handled, `limit` only shortens the answer."""
    report, trash = await run_in_threadpool(engine.library.delete_duplicates, body.method, dry_run=body.dry_run,
                                            **_params(body))
    out = _report(report)
    out["groups"] = out["groups"][: body.limit]
    trashed = [trashed_out(t) for t in trash.trashed] if trash else []
    return DeleteDuplicatesResponse(**out, dry_run=body.dry_run, deleted=len(trashed), trashed=trashed)


@router.put("/duplicates/keeper", status_code=204, response_class=Response)
def choose_keeper(body: KeeperRequest, engine: Engine) -> Response:
    """Keep `photo_id` in its group (given by its photos' ids) instead of the keeper rule's choice."""
    engine.library.choose_keeper(body.photo_id, body.group)
    return Response(status_code=204)


@router.delete("/duplicates/keeper", status_code=204, response_class=Response)
def clear_keeper(body: KeeperClearRequest, engine: Engine) -> Response:
    """Back to the keeper rule for the group of these photos."""
    engine.library.clear_keeper(body.group)
    return Response(status_code=204)
