"""The models of this process, each made once and kept: the server's, a CLI run's, a Dask
worker's (the model worker loads a model on its first batch and keeps it for the next ones).

Callers ask by what identifies a model (its kind, name, folder and device), never hold their own
copy, and `load()` what they got when they need it; `unload` frees memory without forgetting it.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

from engine.models.base import Model
from engine.models.face import FaceAnalyzer
from engine.models.image_text import ImageTextModel
from engine.models.registry import ModelSpec

M = TypeVar("M", bound=Model)

_models: dict[Hashable, Model] = {}
_lock = threading.Lock()

MODEL_THREADS_ENV = "PHOTOINDEX_MODEL_THREADS"
"""Inference threads of a model worker (Dask's nanny pins workers to one thread otherwise)."""


def get(key: Hashable, create: Callable[[], M]) -> M:
    """The process's model for `key`, made by `create()` the first time (not loaded)."""
    with _lock:
        model = _models.get(key)
        if model is None:
            model = _models[key] = create()
    return model  # type: ignore[return-value]


def image_text(spec: ModelSpec, model_dir: Path, device: str, runtime: str = "auto") -> ImageTextModel:
    """The image-text model `spec` from `model_dir` on `runtime` (CLIP_RUNTIME), with every core
    this process may use (a local Dask cluster sets OMP/MKL_NUM_THREADS=1; a model worker is
    given its share)."""
    threads = int(os.environ.get(MODEL_THREADS_ENV, 0)) or len(os.sched_getaffinity(0))
    return get(("image-text", spec, str(model_dir), device, runtime),
               lambda: ImageTextModel(spec, Path(model_dir), device=device, num_threads=threads, runtime=runtime))


def face_analyzer(pack_dir: Path, device: str) -> FaceAnalyzer:
    """The face pack in `pack_dir`."""
    return get(("face", str(pack_dir), device), lambda: FaceAnalyzer(Path(pack_dir), device))
