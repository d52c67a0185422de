"""Which files the library scan picks up, and the format names stored in the index."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

RAW_FORMATS: frozenset[str] = frozenset({"nef", "cr2", "arw", "dng", "raf", "orf", "rw2"})

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".png": "png",
    ".webp": "webp",
    ".bmp": "bmp",
    ".heic": "heic",
    ".heif": "heic",
    ".hif": "heic",
    **{f".{raw}": raw for raw in sorted(RAW_FORMATS)},
}

FORMAT_GROUPS: dict[str, frozenset[str]] = {
    "JPG": frozenset({"jpg"}),
    "PNG": frozenset({"png"}),
    "WEBP": frozenset({"webp"}),
    "BMP": frozenset({"bmp"}),
    "HEIC": frozenset({"heic"}),
    "RAW": RAW_FORMATS,
}

_ALIASES: dict[str, str] = {"JPEG": "JPG", "HEIF": "HEIC", "HIF": "HEIC"}

STORED_FORMATS: frozenset[str] = frozenset(SUPPORTED_EXTENSIONS.values())


def format_of(path: str | Path) -> str | None:
    """Stored format name for a file path, or None when the extension is not supported."""
    return SUPPORTED_EXTENSIONS.get(Path(path).suffix.lower())


def expand_format_filter(names: Iterable[str]) -> set[str]:
    """UI filter values ("RAW", "jpg", ".NEF", "jpeg") -> stored format names; unknown names are ignored."""
    result: set[str] = set()
    for name in names:
        key = name.strip().lstrip(".")
        if not key:
            continue
        group = _ALIASES.get(key.upper(), key.upper())
        if group in FORMAT_GROUPS:
            result |= FORMAT_GROUPS[group]
        elif f".{key.lower()}" in SUPPORTED_EXTENSIONS:
            result.add(SUPPORTED_EXTENSIONS[f".{key.lower()}"])
    return result
