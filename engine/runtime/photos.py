"""The photo-file step of the stages that read photos (image-text indexing, faces).

`decode_photo` runs on a decode worker: read the file once, hash its bytes, decode it, read its
metadata, then let the stage turn the image into what its model eats. A failure of one file
comes back as a result with its reason, never as an exception. `store_decoded` is the write
half every such stage starts with.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import psycopg
from PIL import Image

from engine.db import photos as photo_rows
from engine.db.photos import PendingPhoto
from engine.library.paths import read_inside
from engine.media.decode import DecodeError, load_image
from engine.media.exif import PhotoMetadata, read_metadata
from engine.runtime.hashing import content_hash


@dataclass
class DecodedPhoto:
    photo_id: int
    ok: bool
    reason: str | None = None
    content_hash: str | None = None
    metadata: PhotoMetadata | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    """What the model step consumes; dropped before results travel back."""
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


D = TypeVar("D", bound=DecodedPhoto)


def decode_photo(photo: PendingPhoto, root: Path, min_side: int, max_pixels: int,
                 prepare: Callable[[DecodedPhoto, Image.Image], D]) -> D | DecodedPhoto:
    """`prepare(decoded, image)` of the photo's file under `root` (opened with no symbolic link below
    the root: a link swapped in after the scan is refused), or a failed `DecodedPhoto`."""
    try:
        data = read_inside(root, photo.path)
    except OSError as exc:
        return DecodedPhoto(photo.id, False, f"unreadable: {exc.strerror or exc}")
    digest = content_hash(data)
    try:
        image = load_image(data, photo.format, min_side=min_side, max_pixels=max_pixels)
        metadata = read_metadata(data, photo.format, image)
        return prepare(DecodedPhoto(photo.id, True, None, digest, metadata), image)
    except DecodeError as exc:
        return DecodedPhoto(photo.id, False, str(exc), digest)
    except Exception as exc:  # one hostile file must not fail its batch
        return DecodedPhoto(photo.id, False, f"{type(exc).__name__}: {exc}", digest)


def store_decoded(conn: psycopg.Connection, photo: PendingPhoto, decoded: DecodedPhoto) -> bool:
    """Flag a failed file, or store what decoding learned; True when the stage may store its own
    results (False: failed, or the file changed while it was read, and the next scan resets it)."""
    if not decoded.ok:
        photo_rows.mark_failed(conn, photo.id, decoded.reason or "unknown error", photo.size, photo.mtime)
        return False
    assert decoded.content_hash is not None and decoded.metadata is not None
    return photo_rows.apply_update(conn, photo, decoded.content_hash, decoded.metadata)
