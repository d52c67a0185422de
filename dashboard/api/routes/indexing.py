"""Background indexing: /reindex and /reindex/status."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dashboard.api.deps import Engine
from dashboard.api.schemas.common import JobOut, ReindexStatus
from engine.models.registry import get_spec

router = APIRouter(tags=["indexing"])


@router.post("/reindex", response_model=JobOut, status_code=202)
def reindex(engine: Engine, model: Annotated[str | None, Query(description="Registry name; default CLIP_MODEL.")] = None) -> JobOut:
    name = get_spec(model or engine.settings.clip_model).name
    engine.models.get(name)  # a missing model is answered now (503), not by a failed job later
    return JobOut.model_validate(engine.start_index_job(name))


@router.get("/reindex/status", response_model=ReindexStatus)
def reindex_status(engine: Engine, model: Annotated[str | None, Query()] = None) -> ReindexStatus:
    jobs = [s for s in engine.jobs.all() if s.kind.startswith("index:")]
    if model:
        jobs = [s for s in jobs if s.kind == f"index:{get_spec(model).name}"]
    if not jobs:
        return ReindexStatus(running=False, job=None)
    active = [s for s in jobs if s.active]
    return ReindexStatus(running=bool(active), job=active[0] if active else jobs[-1])
