"""Find a model's weights folder on disk; never touches the network."""
from __future__ import annotations

import os
from pathlib import Path

from engine.config import Settings
from engine.models.errors import ModelNotAvailable
from engine.models.registry import ModelSpec, UnknownModel, get_spec

_WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


def is_model_dir(path: Path) -> bool:
    """A folder counts when it has config.json and at least one weights file."""
    return (
        path.is_dir()
        and (path / "config.json").is_file()
        and any(next(path.glob(pattern), None) is not None for pattern in _WEIGHT_PATTERNS)
    )


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment now (not at import time)."""
    if cache := os.environ.get("HF_HUB_CACHE"):
        return Path(cache).expanduser()
    if home := os.environ.get("HF_HOME"):
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def _configured_path(spec: ModelSpec, settings: Settings) -> Path | None:
    """MODEL_PATHS[name or alias], else the entry's own `path`."""
    if spec.name in settings.model_paths:
        return Path(settings.model_paths[spec.name]).expanduser()
    for key, path in settings.model_paths.items():
        try:
            if get_spec(key).name == spec.name:
                return Path(path).expanduser()
        except UnknownModel:
            continue
    return Path(spec.path) if spec.path else None


def _hf_cache_snapshots(spec: ModelSpec, cache: Path) -> list[Path]:
    """Snapshot folders for `spec.hf_id`, the one `main` points at first."""
    from huggingface_hub import try_to_load_from_cache

    found: list[Path] = []
    if not spec.hf_id:
        return found
    cached = try_to_load_from_cache(spec.hf_id, "config.json", cache_dir=cache)
    if isinstance(cached, str):
        found.append(Path(cached).parent)
    snapshots = cache / f"models--{spec.folder_name}" / "snapshots"
    if snapshots.is_dir():
        others = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        found += [p for p in others if p not in found]
    return found


def candidate_dirs(spec: ModelSpec, settings: Settings) -> list[Path]:
    """Every folder that would be accepted, in the order they are tried."""
    models_dir = settings.resolved_models_dir
    candidates = [models_dir / spec.folder_name, models_dir / spec.name.replace("/", "-")]
    if (configured := _configured_path(spec, settings)) is not None:
        candidates.insert(0, configured)
    return candidates


def resolve_model_dir(spec: ModelSpec, settings: Settings) -> Path:
    """The first usable folder among MODEL_PATHS[name], MODELS_DIR/<org--repo>,
    MODELS_DIR/<name>, and the Hugging Face cache; else `ModelNotAvailable`."""
    looked_at = candidate_dirs(spec, settings)
    for path in looked_at:
        if is_model_dir(path):
            return path
    cache = hf_cache_dir()
    for path in _hf_cache_snapshots(spec, cache):
        if is_model_dir(path):
            return path
    if spec.hf_id:
        looked_at.append(cache / f"models--{spec.folder_name}")
    raise ModelNotAvailable(spec.name, spec.hf_id, looked_at, settings.resolved_models_dir / spec.folder_name)
