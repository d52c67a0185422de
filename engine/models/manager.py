"""The engine's image-text models: which are available, warm, unload, status. The model objects
themselves are this process's (`engine.models.cache`), shared with the stages run in-process."""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from engine.config import Settings
from engine.models import cache as model_cache
from engine.models.errors import DeviceUnavailable, ModelNotAvailable
from engine.models.image_text import ImageTextModel, resolve_device
from engine.models.paths import resolve_model_dir
from engine.models.registry import MODELS, ModelSpec, get_spec


@dataclass(frozen=True)
class ModelStatus:
    name: str
    hf_id: str
    dim: int
    multilingual: bool
    available: bool
    path: str | None
    """The weights folder, when available."""
    reason: str | None
    """Why not, when not available: the sentence that says where it looked and what to run."""
    loaded: bool = False
    memory_bytes: int = 0
    device: str | None = None
    runtime: str | None = None
    """CLIP_RUNTIME it runs (or will run) on: torch, onnx, onnx-int8, onnx-int8-static."""


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
                model = model_cache.image_text(spec, resolve_model_dir(spec, self.settings), self.device,
                                               self.settings.clip_runtime)
                self._instances[spec.name] = model
            return model

    def warm(self, name: str) -> ImageTextModel:
        model = self.get(name)
        model.warm()
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

    def status(self) -> list[ModelStatus]:
        """One row per registry entry: availability (path or reason), load state, memory."""
        rows = []
        for spec in self.models.values():
            try:
                model = self.get(spec.name)
            except (ModelNotAvailable, DeviceUnavailable) as exc:
                rows.append(ModelStatus(spec.name, spec.hf_id, spec.dim, spec.multilingual, False, None, str(exc)))
            else:
                rows.append(ModelStatus(spec.name, spec.hf_id, spec.dim, spec.multilingual, True, str(model.model_dir),
                                        None, model.loaded, model.memory_bytes(),
                                        model.device if model.loaded else self.device, model.backend))
        return rows
