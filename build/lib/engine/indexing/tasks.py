"""The functions Dask runs on workers: decode a batch of files, embed a decoded batch.

Both take and return plain data so they run the same in-process (tests, notebooks) and on a
cluster. A failure of one file never fails the batch: it comes back with a reason.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.indexing.cluster import MODEL_THREADS_ENV
from engine.media.decode import DecodeError, load_image
from engine.media.exif import PhotoMetadata, read_metadata
from engine.media.preprocess import Preprocessor


METADATA_MIN_SIDE = 256
"""With no model to feed, a file is still decoded (cheaply, DCT-scaled) to prove it is readable."""


@dataclass(frozen=True)
class DecodeItem:
    photo_id: int
    path: Path
    format: str


@dataclass(frozen=True)
class ModelRef:
    """Enough to find (or load once) a model inside a worker process."""

    name: str
    model_dir: str
    device: str
    geometry: str
    """`Preprocessor.key()` of the decoded array this model consumes."""


@dataclass
class DecodedPhoto:
    photo_id: int
    ok: bool
    reason: str | None = None
    content_hash: str | None = None
    metadata: PhotoMetadata | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


def decode_one(item: DecodeItem, geometries: list[Preprocessor], max_pixels: int) -> DecodedPhoto:
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return DecodedPhoto(item.photo_id, False, f"unreadable: {exc.strerror or exc}")
    content_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        min_side = max((g.min_source_side for g in geometries), default=METADATA_MIN_SIDE)
        image = load_image(data, item.format, min_side=min_side, max_pixels=max_pixels)
        metadata = read_metadata(data, item.format, image)
        arrays = {g.key(): g.to_uint8(image) for g in geometries}
    except DecodeError as exc:
        return DecodedPhoto(item.photo_id, False, str(exc), content_hash)
    except Exception as exc:  # one hostile file must not fail its batch
        return DecodedPhoto(item.photo_id, False, f"{type(exc).__name__}: {exc}", content_hash)
    return DecodedPhoto(item.photo_id, True, None, content_hash, metadata, arrays)


def warm_up() -> None:
    """Run on a fresh worker so its first real task does not pay for importing the decoders."""


def decode_batch(items: list[DecodeItem], geometries: list[Preprocessor], max_pixels: int) -> list[DecodedPhoto]:
    return [decode_one(item, geometries, max_pixels) for item in items]


_models: dict[tuple[str, str, str], object] = {}
_models_lock = threading.Lock()


def worker_model(ref: ModelRef):
    """The process-wide instance of a model: loaded on first use, kept for later batches."""
    from engine.models.image_text import ImageTextModel
    from engine.models.registry import get_spec

    key = (ref.name, ref.model_dir, ref.device)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            threads = int(os.environ.get(MODEL_THREADS_ENV, 0)) or len(os.sched_getaffinity(0))
            model = ImageTextModel(get_spec(ref.name), Path(ref.model_dir), device=ref.device, num_threads=threads)
            _models[key] = model
    model.load()
    return model


def embed_batch(decoded_batches: list[list[DecodedPhoto]], models: list[ModelRef]) -> list[DecodedPhoto]:
    """Embed every decoded photo of several decode batches with every model, as one model batch.

    Returns the photos without their pixel arrays, so only vectors travel back.
    """
    decoded = [d for batch in decoded_batches for d in batch]
    good = [d for d in decoded if d.ok]
    vectors: dict[int, dict[str, np.ndarray]] = {d.photo_id: {} for d in good}
    for ref in models:
        if not good:
            break
        batch = np.stack([d.arrays[ref.geometry] for d in good])
        embeddings = worker_model(ref).encode_images(batch)
        for d, vec in zip(good, embeddings):
            vectors[d.photo_id][ref.name] = vec
    return [replace(d, arrays={}, vectors=vectors.get(d.photo_id, {})) for d in decoded]
