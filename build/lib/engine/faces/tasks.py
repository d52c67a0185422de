"""The functions Dask runs for faces: decode a batch on a CPU worker, analyse it on the model worker.

Decoding keeps the photo at most `max_side` pixels on its long side and remembers how that maps
back to full-size original pixels, so stored boxes never depend on the detector's input size.
A face model is loaded once per worker process and kept for later batches.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from engine.faces.model import DetectedFace, FaceAnalyzer
from engine.indexing.tasks import DecodedPhoto, DecodeItem
from engine.media.decode import DecodeError, load_image
from engine.media.exif import read_metadata


@dataclass(frozen=True)
class FaceRef:
    """Enough to find (or load once) the face model inside a worker, and how to run it."""

    pack_dir: str
    device: str
    det_size: int
    threshold: float
    min_size: int


@dataclass
class FaceDecoded(DecodedPhoto):
    scale: tuple[float, float] = (1.0, 1.0)
    """Original pixels per decoded pixel (x, y)."""
    faces: list[DetectedFace] = field(default_factory=list)
    """In original (EXIF-oriented, un-rotated, full-size) pixels."""


def decode_side(det_size: int) -> int:
    """Long side of the decoded picture: twice the detector input keeps small faces sharp for alignment."""
    return 2 * det_size


def decode_for_faces(items: list[DecodeItem], max_side: int, max_pixels: int) -> list[FaceDecoded]:
    return [_decode_one(item, max_side, max_pixels) for item in items]


def _decode_one(item: DecodeItem, max_side: int, max_pixels: int) -> FaceDecoded:
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return FaceDecoded(item.photo_id, False, f"unreadable: {exc.strerror or exc}")
    content_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        image = load_image(data, item.format, min_side=max_side, max_pixels=max_pixels)
        metadata = read_metadata(data, item.format, image)
        array, scale = to_face_array(image, max_side, metadata.width, metadata.height)
    except DecodeError as exc:
        return FaceDecoded(item.photo_id, False, str(exc), content_hash)
    except Exception as exc:  # one hostile file must not fail its batch
        return FaceDecoded(item.photo_id, False, f"{type(exc).__name__}: {exc}", content_hash)
    return FaceDecoded(item.photo_id, True, None, content_hash, metadata, {"faces": array}, scale=scale)


def to_face_array(image: Image.Image, max_side: int, width: int | None = None, height: int | None = None
                  ) -> tuple[np.ndarray, tuple[float, float]]:
    """RGB uint8 array with long side <= max_side, and the scale back to `width` x `height`
    (the photo's stored size; the decoded size when unknown or of another aspect)."""
    image = image.convert("RGB")
    full_w, full_h = image.size
    if width and height and abs(width / height - full_w / full_h) < 0.02:
        full_w, full_h = width, height
    if max(image.size) > max_side:
        ratio = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * ratio)), max(1, round(image.height * ratio))),
                             Image.Resampling.BILINEAR)
    return np.asarray(image, np.uint8), (full_w / image.width, full_h / image.height)


_analyzers: dict[tuple[str, str], FaceAnalyzer] = {}
_lock = threading.Lock()


def worker_analyzer(pack_dir: str, device: str) -> FaceAnalyzer:
    """The process-wide face model: loaded on first use, kept for later batches."""
    key = (pack_dir, device)
    with _lock:
        analyzer = _analyzers.get(key)
        if analyzer is None:
            analyzer = _analyzers[key] = FaceAnalyzer(Path(pack_dir), device)
    return analyzer.load()


def analyze_batch(decoded_batches: list[list[FaceDecoded]], ref: FaceRef) -> list[FaceDecoded]:
    """Detect and embed the faces of several decode batches as one model batch; pixels stay here."""
    decoded = [d for batch in decoded_batches for d in batch]
    good = [d for d in decoded if d.ok]
    out: dict[int, list[DetectedFace]] = {}
    if good:
        analyzer = worker_analyzer(ref.pack_dir, ref.device)
        found = analyzer.analyze([d.arrays["faces"] for d in good], det_size=ref.det_size, threshold=ref.threshold)
        for d, faces in zip(good, found):
            sx, sy = getattr(d, "scale", (1.0, 1.0))
            scaled = [f.scaled(sx, sy) for f in faces]  # FACE_MIN_SIZE is in original pixels
            out[d.photo_id] = [f for f in scaled if min(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]) >= ref.min_size]
    return [_strip(d, out.get(d.photo_id, [])) for d in decoded]


def _strip(d: DecodedPhoto, faces: list[DetectedFace]) -> FaceDecoded:
    if isinstance(d, FaceDecoded):
        return replace(d, arrays={}, faces=faces)
    return FaceDecoded(d.photo_id, d.ok, d.reason, d.content_hash, d.metadata, {}, faces=faces)
