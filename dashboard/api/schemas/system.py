"""Service status: health, statistics, the image-text models."""
from __future__ import annotations

from typing import Literal

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
    """Without the API token (when one is needed) only `status`; the rest would tell a stranger paths and models."""
    status: Literal["ok", "degraded"]
    database: str | None = None
    library: str | None = None
    library_available: bool | None = None
    default_model: str | None = None
    default_model_available: bool | None = None
    detail: dict[str, str] | None = None
