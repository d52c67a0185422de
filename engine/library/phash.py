"""The perceptual-hash stage: a 256-bit DCT hash per photo, computed on CPU workers.

`imagehash.phash(hash_size=16)` of the oriented image (EXIF orientation applied, the user's
rotation not: it is a display setting). Photos still missing the hash are decoded in batches
on the decode workers, only the hashes come back, and each batch is written in one transaction;
a stopped run resumes from `phash_indexed = FALSE`. A file that cannot be decoded is marked
tried (`phash_indexed`, hash NULL) so it is not retried forever.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from engine.db import phash as phash_rows
from engine.db.database import Database
from engine.db.photos import PendingPhoto
from engine.runtime.stage import Stage, paged

HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE
DECODE_MIN_SIDE = 256
"""phash works on a 64x64 downscale; decoding at >= 256 px (DCT-scaled JPEG, RAW preview) is plenty."""


@dataclass(frozen=True)
class PhashResult:
    photo_id: int
    bits: str | None
    """256 characters of 0/1 (row-major hash matrix), or None when the file could not be decoded."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.bits is not None


@dataclass(frozen=True)
class PhashReport:
    hashed: int
    failed: int
    seconds: float
    cancelled: bool = False


def phash_bits(image) -> str:
    """The 256-bit perceptual hash of a PIL image as a 0/1 string."""
    import imagehash

    return "".join("1" if b else "0" for b in imagehash.phash(image, hash_size=HASH_SIZE).hash.flatten())


def bits_to_hex(bits: str | None) -> str | None:
    return None if bits is None else f"{int(bits, 2):0{HASH_BITS // 4}x}"


def hamming(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b))


def phash_batch(photos: list[PendingPhoto], root: Path, max_pixels: int) -> list[PhashResult]:
    """Runs on a decode worker: read, decode small, hash. One bad file never fails the batch."""
    from engine.library.paths import read_inside
    from engine.media.decode import DecodeError, load_image

    out = []
    for photo in photos:
        try:
            data = read_inside(root, photo.path)  # no symbolic link below the root
            image = load_image(data, photo.format, min_side=DECODE_MIN_SIDE, max_pixels=max_pixels)
            out.append(PhashResult(photo.id, phash_bits(image)))
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
                phash_rows.store(conn, photo, result.bits)
