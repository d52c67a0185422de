"""Background indexing: /reindex and /reindex/status."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dashboard.api.deps import Engine
from dashboard.api.schemas import JobOut, ReindexStatus
from engine.jobs.runner import JobStatus
from engine.models.registry import get_spec

router = APIRouter(tags=["indexing"])


def job_out(s: JobStatus) -> JobOut:
    return JobOut(
        id=s.id, kind=s.kind, state=s.state, stage=s.stage, done=s.done, total=s.total, failed=s.failed,
        progress=(s.done / s.total) if s.total else (1.0 if s.state == "done" else 0.0),
        rate=round(s.rate, 3), eta_seconds=s.eta_seconds, current=s.current, error=s.error, result=s.result,
        started_at=s.started_at, finished_at=s.finished_at,
    )


@router.post("/reindex", response_model=JobOut, status_code=202)
def reindex(engine: Engine, model: Annotated[str | None, Query(description="Registry name; default CLIP_MODEL.")] = None) -> JobOut:
    name = get_spec(model or engine.settings.clip_model).name
    engine.models.get(name)  # a missing model is answered now (503), not by a failed job later
    return job_out(engine.start_index_job(name))


@router.get("/reindex/status", response_model=ReindexStatus)
def reindex_status(engine: Engine, model: Annotated[str | None, Query()] = None) -> ReindexStatus:
    jobs = [s for s in engine.jobs.all() if s.kind.startswith("index:")]
    if model:
        jobs = [s for s in jobs if s.kind == f"index:{get_spec(model).name}"]
    if not jobs:
        return ReindexStatus(running=False, job=None)
    active = [s for s in jobs if s.active]
    latest = active[0] if active else jobs[-1]
    return ReindexStatus(running=bool(active), job=job_out(latest))
