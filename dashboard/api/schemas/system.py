"""Service status: health, statistics, the image-text models."""
from __future__ import annotations

from dashboard.api.schemas.common import Out


class ModelOut(Out):
    name: str
    hf_id: str
    dim: int
    multilingual: bool
    default: bool = False
    available: bool
    loaded: bool
    path: str | None = None
    reason: str | None = None


class HealthOut(Out):
    status: str
    database: str
    library: str
    library_available: bool
    default_model: str
    default_model_available: bool
    detail: dict[str, str] = {}
