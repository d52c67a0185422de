"""Service status: /health, /stats, /models."""
from __future__ import annotations

from fastapi import APIRouter

from dashboard.api.deps import Engine
from dashboard.api.schemas.system import HealthOut, ModelOut
from engine.app import Stats
from engine.errors import PhotoIndexError
from engine.models.registry import get_spec

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthOut)
def health(engine: Engine) -> HealthOut:
    detail: dict[str, str] = {}
    try:
        engine.db.ping()
        database = "ok"
    except PhotoIndexError as exc:
        database, detail["database"] = "error", str(exc)
    if not engine.db.vector_check.ok:
        database, detail["database"] = "error", engine.db.vector_check.message or "pgvector does not work"
    root = engine.settings.photos_dir
    library_ok = root.is_dir()
    if not library_ok:
        detail["library"] = f"PHOTOS_DIR {root} is not a readable folder"
    default = get_spec(engine.settings.clip_model).name
    model = next(m for m in engine.models.status() if m.name == default)
    if not model.available:
        detail["model"] = model.reason or "not available"
    ok = database == "ok" and library_ok and model.available
    return HealthOut(
        status="ok" if ok else "degraded",
        database=database,
        library=str(root),
        library_available=library_ok,
        default_model=default,
        default_model_available=model.available,
        detail=detail,
    )


@router.get("/stats", response_model=Stats)
def stats(engine: Engine) -> Stats:
    return engine.stats()


@router.get("/models", response_model=list[ModelOut])
def models(engine: Engine) -> list[ModelOut]:
    default = get_spec(engine.settings.clip_model).name
    out = [ModelOut.model_validate(m) for m in engine.models.status()]
    for m in out:
        m.default = m.name == default
    return out
