"""Service status: /health, /stats, /models."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dashboard.api.deps import Engine
from dashboard.api.schemas import HealthOut, ModelOut
from engine.models.registry import get_spec

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthOut)
def health(engine: Engine) -> HealthOut:
    detail: dict[str, str] = {}
    try:
        with engine.db.connection() as conn:
            conn.execute("SELECT 1")
        database = "ok"
    except Exception as exc:
        database, detail["database"] = "error", str(exc)
    if not engine.db.vector_check.ok:
        database, detail["database"] = "error", engine.db.vector_check.message or "pgvector does not work"
    root = engine.settings.photos_dir
    library_ok = root.is_dir()
    if not library_ok:
        detail["library"] = f"PHOTOS_DIR {root} is not a readable folder"
    default = get_spec(engine.settings.clip_model).name
    model = next(m for m in engine.models.status() if m["name"] == default)
    if not model["available"]:
        detail["model"] = model["reason"] or "not available"
    ok = database == "ok" and library_ok and model["available"]
    return HealthOut(
        status="ok" if ok else "degraded",
        database=database,
        library=str(root),
        library_available=library_ok,
        default_model=default,
        default_model_available=model["available"],
        detail=detail,
    )


@router.get("/stats")
def stats(engine: Engine) -> dict[str, Any]:
    return engine.stats()


@router.get("/models", response_model=list[ModelOut])
def models(engine: Engine) -> list[ModelOut]:
    default = get_spec(engine.settings.clip_model).name
    out = []
    for m in engine.models.status():
        spec = get_spec(m["name"])
        out.append(ModelOut(
            name=spec.name, hf_id=spec.hf_id, dim=spec.dim, multilingual=spec.multilingual,
            default=spec.name == default, available=m["available"], loaded=m["loaded"],
            path=m.get("path"), reason=m.get("reason"),
        ))
    return out
