"""The perceptual-hash stage: a 256-bit DCT hash and the duplicate finder's signature per photo,
computed on CPU workers.

`imagehash.phash(hash_size=16)` of the oriented image (EXIF orientation applied, the user's
rotation not: it is a display setting), and `signatures.compute` of the same decode, plus the
JPEG quality estimated from the file's quantisation tables (the keeper rule). Photos still
missing them are decoded in batches on the decode workers, only the results come back, and each
batch is written in one transaction; a stopped run resumes from `phash_indexed = FALSE`. A file
that cannot be decoded is marked tried (`phash_indexed`, hash NULL) so it is not retried forever.
Comparing the new signatures with the others is the next step (`comparer`), run by the library
after this stage.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from engine.db import phash as phash_rows
from engine.db.database import Database
from engine.db.photos import PendingPhoto
from engine.library.signatures import VERSION as SIGNATURE_VERSION
from engine.runtime.stage import Stage, paged

DECODE_MIN_SIDE = 256
"""phash works on a 64x64 downscale; decoding at >= 256 px (DCT-scaled JPEG, RAW preview) is plenty."""


@dataclass(frozen=True)
class PhashResult:
    photo_id: int
    bits: str | None
    """256 characters of 0/1 (row-major hash matrix), or None when the file could not be decoded."""
    error: str | None = None
    signature: bytes | None = None
    jpeg_quality: int | None = None

    @property
    def ok(self) -> bool:
        return self.bits is not None


@dataclass(frozen=True)
class PhashReport:
    hashed: int
    failed: int
    seconds: float
    cancelled: bool = False


def file_jpeg_quality(path: Path | BinaryIO) -> int | None:
    """The estimated quality of a JPEG file (its header only), None for other files."""
    from PIL import Image

    from engine.library.keeper import jpeg_quality

    with Image.open(path) as im:
        return jpeg_quality(getattr(im, "quantization", None)) if im.format == "JPEG" else None


def phash_batch(photos: list[PendingPhoto], root: Path, max_pixels: int) -> list[PhashResult]:
    """Runs on a decode worker: read, decode small, hash and sign. One bad file never fails the batch."""
    from engine.library import signatures
    from engine.library.paths import read_inside
    from engine.media.decode import DecodeError, load_image

    out = []
    for photo in photos:
        try:
            data = read_inside(root, photo.path)  # no symbolic link below the root
            image = load_image(data, photo.format, min_side=DECODE_MIN_SIDE, max_pixels=max_pixels)
            sig = signatures.compute(image)
            quality = file_jpeg_quality(io.BytesIO(data)) if photo.format == "jpg" else None
            out.append(PhashResult(photo.id, sig.phash, signature=signatures.encode(sig), jpeg_quality=quality))
        except (DecodeError, OSError) as exc:
            out.append(PhashResult(photo.id, None, str(exc)))
        except Exception as exc:  # a hostile file must not fail its batch
            out.append(PhashResult(photo.id, None, f"{type(exc).__name__}: {exc}"))
    return out


class PhashStage(Stage[PendingPhoto, PhashResult]):
    name = "phash"

    def __init__(self, db: Database, root: Path, *, max_pixels: int, batch_size: int) -> None:
        self.db = db
        self.decode = partial(phash_batch, root=root, max_pixels=max_pixels)
        self.decode_batch = batch_size
        with db.connection() as conn:
            phash_rows.reset_old_signatures(conn, SIGNATURE_VERSION)

    def count(self) -> int:
        with self.db.connection() as conn:
            return phash_rows.count_pending(conn)

    def pending(self) -> Iterable[Sequence[PendingPhoto]]:
        return paged(self.db, lambda conn, after: phash_rows.pending(conn, after))

    def failure(self, item: PendingPhoto, reason: str) -> PhashResult:
        return PhashResult(item.id, None, reason)

    def write(self, done: list[tuple[PendingPhoto, PhashResult]]) -> None:
        with self.db.connection() as conn:
            for photo, result in done:
                phash_rows.store(conn, photo, result.bits, result.signature, result.jpeg_quality)
