"""What the duplicate finder keeps of a photo: a small versioned signature, computed once per file.

From the photo as displayed (EXIF orientation applied, the user's rotation not), decoded small:
- `coefficients`: the 16x16 low-frequency block of the DCT of a 64x64 grey copy, exactly as
  `imagehash.phash(hash_size=16)` computes it, so `phash` (its signs against the median) is the
  library's 256-bit pHash. A DCT coefficient of the image turned or mirrored is the same
  coefficient with its sign flipped and/or transposed, so the hashes of all eight rotations and
  mirrors come from these numbers without the pixels (`dihedral`).
- `thumb`: a 32x32 grey copy: pixel-level checks (correlation
  after turning or cropping) and the search vectors of the crop finder.
- `colour`: mean chroma (Cb, Cr) of a 3x3 grid, a colour check the grey signals cannot make.
- `detail`: standard deviation of `thumb`; a nearly flat picture has no reliable hash.

`encode`/`decode` pack it into ~1.6 KB of bytes with a version byte; a new version makes the
stage compute signatures again. Everything here is pure (no database, no files).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image

from engine.i18n import N_

VERSION = 1
HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE
GREY_SIDE = HASH_SIZE * 4
THUMB_SIDE = 32
_SCALE = 1.0 / 16384.0
"""Coefficients are stored as float16 divided by this: the DC term of a white 64x64 picture is 16384 * 255."""
FLAT_DETAIL = 6.0
"""`detail` below which a picture counts as nearly flat (a black frame, a grey sky): no reliable hash."""
_HEADER = struct.Struct("<BBB")
_FREQ = np.arange(HASH_SIZE)

TRANSFORMS: tuple[str, ...] = (
    "", N_("mirrored"), N_("rotated 90°"), N_("rotated 90° and mirrored"),
    N_("rotated 180°"), N_("flipped upside down"), N_("rotated 270°"), N_("rotated 270° and mirrored"),
)
"""What turns the first picture into the second, by dihedral index (see `dihedral`)."""


@dataclass(frozen=True)
class Signature:
    coefficients: np.ndarray
    """(16, 16) float32: low-frequency DCT block of the 64x64 grey copy (imagehash's scale)."""
    thumb: np.ndarray
    """(32, 32) uint8 grey copy."""
    colour: np.ndarray
    """(3, 3, 2) int8: mean Cb, Cr - 128 per cell."""

    @property
    def detail(self) -> float:
        return float(self.thumb.std())

    @cached_property
    def hashes(self) -> np.ndarray:
        """(8, 256) bool: `all_hashes`, kept with the signature (a photo is measured against each of its candidates)."""
        return all_hashes(self.coefficients)

    @property
    def phash(self) -> str:
        """The 256-bit pHash (identity orientation) as 0/1 characters, row-major."""
        return "".join("1" if b else "0" for b in hash_bits(self.coefficients))


def compute(image: Image.Image) -> Signature:
    """The signature of a decoded picture (any mode; small is fine: 256 px is plenty)."""
    from scipy.fftpack import dct

    luma = image.convert("L")
    grey = np.asarray(luma.resize((GREY_SIDE, GREY_SIDE), Image.Resampling.LANCZOS), np.float64)
    coefficients = dct(dct(grey, axis=0), axis=1)[:HASH_SIZE, :HASH_SIZE]
    thumb = np.asarray(luma.resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS), np.uint8)
    chroma = np.asarray(image.convert("RGB").resize((3, 3), Image.Resampling.BOX).convert("YCbCr"), np.int16)[..., 1:]
    return Signature(coefficients.astype(np.float32), thumb, (chroma - 128).astype(np.int8))


def encode(sig: Signature) -> bytes:
    head = _HEADER.pack(VERSION, HASH_SIZE, THUMB_SIDE)
    coefficients = np.clip(sig.coefficients * _SCALE, -65000, 65000).astype("<f2")
    return head + coefficients.tobytes() + sig.thumb.astype(np.uint8).tobytes() + sig.colour.astype(np.int8).tobytes()


def decode(blob: bytes) -> Signature | None:
    """The signature in `blob`, or None when it is of another version (compute it again)."""
    if blob is None or len(blob) < _HEADER.size:
        return None
    version, hash_size, thumb_side = _HEADER.unpack_from(blob)
    if version != VERSION or hash_size != HASH_SIZE or thumb_side != THUMB_SIDE:
        return None
    at = _HEADER.size
    n = HASH_SIZE * HASH_SIZE
    coefficients = np.frombuffer(blob, "<f2", n, at).astype(np.float32).reshape(HASH_SIZE, HASH_SIZE) / _SCALE
    at += 2 * n
    thumb = np.frombuffer(blob, np.uint8, THUMB_SIDE * THUMB_SIDE, at).reshape(THUMB_SIDE, THUMB_SIDE)
    at += THUMB_SIDE * THUMB_SIDE
    colour = np.frombuffer(blob, np.int8, 18, at).reshape(3, 3, 2)
    return Signature(coefficients, thumb, colour)


def hash_bits(coefficients: np.ndarray) -> np.ndarray:
    """pHash: each coefficient above the block's median (imagehash's rule), flattened row-major."""
    return (coefficients > np.median(coefficients)).ravel()


def dihedral(coefficients: np.ndarray, k: int) -> np.ndarray:
    """DCT block of the picture under dihedral transform k: bit 0 mirrors left-right, bit 1
    flips upside down, bit 2 transposes; k in 0..7 maps to `TRANSFORMS`.

    Mirroring negates the coefficients of odd horizontal frequency, flipping those of odd vertical
    frequency, transposing swaps the axes (90° clockwise = transpose, then mirror)."""
    c = coefficients.T if k & 4 else coefficients
    if k & 1:
        c = c * np.where(_FREQ % 2, -1.0, 1.0)[None, : c.shape[1]]
    if k & 2:
        c = c * np.where(_FREQ % 2, -1.0, 1.0)[: c.shape[0], None]
    return c


DIHEDRAL_ORDER: tuple[int, ...] = (0, 1, 5, 4, 3, 2, 6, 7)
"""`dihedral` index for each entry of `TRANSFORMS`: identity, mirror, rot90 (= transpose+mirror),
rot90+mirror (= transpose), rot180 (= mirror+flip), flip, rot270 (= transpose+flip), rot270+mirror."""


def all_hashes(coefficients: np.ndarray) -> np.ndarray:
    """(8, 256) bool: the pHash of the picture under each transform of `TRANSFORMS`."""
    return np.stack([hash_bits(dihedral(coefficients, k)) for k in DIHEDRAL_ORDER])


def turn_thumb(thumb: np.ndarray, transform: int) -> np.ndarray:
    """The 32x32 grey copy under `TRANSFORMS[transform]` (pixels, for correlation checks)."""
    k = DIHEDRAL_ORDER[transform]
    t = thumb.T if k & 4 else thumb
    if k & 1:
        t = t[:, ::-1]
    if k & 2:
        t = t[::-1, :]
    return np.ascontiguousarray(t)

