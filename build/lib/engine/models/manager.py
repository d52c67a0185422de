"""Per-process owner of the image-text models: lazy creation, warm, unload, status."""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from engine.config import Settings
from engine.models.errors import DeviceUnavailable, ModelNotAvailable
from engine.models.image_text import ImageTextModel, resolve_device
from engine.models.paths import resolve_model_dir
from engine.models.registry import MODELS, ModelSpec, get_spec


class ModelManager:
    """Holds at most one `ImageTextModel` per registry entry; weights load only on use or `warm`."""

    def __init__(self, settings: Settings, models: Mapping[str, ModelSpec] = MODELS, device: str | None = None) -> None:
        self.settings = settings
        self.models = dict(models)
        self.device = device or settings.clip_device
        self._instances: dict[str, ImageTextModel] = {}
        self._lock = threading.Lock()

    def spec(self, name: str) -> ModelSpec:
        return get_spec(name, self.models)

    def get(self, name: str) -> ImageTextModel:
        """The model object (not yet loaded); raises `ModelNotAvailable` with no weights folder and
        `DeviceUnavailable` when CLIP_DEVICE names an accelerator this machine lacks."""
        spec = self.spec(name)
        if self.device != "auto":
            resolve_device(self.device)
        with self._lock:
            model = self._instances.get(spec.name)
            if model is None:
                # every core: a local Dask cluster sets OMP/MKL_NUM_THREADS=1 in this process too
                model = ImageTextModel(spec, resolve_model_dir(spec, self.settings), device=self.device,
                                       num_threads=len(os.sched_getaffinity(0)))
                self._instances[spec.name] = model
            return model

    def warm(self, name: str) -> ImageTextModel:
        model = self.get(name)
        model.load()
        return model

    def unload(self, name: str) -> None:
        spec = self.spec(name)
        with self._lock:
            model = self._instances.get(spec.name)
        if model is not None:
            model.unload()

    def unload_all(self, except_: str | None = None) -> None:
        """Free every loaded model but `except_`, e.g. before a big indexing run."""
        keep = self.spec(except_).name if except_ else None
        with self._lock:
            models = [m for name, m in self._instances.items() if name != keep]
        for model in models:
            model.unload()

    def loaded(self) -> list[str]:
        with self._lock:
            return [name for name, m in self._instances.items() if m.loaded]

    def status(self) -> list[dict[str, Any]]:
        """One row per registry entry: availability (path or reason), load state, memory."""
        rows = []
        for spec in self.models.values():
            row: dict[str, Any] = {"name": spec.name, "hf_id": spec.hf_id, "dim": spec.dim}
            try:
                model = self.get(spec.name)
            except (ModelNotAvailable, DeviceUnavailable) as exc:
                row.update(available=False, path=None, reason=str(exc), loaded=False, memory_bytes=0, device=None)
            else:
                row.update(
                    available=True, path=str(model.model_dir), reason=None, loaded=model.loaded,
                    memory_bytes=model.memory_bytes(), device=model.device if model.loaded else self.device,
                )
            rows.append(row)
        return rows
