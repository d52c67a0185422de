"""Which files the library scan picks up, the format names stored in the index, and the image or
video files it lists as unsupported (with the reason) instead of skipping them silently."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

RAW_FORMATS: frozenset[str] = frozenset({
    "nef", "nrw", "cr2", "cr3", "crw", "arw", "sr2", "srf", "dng", "raf", "orf", "rw2", "rwl", "pef", "srw",
    "kdc", "dcr", "mrw", "x3f", "iiq", "3fr", "erf", "mef", "mos", "raw",
})
"""Camera RAW files, decoded by LibRaw (rawpy): the embedded preview first, a demosaic otherwise."""

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".jpe": "jpg",
    ".mpo": "jpg",
    ".jps": "jpg",
    ".png": "png",
    ".webp": "webp",
    ".bmp": "bmp",
    ".heic": "heic",
    ".heif": "heic",
    ".hif": "heic",
    ".avif": "avif",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".gif": "gif",
    ".jxl": "jxl",
    **{f".{raw}": raw for raw in sorted(RAW_FORMATS)},
}

FORMAT_GROUPS: dict[str, frozenset[str]] = {
    "JPG": frozenset({"jpg"}),
    "PNG": frozenset({"png"}),
    "WEBP": frozenset({"webp"}),
    "BMP": frozenset({"bmp"}),
    "HEIC": frozenset({"heic"}),
    "AVIF": frozenset({"avif"}),
    "TIFF": frozenset({"tiff"}),
    "GIF": frozenset({"gif"}),
    "JXL": frozenset({"jxl"}),
    "RAW": RAW_FORMATS,
}

_ALIASES: dict[str, str] = {"JPEG": "JPG", "HEIF": "HEIC", "HIF": "HEIC", "TIF": "TIFF", "JPEGXL": "JXL"}

STORED_FORMATS: frozenset[str] = frozenset(SUPPORTED_EXTENSIONS.values())

_VIDEO = "video: not indexed (only photos are)"
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    **{f".{e}": _VIDEO for e in ("mov", "mp4", "m4v", "avi", "mts", "m2ts", "3gp", "mkv", "wmv", "mpg", "mpeg",
                                  "webm", "flv")},
    ".psd": "Photoshop document: not decoded", ".psb": "Photoshop document: not decoded",
    ".xcf": "GIMP document: not decoded", ".kra": "Krita document: not decoded",
    ".svg": "vector drawing: not decoded", ".eps": "PostScript: not decoded",
    ".jp2": "JPEG 2000: not decoded", ".j2k": "JPEG 2000: not decoded", ".jpx": "JPEG 2000: not decoded",
    ".jxr": "JPEG XR: not decoded", ".wdp": "JPEG XR: not decoded", ".hdp": "JPEG XR: not decoded",
    ".exr": "OpenEXR (HDR): not decoded", ".hdr": "Radiance HDR: not decoded",
    ".bpg": "BPG: not decoded", ".flif": "FLIF: not decoded", ".dcm": "DICOM: not decoded",
    ".ico": "icon: not decoded", ".pcx": "PCX: not decoded", ".tga": "TGA: not decoded",
    ".ppm": "Netpbm: not decoded", ".pgm": "Netpbm: not decoded", ".pbm": "Netpbm: not decoded",
}


def format_of(path: str | Path) -> str | None:
    """Stored format name for a file path, or None when the extension is not supported."""
    return SUPPORTED_EXTENSIONS.get(Path(path).suffix.lower())


def unsupported_reason(path: str | Path) -> str | None:
    """Why a picture or video file is not indexed, or None for a file that is no picture at all."""
    return UNSUPPORTED_EXTENSIONS.get(Path(path).suffix.lower())


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
