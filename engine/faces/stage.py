"""The face stage: decode on CPU workers -> detect + embed on the model worker -> write faces.

Decoding keeps the photo at most `decode_side(det_size)` pixels on its long side and remembers
how that maps back to full-size original pixels, so stored boxes never depend on the detector's
input size. The face model is loaded once per worker process (`engine.models.cache`). A photo's
faces and its `faces_indexed` flag are written in one transaction, so a killed run resumes from
the photos still unflagged. Re-detecting a photo keeps the person (and suggestion) of every face
that matches an old one by place or look.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import psycopg
from PIL import Image

from engine.db import faces as face_rows
from engine.db.database import Database
from engine.db.photos import PendingPhoto
from engine.faces.geometry import match_faces
from engine.models import cache as model_cache
from engine.models.face import DetectedFace
from engine.runtime.photos import DecodedPhoto, decode_photo, store_decoded
from engine.runtime.stage import Stage, paged


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


def decode_for_faces(photos: list[PendingPhoto], root: Path, max_side: int, max_pixels: int) -> list[DecodedPhoto]:
    """Runs on a decode worker: each photo as an array for the detector, with its scale."""

    def face_array(decoded: DecodedPhoto, image: Image.Image) -> FaceDecoded:
        array, scale = to_face_array(image, max_side, decoded.metadata.width, decoded.metadata.height)
        return FaceDecoded(decoded.photo_id, True, None, decoded.content_hash, decoded.metadata, {"faces": array},
                           scale=scale)

    return [decode_photo(p, root, max_side, max_pixels, face_array) for p in photos]


def analyze_batch(decoded_batches: list[list[DecodedPhoto]], ref: FaceRef) -> list[FaceDecoded]:
    """Runs on the model worker: the faces of several decode batches as one model batch; pixels stay here."""
    decoded = [d for batch in decoded_batches for d in batch]
    good = [d for d in decoded if d.ok]
    out: dict[int, list[DetectedFace]] = {}
    if good:
        analyzer = model_cache.face_analyzer(Path(ref.pack_dir), ref.device).load()
        found = analyzer.analyze([d.arrays["faces"] for d in good], det_size=ref.det_size, threshold=ref.threshold)
        for d, faces in zip(good, found):
            sx, sy = getattr(d, "scale", (1.0, 1.0))
            scaled = [f.scaled(sx, sy) for f in faces]  # FACE_MIN_SIZE is in original pixels
            out[d.photo_id] = [f for f in scaled if min(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]) >= ref.min_size]
    return [_without_pixels(d, out.get(d.photo_id, [])) for d in decoded]


def _without_pixels(d: DecodedPhoto, faces: list[DetectedFace]) -> FaceDecoded:
    if isinstance(d, FaceDecoded):
        return replace(d, arrays={}, faces=faces)
    return FaceDecoded(d.photo_id, d.ok, d.reason, d.content_hash, d.metadata, {}, faces=faces)


def replace_faces(conn: psycopg.Connection, photo_id: int, faces: list[DetectedFace], model: str) -> None:
    """Make the photo's faces `faces`; a new face matching an old one (place or look) keeps the
    old row: its id, person, and suggestion."""
    old = face_rows.vectors_of_photo(conn, photo_id)
    new = [face_rows.NewFace(f.bbox, f.landmarks, f.det_score, f.embedding, f.age, f.gender) for f in faces]
    matched = match_faces([o["bbox"] for o in old], [o["embedding"].to_numpy() for o in old],
                          [n.bbox for n in new], [n.embedding for n in new])
    for j, face in enumerate(new):
        if j in matched:
            face_rows.update_detection(conn, old[matched[j]]["id"], face, model)
        else:
            face_rows.insert(conn, photo_id, face, model)
    kept = {old[i]["id"] for i in matched.values()}
    face_rows.delete(conn, [o["id"] for o in old if o["id"] not in kept])


class FaceStage(Stage[PendingPhoto, DecodedPhoto]):
    name = "faces"

    def __init__(self, db: Database, root: Path, ref: FaceRef, *, max_pixels: int, decode_batch_size: int,
                 model_batch_size: int, photos: Sequence[PendingPhoto] | None = None) -> None:
        """Every photo whose faces are not found yet, or only `photos` (a re-detection)."""
        self.db = db
        self.photos = list(photos) if photos is not None else None
        self.model_name = Path(ref.pack_dir).name
        self.decode = partial(decode_for_faces, root=root, max_side=decode_side(ref.det_size), max_pixels=max_pixels)
        self.model = partial(analyze_batch, ref=ref)
        self.decode_batch = decode_batch_size
        self.model_batch = model_batch_size
        self.faces_written = 0
        self.failures: list[tuple[PendingPhoto, str]] = []

    def count(self) -> int:
        if self.photos is not None:
            return len(self.photos)
        with self.db.connection() as conn:
            return face_rows.count_pending(conn)

    def pending(self) -> Iterable[Sequence[PendingPhoto]]:
        if self.photos is not None:
            return [self.photos]
        return paged(self.db, lambda conn, after: face_rows.pending(conn, after_id=after))

    def failure(self, item: PendingPhoto, reason: str) -> DecodedPhoto:
        return DecodedPhoto(item.id, False, reason)

    def write(self, done: list[tuple[PendingPhoto, DecodedPhoto]]) -> None:
        with self.db.connection() as conn:
            for photo, decoded in done:
                if not decoded.ok:
                    self.failures.append((photo, decoded.reason or "unknown error"))
                if not store_decoded(conn, photo, decoded):
                    continue
                faces = decoded.faces if isinstance(decoded, FaceDecoded) else []
                replace_faces(conn, photo.id, faces, self.model_name)
                face_rows.mark_indexed(conn, photo.id)
                self.faces_written += len(faces)
