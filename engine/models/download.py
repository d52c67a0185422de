"""Fetch model weights into MODELS_DIR: registry image-text models from the Hugging Face Hub,
InsightFace face packs from InsightFace's model zoo.

Both are resumable (a second run continues a partial download), report progress through a
callback, and fail in one sentence within seconds when the host cannot be reached.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from engine.config import Settings
from engine.errors import Invalid, Unavailable
from engine.models.paths import is_model_dir
from engine.models.registry import MODELS, ModelSpec, UnknownModel, get_spec

log = logging.getLogger(__name__)

HF_ENDPOINT_DEFAULT = "https://huggingface.co"
FACE_PACKS = ("buffalo_l", "buffalo_m", "buffalo_s", "buffalo_sc", "antelopev2")
WEIGHT_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "spiece*"]
"""What the loaders read: configs, safetensors weights, tokenizer files (not the repo's other formats)."""
REACH_TIMEOUT_S = 5.0
FAILED_ATTEMPT_PAUSE_S = 24 * 3600


@dataclass(frozen=True)
class DownloadProgress:
    name: str
    done: int
    total: int
    unit: str  # "files" or "bytes"
    current: str = ""


ProgressCallback = Callable[[DownloadProgress], None]


class HostUnreachable(Unavailable):
    """The machine cannot reach the download host (offline, or blocked)."""


def known_model_names() -> list[str]:
    return [*MODELS, *FACE_PACKS]


def download(name: str, settings: Settings, progress: ProgressCallback | None = None) -> Path:
    """Download the image-text model or face pack called `name`; return its folder."""
    if name in FACE_PACKS:
        return download_face_pack(name, settings, progress)
    try:
        spec = get_spec(name)
    except UnknownModel:
        raise Invalid(f"Unknown model {name!r}; models that can be downloaded: {', '.join(known_model_names())}.") \
            from None
    return download_image_text(spec, settings, progress)


def hf_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", HF_ENDPOINT_DEFAULT).rstrip("/")


def require_reachable(url: str, *, what: str, manual: str) -> None:
    """Fail fast, in one sentence, when `url`'s host takes no connection (name lookup included)."""
    parts = urlparse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list[BaseException | None] = []

    def connect() -> None:
        try:
            socket.create_connection((parts.hostname, port), timeout=REACH_TIMEOUT_S).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(REACH_TIMEOUT_S + 1)
    error = outcome[0] if outcome else TimeoutError(f"no answer in {REACH_TIMEOUT_S:.0f} s")
    if error is not None:
        raise HostUnreachable(f"Cannot reach {parts.hostname} to download {what} ({error}); this machine seems "
                              f"offline: {manual}")


COMPLETE_MARKER = ".photoindex-download-complete"


def download_image_text(spec: ModelSpec, settings: Settings, progress: ProgressCallback | None = None) -> Path:
    target = settings.resolved_models_dir / spec.folder_name
    if not spec.hf_id:
        raise Invalid(f"Model {spec.name!r} names a folder ({spec.path}), not a Hugging Face id, so there is "
                      "nothing to download; put the model's files there, or give its entry an `hf_id`.")
    if (target / COMPLETE_MARKER).is_file() and is_model_dir(target):
        return target
    manual = (f"download it on a machine that is online with `hf download {spec.hf_id} --local-dir "
              f"{spec.folder_name}` and copy the folder to {target}, or set MODEL_PATHS to where it is.")
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if constants.HF_HUB_OFFLINE:
        raise Unavailable(f"HF_HUB_OFFLINE is set, so {spec.hf_id} cannot be downloaded; unset it, or {manual}")
    endpoint = hf_endpoint()
    require_reachable(endpoint, what=spec.hf_id, manual=manual)
    target.mkdir(parents=True, exist_ok=True)
    try:
        snapshot_download(spec.hf_id, local_dir=target, allow_patterns=WEIGHT_PATTERNS, endpoint=endpoint,
                          tqdm_class=_files_bar(spec.name, progress) if progress else None)
    except (HfHubHTTPError, LocalEntryNotFoundError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Unavailable(f"The Hugging Face Hub did not give {spec.hf_id} ({reason}); run the command again "
                          f"to resume, or {manual}") from exc
    if not is_model_dir(target):
        raise Unavailable(f"{spec.hf_id} was downloaded to {target} but holds no config.json with safetensors "
                          "weights; the loaders need the transformers format.")
    (target / COMPLETE_MARKER).write_text(f"{spec.hf_id}\n", encoding="utf-8")
    return target


def _files_bar(name: str, progress: ProgressCallback):
    """A tqdm stand-in for huggingface_hub's files bar that reports to `progress`."""
    from tqdm.auto import tqdm

    class FilesBar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            result = super().update(n)
            progress(DownloadProgress(name, int(self.n), int(self.total or 0), "files"))
            return result

    return FilesBar


def face_pack_dir(name: str, settings: Settings) -> Path:
    return settings.resolved_models_dir / "insightface" / "models" / name


def download_face_pack(name: str, settings: Settings, progress: ProgressCallback | None = None) -> Path:
    """InsightFace's zip for pack `name` (FACE_MODEL_URL), resumed with a Range request, unpacked
    into MODELS_DIR/insightface/models/<name>."""
    import httpx

    url = settings.face_model_url.format(name=name)
    target = face_pack_dir(name, settings)
    if next(target.glob("*.onnx"), None) is not None:
        return target
    require_reachable(url, what=f"the face pack {name}", manual=(
        f"download {url} elsewhere and unzip it into {target}, or set FACE_MODEL_DIR; "
        "the offline buffalo_s pack is used meanwhile."))
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.parent / f"{name}.zip.part"
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    timeout = httpx.Timeout(30.0, connect=REACH_TIMEOUT_S)
    with httpx.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as response:
        if response.status_code == 416:  # the part file is already whole
            total = have
        else:
            response.raise_for_status()
            if response.status_code != 206:
                have = 0
            total = have + int(response.headers.get("Content-Length") or 0)
            with part.open("ab" if have else "wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
                    have += len(chunk)
                    if progress:
                        progress(DownloadProgress(name, have, total, "bytes", f"{name}.zip"))
    try:
        with zipfile.ZipFile(part) as archive:
            _unpack(archive, target)
    except zipfile.BadZipFile:
        part.unlink(missing_ok=True)
        raise Unavailable(f"The download of the face pack {name} from {url} was not a zip file; run the command "
                          "again to start over.") from None
    part.unlink()
    _attempt_marker(target).unlink(missing_ok=True)
    return target


def _unpack(archive: zipfile.ZipFile, target: Path) -> None:
    """The zoo's zips hold the ONNX files either at the top or in a folder named after the pack."""
    staging = target.with_name(target.name + ".unpacking")
    staging.mkdir(parents=True, exist_ok=True)
    for member in archive.infolist():
        name = Path(member.filename).name
        if member.is_dir() or not name.endswith(".onnx"):
            continue
        with archive.open(member) as source, (staging / name).open("wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
    target.mkdir(parents=True, exist_ok=True)
    for file in staging.iterdir():
        file.replace(target / file.name)
    staging.rmdir()


def _attempt_marker(target: Path) -> Path:
    return target.with_name(target.name + ".download-failed")


def try_face_pack_download_once(name: str, settings: Settings) -> Path | None:
    """The automatic download behind FACE_MODEL_DOWNLOAD: tried at most once a day (a failure is
    remembered next to the pack's folder), with short timeouts; None when it did not work."""
    target = face_pack_dir(name, settings)
    marker = _attempt_marker(target)
    if marker.exists() and time.time() - marker.stat().st_mtime < FAILED_ATTEMPT_PAUSE_S:
        return None
    try:
        return download_face_pack(name, settings)
    except Exception as exc:  # offline, blocked, or not a pack: remembered, and the offline pack is used
        log.warning("could not download face model %s (next try in a day; `photoindex models download %s` "
                    "tries now): %s", name, name, exc)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {exc}\n", encoding="utf-8")
        return None
