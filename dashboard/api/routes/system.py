"""Service status: /health, /stats, /models."""
from __future__ import annotations

from fastapi import APIRouter, Request

from dashboard.api.access import authorized
from dashboard.api.deps import Engine
from dashboard.api.schemas.system import HealthOut, ModelOut
from engine.app import Stats
from engine.models.registry import get_spec

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthOut, response_model_exclude_none=True)
def health(engine: Engine, request: Request) -> HealthOut:
    """`ok` or `degraded`; with access (loopback in open mode, or the token) also what is wrong and where."""
    health = engine.health()
    if not authorized(request):
        return HealthOut(status=health.status)
    return HealthOut.model_validate(health)


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
