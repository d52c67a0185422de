"""Photo metadata: displayed size, date taken, camera, lens, GPS and a small JSON-safe EXIF dict.

`read_metadata` never raises: whatever cannot be read is left as None.
"""
from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import rawpy
from PIL import ExifTags, Image

from engine.media.decode import (
    PILLOW_FORMATS,
    Source,
    open_raw,
    orientation_for_flip,
    read_head,
    sniff,
)
from engine.media.formats import RAW_FORMATS

RAW_METADATA_BYTES = 4 * 1024 * 1024

_IFD_EXIF = int(ExifTags.IFD.Exif)
_IFD_GPS = int(ExifTags.IFD.GPSInfo)
_SKIPPED_TAGS = {
    0x927C,  # MakerNote
    0x02BC,  # XMP packet
    0x83BB,  # IPTC
    0x8773,  # ICC profile
    0xC4A5,  # PrintImageMatching
    0x0201, 0x0202,  # embedded thumbnail offset/length
    0x0111, 0x0117, 0x0144, 0x0145,  # strip/tile offsets and byte counts
    0x014A,  # SubIFDs
    0x8769, 0x8825, 0xA005,  # IFD pointers
    0xC634,  # DNGPrivateData
    0x8649,  # Photoshop resources
    0x935C,  # ImageSourceData
    0xEA1C,  # Padding
    0x00FE, 0x00FF, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0115, 0x0116, 0x011C,  # TIFF raster layout
    0x0211, 0x0212, 0x0213, 0x0214,  # YCbCr layout
}
_DNG_TAGS = range(0xC612, 0xCE00)
_MAX_STR = 256
_MAX_SEQ = 16
_CORPORATE_SUFFIX = re.compile(
    r"[\s,]+(corporation|corp\.?|company|co\.?,?\s*ltd\.?|ltd\.?|inc\.?|gmbh|ag|"
    r"co\.?|ab|imaging|optical|electric|electronics|computer|systems|digital solutions|camera)$",
    re.IGNORECASE,
)
_DATETIME = re.compile(r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")
_OFFSET = re.compile(r"^\s*([+-])(\d{1,2}):?(\d{2})\s*$")


@dataclass
class PhotoMetadata:
    width: int | None
    height: int | None
    format: str
    taken_at: datetime | None = None
    camera: str | None = None
    lens: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    orientation: int = 1
    exif_data: dict[str, Any] = field(default_factory=dict)


def _flatten(exif: Image.Exif) -> dict[int | str, Any]:
    """IFD0 + Exif IFD keyed by tag id, GPS IFD keyed by "GPS:<id>" (GPS ids overlap the base ones)."""
    tags: dict[int | str, Any] = dict(exif.items())
    try:
        tags.update({k: v for k, v in exif.get_ifd(_IFD_EXIF).items() if k not in tags})
    except Exception:  # noqa: BLE001 - a broken sub-IFD leaves the rest usable
        pass
    try:
        tags.update({f"GPS:{k}": v for k, v in exif.get_ifd(_IFD_GPS).items()})
    except Exception:  # noqa: BLE001
        pass
    return tags


def _exif_from_bytes(data: bytes) -> dict[int | str, Any]:
    exif = Image.Exif()
    exif.load(data)
    return _flatten(exif)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value is None:
        return None
    text = str(value).replace("\x00", " ").strip()
    return text or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def parse_exif_datetime(value: Any, offset: Any = None, subsec: Any = None) -> datetime | None:
    text = _text(value)
    match = _DATETIME.match(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    if year < 1800:
        return None
    try:
        result = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    digits = re.sub(r"\D", "", _text(subsec) or "")[:6]
    if digits:
        result = result.replace(microsecond=int(digits.ljust(6, "0")))
    offset_match = _OFFSET.match(_text(offset) or "")
    if offset_match:
        sign, hours, minutes = offset_match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta < timedelta(hours=15):
            result = result.replace(tzinfo=timezone(-delta if sign == "-" else delta))
    return result


def _taken_at(tags: dict[int | str, Any]) -> datetime | None:
    for stamp, offset, subsec in ((0x9003, 0x9011, 0x9291), (0x9004, 0x9012, 0x9292), (0x0132, 0x9010, 0x9290)):
        if stamp in tags:
            parsed = parse_exif_datetime(tags[stamp], tags.get(offset), tags.get(subsec))
            if parsed is not None:
                return parsed
    return None


def camera_name(make: Any, model: Any) -> str | None:
    make_text, model_text = _text(make), _text(model)
    if not model_text:
        return make_text
    if not make_text:
        return model_text
    short = make_text
    while (stripped := _CORPORATE_SUFFIX.sub("", short).strip(" ,")) and stripped != short:
        short = stripped
    make_words = {w.lower() for w in re.split(r"[\s,]+", f"{make_text} {short}") if w}
    first = model_text.split()[0].lower()
    if first in make_words or model_text.lower().startswith(short.lower()):
        return model_text
    return f"{short} {model_text}"


def _dms(value: Any) -> float | None:
    if isinstance(value, (tuple, list)):
        parts = [_number(v) for v in value[:3]]
        if not parts or any(p is None for p in parts):
            return None
        degrees = 0.0
        for part, scale in zip(parts, (1.0, 60.0, 3600.0)):
            degrees += part / scale  # type: ignore[operator]
        return degrees
    return _number(value)


def _gps(tags: dict[int | str, Any]) -> tuple[float | None, float | None, float | None]:
    lat, lon = _dms(tags.get("GPS:2")), _dms(tags.get("GPS:4"))
    if lat is not None and (_text(tags.get("GPS:1")) or "").upper().startswith("S"):
        lat = -abs(lat)
    if lon is not None and (_text(tags.get("GPS:3")) or "").upper().startswith("W"):
        lon = -abs(lon)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        lat = lon = None
    altitude = _number(tags.get("GPS:6"))
    ref = tags.get("GPS:5")
    if altitude is not None and (ref in (1, b"\x01") or _text(ref) == "1"):
        altitude = -altitude
    return (
        round(lat, 7) if lat is not None else None,
        round(lon, 7) if lon is not None else None,
        round(altitude, 2) if altitude is not None else None,
    )


def _json_value(tag: int | str, value: Any) -> Any:
    if isinstance(value, bytes):
        if tag == 0x9286:  # UserComment: 8-byte charset prefix
            return _text(value[8:].decode("utf-8", "ignore"))
        if len(value) <= _MAX_SEQ:
            if value.isascii() and value.decode("ascii").isprintable():
                return value.decode("ascii").strip() or None
            return value.hex()
        return None
    if isinstance(value, str):
        text = _text(value)
        return text[:_MAX_STR] if text else None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)):
        if not value or len(value) > _MAX_SEQ:
            return None
        items = [_json_value(tag, v) for v in value]
        return None if any(v is None for v in items) else items
    number = _number(value)
    if number is not None:
        return int(number) if number.is_integer() and abs(number) < 2**53 else round(number, 6)
    return None


def _tag_name(tag: int | str) -> str | None:
    if isinstance(tag, str):
        return ExifTags.GPSTAGS.get(int(tag.split(":", 1)[1]))
    return ExifTags.TAGS.get(tag)


def exif_to_json(tags: dict[int | str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for tag, value in tags.items():
        if tag in _SKIPPED_TAGS or (isinstance(tag, int) and tag in _DNG_TAGS):
            continue
        name = _tag_name(tag)
        if not name:
            continue
        converted = _json_value(tag, value)
        if converted is not None and converted != "":
            result[name] = converted
    return result


def _pillow_metadata(source: Source, kind: str, meta: PhotoMetadata) -> dict[int | str, Any]:
    fp = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
    with Image.open(fp, formats=PILLOW_FORMATS[kind]) as im:
        width, height = im.size
        tags: dict[int | str, Any] = {}
        if im.format != "PNG" or "exif" in im.info:
            tags = _safe(lambda: _flatten(im.getexif())) or {}
        if im.format in ("HEIF", "AVIF"):
            orientation = int(im.info.get("original_orientation") or 1)
        else:
            orientation = tags.get(0x0112, 1)
            orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
            if orientation >= 5:
                width, height = height, width
    meta.width, meta.height, meta.orientation = width, height, orientation
    return tags


def _tiff_tags(head: bytes) -> dict[int | str, Any]:
    magic = head[:4]
    if magic in (b"IIRO", b"IIRS", b"IIU\x00"):
        head = b"II*\x00" + head[4:]
    elif magic == b"MMOR":
        head = b"MM\x00*" + head[4:]
    return _exif_from_bytes(head)


def _raw_metadata(source: Source, kind: str | None, meta: PhotoMetadata) -> dict[int | str, Any]:
    tags: dict[int | str, Any] = {}
    if kind in ("tiff", "orf", "rw2"):
        try:
            tags = _tiff_tags(read_head(source, RAW_METADATA_BYTES))
        except Exception:  # noqa: BLE001 - fall back to the preview's EXIF
            tags = {}
    try:
        with open_raw(source) as raw:
            sizes = raw.sizes
            width, height = sizes.width or sizes.raw_width, sizes.height or sizes.raw_height
            orientation = orientation_for_flip(sizes.flip)
            if orientation >= 5:
                width, height = height, width
            meta.width, meta.height, meta.orientation = width, height, orientation
            if not (0x010F in tags and (0x9003 in tags or 0x0132 in tags)):
                for key, value in _raw_preview_tags(raw).items():
                    tags.setdefault(key, value)
    except Exception:  # noqa: BLE001 - libraw may not know the camera; the TIFF tags still count
        orientation = tags.get(0x0112, 1)
        meta.orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    return tags


def _raw_preview_tags(raw: rawpy.RawPy) -> dict[int | str, Any]:
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, ValueError, RuntimeError):
        return {}
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return {}
    with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as im:
        return _flatten(im.getexif())


def read_metadata(source: Source, fmt: str, image: Image.Image | None = None) -> PhotoMetadata:
    """Metadata of a photo; `image` (the decoded photo) only fills the size when the header can't."""
    fmt = fmt.lower().lstrip(".")
    meta = PhotoMetadata(width=None, height=None, format=fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about odd-but-harmless tag counts in camera files
        tags = _safe(_read_tags, source, fmt, meta) or {}
        if tags:
            meta.taken_at = _safe(_taken_at, tags)
            meta.camera = _safe(camera_name, tags.get(0x010F), tags.get(0x0110))
            meta.lens = _safe(lambda: (_text(tags.get(0xA434)) or "")[:_MAX_STR] or None)
            meta.latitude, meta.longitude, meta.altitude = _safe(_gps, tags) or (None, None, None)
            meta.exif_data = _safe(exif_to_json, tags) or {}
    if meta.width is None and image is not None:
        meta.width, meta.height = image.size
    return meta


def _read_tags(source: Source, fmt: str, meta: PhotoMetadata) -> dict[int | str, Any]:
    kind = sniff(read_head(source))
    if kind in PILLOW_FORMATS:
        return _pillow_metadata(source, kind, meta)
    if fmt in RAW_FORMATS:
        return _raw_metadata(source, kind, meta)
    return {}


def _safe(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - metadata is best effort by design
        return None
