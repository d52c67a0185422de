"""Helpers for the library and admin tests: photo-like pictures, hashes, a client, job waits."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tests.fixtures import build_exif


def make_scene(path: Path, size: tuple[int, int] = (800, 600), seed: int = 0, *, quality: int = 92,
               taken_at: datetime | None = None) -> Path:
    """A smooth random picture (a coarse random grid upscaled): different seeds give different
    perceptual hashes; the same seed resized or re-encoded stays close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(grid, "RGB").resize(size, Image.Resampling.BICUBIC)
    image.save(path, "JPEG", quality=quality, exif=build_exif(taken_at=taken_at).tobytes())
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(root: Path) -> dict[str, str]:
    """Every regular file under `root` (links not followed) -> its sha256."""
    return {p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def wait_until(check: Callable[[], bool], timeout: float = 180, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout} s")


def wait_job(client: TestClient, job_id: int, timeout: float = 180) -> dict:
    result: dict = {}

    def finished() -> bool:
        nonlocal result
        jobs = {j["id"]: j for j in client.get("/admin/jobs").json()["items"]}
        result = jobs[job_id]
        return result["state"] not in ("queued", "running")

    wait_until(finished, timeout, f"job {job_id}")
    return result


def ids_by_path(engine) -> dict[str, int]:
    from engine.db import photos as photo_rows

    with engine.db.connection() as conn:
        return {path: state.id for path, state in photo_rows.file_states(conn).items()}
