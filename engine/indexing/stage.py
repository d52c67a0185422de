"""The image-text indexing stage: decode on CPU workers -> embed on the model worker -> write.

Decoded pixels go from a decode worker straight to the model worker and only vectors come back.
Every model batch is written in one transaction; a run killed at any point resumes from the
photos still missing metadata or a vector, and unique keys make a re-written row an update,
never a duplicate. Without a model the stage still decodes every photo (cheaply) to read its
metadata and prove it readable.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from engine.db import embeddings as embedding_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.db.photos import PendingPhoto
from engine.media.preprocess import Preprocessor
from engine.models import cache as model_cache
from engine.models.image_text import ImageTextModel
from engine.models.registry import ModelSpec
from engine.runtime.photos import DecodedPhoto, decode_photo, store_decoded
from engine.runtime.stage import Stage, paged

METADATA_MIN_SIDE = 256
"""With no model to feed, a file is still decoded (cheaply, DCT-scaled) to prove it is readable."""


@dataclass(frozen=True)
class ModelRef:
    """Enough to find (or load once) a model inside a worker process, whose registry may not
    hold an entry added by configuration: the entry travels along."""

    spec: ModelSpec
    model_dir: str
    device: str
    geometry: str
    """`Preprocessor.key()` of the decoded array this model consumes."""
    runtime: str = "auto"
    """CLIP_RUNTIME: torch, or an ONNX Runtime variant on the CPU."""

    @property
    def name(self) -> str:
        return self.spec.name


def decode_batch(photos: list[PendingPhoto], root: Path, geometries: list[Preprocessor],
                 max_pixels: int) -> list[DecodedPhoto]:
    """Runs on a decode worker: each photo decoded once, at every geometry the models need."""
    min_side = max((g.min_source_side for g in geometries), default=METADATA_MIN_SIDE)

    def arrays(decoded: DecodedPhoto, image) -> DecodedPhoto:
        return replace(decoded, arrays={g.key(): g.to_uint8(image) for g in geometries})

    return [decode_photo(p, root, min_side, max_pixels, arrays) for p in photos]


def embed_batch(decoded_batches: list[list[DecodedPhoto]], models: list[ModelRef]) -> list[DecodedPhoto]:
    """Runs on the model worker: every decoded photo of several decode batches embedded with
    every model, as one model batch (each model loaded once per process); the pixels stay here,
    only vectors travel back."""
    decoded = [d for batch in decoded_batches for d in batch]
    good = [d for d in decoded if d.ok]
    vectors: dict[int, dict[str, np.ndarray]] = {d.photo_id: {} for d in good}
    for ref in models:
        if not good:
            break
        batch = np.stack([d.arrays[ref.geometry] for d in good])
        embeddings = _model(ref).load().encode_images(batch)
        for d, vec in zip(good, embeddings):
            vectors[d.photo_id][ref.name] = vec
    return [replace(d, arrays={}, vectors=vectors.get(d.photo_id, {})) for d in decoded]


def load_models(models: list[ModelRef]) -> None:
    """Runs on the model worker at the start of a run, while the decode workers decode the first
    photos: every model loaded and its image encoder made ready, so the first batch does not wait."""
    for ref in models:
        _model(ref).warm(images=True, texts=False)


def _model(ref: ModelRef) -> ImageTextModel:
    return model_cache.image_text(ref.spec, Path(ref.model_dir), ref.device, ref.runtime)


class ImageTextStage(Stage[PendingPhoto, DecodedPhoto]):
    name = "indexing"

    def __init__(self, db: Database, root: Path, refs: list[ModelRef], geometries: list[Preprocessor], *,
                 max_pixels: int, decode_batch_size: int, model_batch_size: int) -> None:
        self.db = db
        self.models = [r.name for r in refs]
        self.decode = partial(decode_batch, root=root, geometries=geometries, max_pixels=max_pixels)
        self.model = partial(embed_batch, models=refs) if refs else None
        self.warm = partial(load_models, refs) if refs else None
        self.decode_batch = decode_batch_size
        self.model_batch = model_batch_size

    def count(self) -> int:
        with self.db.connection() as conn:
            return photo_rows.count_pending(conn, self.models)

    def pending(self):
        return paged(self.db, lambda conn, after: photo_rows.pending(conn, self.models, after_id=after))

    def failure(self, item: PendingPhoto, reason: str) -> DecodedPhoto:
        return DecodedPhoto(item.id, False, reason)

    def write(self, done: list[tuple[PendingPhoto, DecodedPhoto]]) -> None:
        vectors: dict[str, list[tuple[int, np.ndarray]]] = {m: [] for m in self.models}
        with self.db.connection() as conn:
            for photo, decoded in done:
                if store_decoded(conn, photo, decoded):
                    for m in self.models:
                        vectors[m].append((photo.id, decoded.vectors[m]))
            for m, rows in vectors.items():
                embedding_rows.upsert(conn, m, rows)
