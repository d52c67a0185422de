"""Admin: GPU, models, failed files, the Index-All queue, jobs, thumbnail cache, queue-empty flag."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas.admin import (CacheClearResponse, CacheStatsOut, CacheWarmRequest, FailedFileOut,
                                         FailedFilesOut, GpuStatsOut, IndexAllRequest, IndexAllResponse,
                                         IndexAllStatus, ModelRequest, ModelsStatusOut, ResetFailedRequest,
                                         ResetFailedResponse, ShutdownFlagOut, ShutdownFlagRequest)
from dashboard.api.schemas.common import CancelResponse, JobListOut, JobOut
from engine.admin.gpu import gpu_stats
from engine.models.errors import ModelNotAvailable
from engine.models.registry import get_spec

router = APIRouter(prefix="/admin", tags=["admin"])


def _models(engine: Engine) -> ModelsStatusOut:
    return ModelsStatusOut.of(engine.models.status())


@router.get("/gpu/stats", response_model=GpuStatsOut)
async def gpu(engine: Engine) -> GpuStatsOut:
    """VRAM used/free, utilisation, temperature and processes per GPU; `available: false` with the reason on CPU."""
    stats = await run_in_threadpool(gpu_stats)
    return GpuStatsOut(**stats, models=[m for m in _models(engine).models if m.loaded])


@router.get("/models/status", response_model=ModelsStatusOut)
def models_status(engine: Engine) -> ModelsStatusOut:
    return _models(engine)


@router.post("/models/warm", response_model=ModelsStatusOut)
async def models_warm(body: ModelRequest, engine: Engine) -> ModelsStatusOut:
    """Load a model's weights now (503 when its weights are not on disk)."""
    await run_in_threadpool(engine.models.warm, get_spec(body.model).name)
    return _models(engine)


@router.post("/models/download", response_model=JobOut, status_code=202)
def models_download(body: ModelRequest, engine: Engine) -> JobOut:
    """Download an image-text model (from the Hugging Face Hub) or a face pack into MODELS_DIR as a
    background job; the default model is indexed with once it is there."""
    return JobOut.model_validate(engine.start_model_download_job(body.model))


@router.post("/models/unload", response_model=ModelsStatusOut)
def models_unload(body: ModelRequest, engine: Engine) -> ModelsStatusOut:
    engine.models.unload(get_spec(body.model).name)
    return _models(engine)


@router.get("/failed-files", response_model=FailedFilesOut)
def failed_files(engine: Engine, limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                 offset: Annotated[int, Query(ge=0)] = 0) -> FailedFilesOut:
    files = [FailedFileOut.model_validate(p) for p in engine.failed_files(limit=limit, offset=offset)]
    return FailedFilesOut(total=engine.stats().failed_count, limit=limit, offset=offset, items=files)


@router.post("/failed-files/reset", response_model=ResetFailedResponse)
def reset_failed(engine: Engine, body: ResetFailedRequest | None = None) -> ResetFailedResponse:
    """Clear the index_failed flag of every failed file, or of `image_ids`; the next run retries them."""
    return ResetFailedResponse(reset=engine.reset_failed(body.image_ids if body else None))


@router.post("/index-all", response_model=IndexAllResponse, status_code=202)
def index_all(engine: Engine, body: IndexAllRequest | None = None) -> IndexAllResponse:
    """Queue image-text indexing (per model), then faces and pHash; one job runs at a time.

    A model named in `models` that is missing is answered now (503); the default model (none
    named) is skipped with the reason instead, so the pHash and faces stages run without it."""
    body = body or IndexAllRequest()
    if body.all_models:
        names = [m.name for m in engine.models.status() if m.available]
    else:
        names = [get_spec(m).name for m in (body.models or [engine.settings.clip_model])]
    skipped: dict[str, str] = {}
    for name in list(names):
        try:
            engine.models.get(name)
        except ModelNotAvailable as exc:
            if body.models:
                raise
            names.remove(name)
            skipped[f"image-text:{name}"] = str(exc)
    jobs, skipped_stages = engine.queue.index_all(list(dict.fromkeys(names)), body.stages)
    return IndexAllResponse(jobs=[JobOut.model_validate(j) for j in jobs], skipped={**skipped, **skipped_stages})


@router.get("/index-all/status", response_model=IndexAllStatus)
def index_all_status(engine: Engine) -> IndexAllStatus:
    return IndexAllStatus.model_validate(engine.queue.status())


@router.post("/index-all/cancel", response_model=CancelResponse)
def index_all_cancel(engine: Engine) -> CancelResponse:
    """Cancel the running job and everything queued."""
    return CancelResponse(cancelled=engine.queue.cancel())


@router.get("/jobs", response_model=JobListOut)
def jobs(engine: Engine, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
         offset: Annotated[int, Query(ge=0)] = 0) -> JobListOut:
    """This server's jobs since it started, oldest first."""
    every = engine.jobs.all()
    return JobListOut(items=[JobOut.model_validate(j) for j in every[offset:offset + limit]], total=len(every),
                      limit=limit, offset=offset)


@router.post("/jobs/{job_id}/cancel", response_model=CancelResponse)
def cancel_job(job_id: int, engine: Engine) -> CancelResponse:
    return CancelResponse(cancelled=engine.queue.cancel(job_id))


@router.get("/shutdown-flag", response_model=ShutdownFlagOut)
def shutdown_flag(engine: Engine) -> ShutdownFlagOut:
    """Whether QUEUE_EMPTY_COMMAND runs once the job queue empties (the original powers the PC off)."""
    return ShutdownFlagOut.model_validate(engine.queue.hook.state())


@router.post("/shutdown-flag", response_model=ShutdownFlagOut)
def set_shutdown_flag(body: ShutdownFlagRequest, engine: Engine) -> ShutdownFlagOut:
    """Switch the one-shot flag. The command itself comes only from the settings; without one the flag
    is kept and `note` says nothing will run."""
    engine.queue.hook.set(body.enabled)
    return ShutdownFlagOut.model_validate(engine.queue.hook.state())


@router.get("/cache/stats", response_model=CacheStatsOut)
async def cache_stats(engine: Engine) -> CacheStatsOut:
    return CacheStatsOut(**await run_in_threadpool(engine.thumbnails.stats))


@router.post("/cache/warm", response_model=JobOut, status_code=202)
def cache_warm(engine: Engine, body: CacheWarmRequest | None = None) -> JobOut:
    """Render missing thumbnails as a background job on the decode workers, RAW and HEIC first."""
    kinds = tuple(dict.fromkeys((body or CacheWarmRequest()).kinds))
    return JobOut.model_validate(engine.library.start_warm_job(engine.jobs, kinds))


@router.post("/cache/clear", response_model=CacheClearResponse)
async def cache_clear(engine: Engine) -> CacheClearResponse:
    return CacheClearResponse(removed_files=await run_in_threadpool(engine.thumbnails.clear))
