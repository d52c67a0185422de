"""The content identity of a file: blake2b-128 of its bytes, as 32 hex digits."""
from __future__ import annotations

import hashlib
from pathlib import Path

from engine.library.paths import open_inside

_CHUNK = 1 << 20


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_hash(path: Path, *, root: Path | None = None) -> str:
    """`content_hash` of a file's bytes, read in chunks; with `root`, the file is opened with no
    symbolic link below it."""
    digest = hashlib.blake2b(digest_size=16)
    with open_inside(root, path) if root is not None else open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()
