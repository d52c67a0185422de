"""Rotation-aware JPEG renditions of photos (400 px thumbs, 2000 px full views) and their disk cache."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Literal

from PIL import Image

from engine.errors import Invalid
from engine.library.paths import read_inside
from engine.media.decode import DEFAULT_MAX_PIXELS, DecodeError, load_image

JPEG_QUALITY = 85
ThumbKind = Literal["thumb", "full"]

_ROTATIONS = {
    0: None,
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def normalize_rotation(rotation: int) -> int:
    """0/90/180/270 clockwise (any multiple of 90, negative allowed) -> 0..270."""
    value = int(rotation) % 360
    if value not in _ROTATIONS:
        raise Invalid(f"rotation must be a multiple of 90 degrees, got {rotation}")
    return value


def render_image(image: Image.Image, max_side: int, rotation: int = 0) -> Image.Image:
    """Oriented RGB image -> downscaled (long side <= max_side) and user-rotated copy."""
    image = image.convert("RGB") if image.mode != "RGB" else image
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    method = _ROTATIONS[normalize_rotation(rotation)]
    return image.transpose(method) if method is not None else image


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def render_view(
    source: Path | bytes,
    fmt: str,
    max_side: int,
    rotation: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """JPEG bytes of the photo as displayed, user rotation (clockwise) applied, long side <= max_side."""
    rotation = normalize_rotation(rotation)
    image = load_image(source, fmt, min_side=max_side, max_pixels=max_pixels)
    return encode_jpeg(render_image(image, max_side, rotation))


class ThumbnailCache:
    """Disk cache of renditions. A file's name carries everything that changes its pixels, so a
    new `version` (content hash, mtime) or rotation simply misses; stale siblings are removed on write."""

    THUMB = 400
    FULL = 2000

    def __init__(self, cache_dir: Path, max_pixels: int = DEFAULT_MAX_PIXELS, library_root: Path | None = None) -> None:
        """With `library_root`, sources under it are opened with no symbolic link below the root."""
        self.cache_dir = Path(cache_dir)
        self.max_pixels = max_pixels
        self.library_root = library_root.resolve() if library_root is not None else None

    def size_for(self, kind: ThumbKind) -> int:
        if kind == "thumb":
            return self.THUMB
        if kind == "full":
            return self.FULL
        raise Invalid(f"unknown thumbnail kind {kind!r}")

    def _folder(self, photo_id: int) -> Path:
        digest = hashlib.sha1(str(photo_id).encode()).hexdigest()
        return self.cache_dir / digest[:2] / digest[2:4]

    def path_for(self, photo_id: int, kind: ThumbKind, rotation: int, version: str) -> Path:
        self.size_for(kind)
        version_key = hashlib.sha1(str(version).encode()).hexdigest()[:16]
        name = f"{photo_id}_{kind}_r{normalize_rotation(rotation)}_{version_key}.jpg"
        return self._folder(photo_id) / name

    def get(
        self,
        photo_id: int,
        source: Path,
        fmt: str,
        kind: ThumbKind,
        rotation: int,
        version: str,
        root: Path | None = None,
    ) -> Path:
        """Path of the cached JPEG, rendering it first on a miss. Raises DecodeError for bad sources.
        `root` is the folder the source must lie in with no link below it (the trash's, for a
        trashed photo); the library root by default."""
        path = self.path_for(photo_id, kind, rotation, version)
        if path.is_file():
            return path
        data = render_view(self._read(source, root), fmt, self.size_for(kind), rotation, self.max_pixels)
        self._write_atomic(path, data)
        self._drop_stale(path, photo_id, kind, rotation)
        return path

    def _read(self, source: Path, root: Path | None = None) -> Path | bytes:
        root = root or self.library_root
        return read_inside(root, source) if root is not None else source

    def _write_atomic(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jpg", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _drop_stale(self, current: Path, photo_id: int, kind: str, rotation: int) -> None:
        for old in current.parent.glob(f"{photo_id}_{kind}_r{normalize_rotation(rotation)}_*.jpg"):
            if old != current:
                old.unlink(missing_ok=True)

    def invalidate(self, photo_id: int) -> int:
        """Remove every cached rendition of one photo; returns how many files went."""
        removed = 0
        folder = self._folder(photo_id)
        if folder.is_dir():
            for old in folder.glob(f"{photo_id}_*.jpg"):
                old.unlink(missing_ok=True)
                removed += 1
        return removed

    def stats(self) -> dict[str, int]:
        files = total = 0
        for path in self.cache_dir.glob("*/*/*.jpg"):
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue
            files += 1
        return {"files": files, "bytes": total}

    def clear(self) -> int:
        removed = 0
        for path in self.cache_dir.glob("*/*/*.jpg"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


__all__ = ["DecodeError", "ThumbnailCache", "normalize_rotation", "render_image", "render_view"]
