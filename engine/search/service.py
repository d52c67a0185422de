"""Text and image search over one model's embedding store."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from engine.db import embeddings as embedding_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.media.decode import load_image
from engine.media.formats import expand_format_filter, format_of
from engine.models.manager import ModelManager
from engine.models.registry import ModelSpec, get_spec


class PhotoNotFound(LookupError):
    pass


class NotIndexed(LookupError):
    """The photo exists but has no vector for the requested model yet."""


@dataclass(frozen=True)
class SearchHit:
    id: int
    path: str
    score: float
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None

    @property
    def thumbnail_url(self) -> str:
        return f"/image/{self.id}/thumb"


@dataclass(frozen=True)
class SearchResult:
    model: str
    hits: list[SearchHit]
    query: str | None = None


class SearchService:
    def __init__(self, db: Database, models: ModelManager, max_image_pixels: int = 200_000_000) -> None:
        self.db = db
        self.models = models
        self.max_image_pixels = max_image_pixels

    def text(
        self,
        query: str,
        *,
        model: str,
        top_k: int = 20,
        threshold: float | None = None,
        formats: Sequence[str] | None = None,
    ) -> SearchResult:
        spec = get_spec(model)
        vector = self.models.get(spec.name).encode_text([query])[0]
        return SearchResult(spec.name, self._nearest(spec, vector, top_k, threshold, formats), query)

    def image(
        self,
        *,
        model: str,
        image_bytes: bytes | None = None,
        image_path: Path | None = None,
        photo_id: int | None = None,
        top_k: int = 20,
        threshold: float | None = None,
        formats: Sequence[str] | None = None,
    ) -> SearchResult:
        """Photos like a picture: uploaded bytes, a file on this machine, or an indexed photo.

        A photo id reuses its stored vector (no model needed) and leaves the photo itself out.
        """
        spec = get_spec(model)
        exclude: list[int] = []
        if photo_id is not None:
            with self.db.connection() as conn:
                if photo_rows.get(conn, photo_id) is None:
                    raise PhotoNotFound(f"no photo with id {photo_id}")
                vector = embedding_rows.vector_of(conn, spec.table, photo_id)
            if vector is None:
                raise NotIndexed(f"photo {photo_id} is not indexed with {spec.name} yet")
            exclude = [photo_id]
        else:
            if image_path is not None:
                image_bytes = image_path.read_bytes()
                fmt = format_of(image_path.name) or "jpg"
            else:
                fmt = "jpg"
            if image_bytes is None:
                raise ValueError("give image bytes, an image path or a photo id")
            vector = self.embed_picture(spec, image_bytes, fmt)
        hits = self._nearest(spec, vector, top_k, threshold, formats, exclude)
        return SearchResult(spec.name, hits)

    def embed_picture(self, spec: ModelSpec, data: bytes, fmt: str) -> np.ndarray:
        model = self.models.get(spec.name)
        prep = model.preprocessor
        image = load_image(data, fmt, min_side=prep.min_source_side, max_pixels=self.max_image_pixels)
        return model.encode_images(prep.to_uint8(image)[None])[0]

    def _nearest(
        self,
        spec: ModelSpec,
        vector: np.ndarray,
        top_k: int,
        threshold: float | None,
        formats: Sequence[str] | None,
        exclude: Sequence[int] = (),
    ) -> list[SearchHit]:
        stored = sorted(expand_format_filter(formats)) if formats else None
        with self.db.connection() as conn:
            rows = embedding_rows.nearest(
                conn, spec.table, vector, top_k, min_score=threshold, formats=stored, exclude_ids=exclude
            )
        return [SearchHit(r.id, r.path, float(r.score), r.format, r.taken_at, r.width, r.height) for r in rows]
