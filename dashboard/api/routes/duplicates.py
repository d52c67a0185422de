"""Duplicates: POST /duplicates lists groups with each pair's reasons, DELETE /duplicates moves the
extras of the groups not flagged for review to the trash, PUT/DELETE /duplicates/keeper choose the
copy kept."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas.library import (DeleteDuplicatesRequest, DeleteDuplicatesResponse, DuplicatesRequest,
                                           DuplicatesResponse, KeeperClearRequest, KeeperRequest)

router = APIRouter(tags=["duplicates"])


def _params(body: DuplicatesRequest) -> dict:
    return {"max_distance": body.max_distance, "threshold": body.threshold, "model": body.model,
            "neighbours": body.neighbours}


@router.post("/duplicates", response_model=DuplicatesResponse)
async def find(body: DuplicatesRequest, engine: Engine) -> DuplicatesResponse:
    """Groups of duplicates, the copy kept first; each pair says which signals matched, with their
    units, and what the copy is ("rotated 90°", "cropped to 86 % × 90 %").

    `phash`/`all` need the pHash stage (Index-All, `photoindex index`, /admin/index-all with stage
    phash); `clip` needs the model's embeddings (one sentence, 409, when there are none).
    """
    report = await run_in_threadpool(engine.library.duplicates, body.method, limit=body.limit, **_params(body))
    return DuplicatesResponse.model_validate(report)


@router.delete("/duplicates", response_model=DeleteDuplicatesResponse)
async def delete(
    engine: Engine,
    body: DeleteDuplicatesRequest | None = None,
    dry_run: Annotated[bool | None, Query(description="As in the body (the query form curl scripts send).")] = None,
    threshold: Annotated[float | None, Query(ge=0.0, le=1.0, description="As in the body (query form).")] = None,
) -> DeleteDuplicatesResponse:
    """Find duplicates and move the copies not kept, of every group not flagged for review, to the
    trash (restorable from /trash). `dry_run` (the default) only reports and `note` says how to act;
    all groups are handled, `limit` only shortens the answer. The body may be left out."""
    body = (body or DeleteDuplicatesRequest()).model_copy(
        update={k: v for k, v in {"dry_run": dry_run, "threshold": threshold}.items() if v is not None})
    report, trash = await run_in_threadpool(engine.library.delete_duplicates, body.method, dry_run=body.dry_run,
                                            **_params(body))
    return DeleteDuplicatesResponse.of(report, trash, dry_run=body.dry_run, limit=body.limit)


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
