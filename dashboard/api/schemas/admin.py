"""Admin: models, GPU, failed files, the Index-All queue, the thumbnail cache."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from dashboard.api.schemas.common import JobOut, Out, Page, Timestamp, example, renamed


class ModelRequest(BaseModel):
    model_config = example({"model": "ViT-B/32"})
    model: str = Field(min_length=1, max_length=100, description='Registry name, e.g. "SigLIP".')


class ModelStatusOut(Out):
    name: str
    hf_id: str
    dim: int
    available: bool
    loaded: bool
    device: str | None
    runtime: str | None = None
    memory_bytes: int
    path: str | None
    reason: str | None


class ModelsStatusOut(BaseModel):
    models: list[ModelStatusOut]
    loaded: list[str]

    @classmethod
    def of(cls, rows: list) -> "ModelsStatusOut":
        models = [ModelStatusOut.model_validate(m) for m in rows]
        return cls(models=models, loaded=[m.name for m in models if m.loaded])


class GpuProcessOut(BaseModel):
    pid: int
    used_bytes: int | None
    this_process: bool


class GpuDeviceOut(BaseModel):
    index: int
    name: str
    memory_total_bytes: int
    memory_used_bytes: int
    memory_free_bytes: int
    utilization_percent: int | None
    memory_utilization_percent: int | None
    temperature_c: int | None
    processes: list[GpuProcessOut]


class GpuStatsOut(BaseModel):
    available: bool
    reason: str | None
    driver_version: str | None = None
    devices: list[GpuDeviceOut]
    models: list[ModelStatusOut] = Field(description="Models loaded in this server process, with their memory.")


class FailedFileOut(Out):
    id: int
    path: str
    format: str
    size: int
    reason: str | None = Field(validation_alias=renamed("reason", "fail_reason"))


class FailedFilesOut(Page[FailedFileOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def files(self) -> list[FailedFileOut]:
        """The original API's name for `items`."""
        return self.items


class ResetFailedRequest(BaseModel):
    model_config = example({}, {"image_ids": [31, 32]})
    image_ids: list[int] | None = Field(None, max_length=100_000, description="None resets every failed file.")


class ResetFailedResponse(BaseModel):
    reset: int


class IndexAllRequest(BaseModel):
    model_config = example({}, {"models": ["ViT-B/32"], "stages": ["phash"]})
    models: list[str] | None = Field(None, max_length=10, description="Image-text models; default CLIP_MODEL.")
    all_models: bool = Field(False, description="Every available image-text model.")
    stages: list[str] | None = Field(None, max_length=10, description='Later stages, default all: ["faces", "phash"].')


class IndexAllResponse(BaseModel):
    jobs: list[JobOut]
    skipped: dict[str, str]


class CommandRunOut(Out):
    argv: list[str]
    started_at: Timestamp
    returncode: int | None
    error: str | None


class ShutdownFlagOut(Out):
    enabled: bool
    configured: bool = Field(description="Whether QUEUE_EMPTY_COMMAND is set.")
    command: list[str] | None
    last_run: CommandRunOut | None
    note: str | None = Field(None, description="Said when the flag is on but no command is configured.")


class ShutdownFlagRequest(BaseModel):
    model_config = example({"enabled": True})
    enabled: bool


class IndexAllStatus(Out):
    running: bool
    current: JobOut | None
    queued: list[JobOut]
    batch: list[JobOut] = Field(description="The jobs of the last Index-All request, in order.")
    stages: list[str]
    shutdown: ShutdownFlagOut


class CacheStatsOut(BaseModel):
    disk: dict[str, Any]
    memory: dict[str, Any]


class CacheWarmRequest(BaseModel):
    model_config = example({"kinds": ["thumb", "full"]})
    kinds: list[Literal["thumb", "full"]] = Field(default_factory=lambda: ["thumb"], min_length=1, max_length=2)


class CacheClearResponse(BaseModel):
    removed_files: int
