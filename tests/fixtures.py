"""Synthetic photo files for tests: every supported format, EXIF/GPS/orientation, and hostile files.

Images are drawn as they should be *displayed*: `size` is the displayed size and the top-left
quadrant is `marker` (red), so after correct orientation handling the decoder must return red
at the top-left whatever the stored orientation.
"""
from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
import tifffile
from PIL import ExifTags, Image, TiffImagePlugin

pillow_heif.register_heif_opener()

RGB = tuple[int, int, int]
RED: RGB = (220, 30, 30)
GREEN: RGB = (30, 180, 60)
BLUE: RGB = (30, 60, 220)
WHITE: RGB = (235, 235, 235)

# Stored pixels for an orientation: the inverse of what a viewer applies to display them.
_STORE_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
_TAG_IDS = {name: tag for tag, name in ExifTags.TAGS.items()}


def draw_quadrants(size: tuple[int, int], color: RGB = BLUE, marker: RGB | None = RED) -> Image.Image:
    """`color` background with a gradient band, the top-left quadrant filled with `marker`."""
    width, height = size
    base = np.empty((height, width, 3), np.uint8)
    base[:] = color
    ramp = np.linspace(-25, 25, width, dtype=np.float32)[None, :, None]
    base = np.clip(base.astype(np.float32) + ramp, 0, 255).astype(np.uint8)
    if marker is not None:
        base[: height // 2, : width // 2] = marker
    base[height // 2 :, width // 2 :] = WHITE
    return Image.fromarray(base, "RGB")


def stored_for(displayed: Image.Image, orientation: int | None) -> Image.Image:
    method = _STORE_TRANSPOSE.get(orientation or 1)
    return displayed.transpose(method) if method is not None else displayed


def _rational(value: float, den: int = 10_000) -> TiffImagePlugin.IFDRational:
    fraction = Fraction(round(abs(value) * den), den)
    return TiffImagePlugin.IFDRational(fraction.numerator, fraction.denominator)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = (minutes_full - minutes) * 60
    return (_rational(degrees, 1), _rational(minutes, 1), _rational(seconds))


def build_exif(
    *,
    exif: dict[int | str, Any] | None = None,
    orientation: int | None = None,
    gps: tuple[float, ...] | None = None,
    taken_at: datetime | None = None,
    make: str | None = None,
    model: str | None = None,
    lens: str | None = None,
) -> Image.Exif:
    """EXIF with IFD0, Exif IFD (0x8769) and GPS IFD (0x8825). `exif` keys: tag ids or names."""
    result = Image.Exif()
    sub = result.get_ifd(ExifTags.IFD.Exif)
    if make:
        result[ExifTags.Base.Make] = make
    if model:
        result[ExifTags.Base.Model] = model
    if orientation:
        result[ExifTags.Base.Orientation] = orientation
    if lens:
        sub[ExifTags.Base.LensModel] = lens
    if taken_at is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        offset = taken_at.utcoffset()
        if offset is not None:
            minutes = int(offset.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            sub[ExifTags.Base.OffsetTimeOriginal] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    for key, value in (exif or {}).items():
        tag = _TAG_IDS[key] if isinstance(key, str) else key
        (result if tag < 0x8000 or tag == 0x8298 else sub)[tag] = value
    if gps is not None:
        info = result.get_ifd(ExifTags.IFD.GPSInfo)
        lat, lon = gps[0], gps[1]
        info[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        info[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        info[ExifTags.GPS.GPSLatitude] = _dms(lat)
        info[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        info[ExifTags.GPS.GPSLongitude] = _dms(lon)
        if len(gps) > 2:
            info[ExifTags.GPS.GPSAltitudeRef] = b"\x01" if gps[2] < 0 else b"\x00"
            info[ExifTags.GPS.GPSAltitude] = _rational(gps[2], 100)
    return result


def _prepare(path: Path | str, size: tuple[int, int], color: RGB, marker: RGB | None, orientation: int | None) -> tuple[Path, Image.Image]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, stored_for(draw_quadrants(size, color, marker), orientation)


def make_jpeg(
    path: Path | str,
    size: tuple[int, int] = (640, 480),
    color: RGB = BLUE,
    *,
    exif: dict[int | str, Any] | None = None,
    orientation: int | None = None,
    gps: tuple[float, ...] | None = None,
    taken_at: datetime | None = None,
    make: str | None = None,
    model: str | None = None,
    lens: str | None = None,
    marker: RGB | None = RED,
    quality: int = 90,
) -> Path:
    path, image = _prepare(path, size, color, marker, orientation)
    meta = build_exif(exif=exif, orientation=orientation, gps=gps, taken_at=taken_at, make=make, model=model, lens=lens)
    image.save(path, "JPEG", quality=quality, exif=meta.tobytes())
    return path


def make_png(
    path: Path | str,
    size: tuple[int, int] = (320, 240),
    color: RGB = GREEN,
    *,
    mode: str = "RGB",
    exif: dict[int | str, Any] | None = None,
    taken_at: datetime | None = None,
    marker: RGB | None = RED,
) -> Path:
    """`mode`: RGB, RGBA (half-transparent right side), L, I;16 (16-bit grey), P (palette)."""
    path, image = _prepare(path, size, color, marker, None)
    if mode == "RGBA":
        image = image.convert("RGBA")
        alpha = np.full((size[1], size[0]), 255, np.uint8)
        alpha[:, size[0] // 2 :] = 0
        image.putalpha(Image.fromarray(alpha, "L"))
    elif mode == "I;16":
        grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(grey)
    elif mode == "P":
        image = image.quantize(16)
    elif mode != "RGB":
        image = image.convert(mode)
    kwargs: dict[str, Any] = {}
    if exif or taken_at:
        kwargs["exif"] = build_exif(exif=exif, taken_at=taken_at).tobytes()
    image.save(path, "PNG", **kwargs)
    return path


def make_webp(
    path: Path | str,
    size: tuple[int, int] = (400, 300),
    color: RGB = (200, 160, 40),
    *,
    exif: dict[int | str, Any] | None = None,
    taken_at: datetime | None = None,
    orientation: int | None = None,
    marker: RGB | None = RED,
) -> Path:
    path, image = _prepare(path, size, color, marker, orientation)
    meta = build_exif(exif=exif, taken_at=taken_at, orientation=orientation)
    image.save(path, "WEBP", quality=90, exif=meta.tobytes())
    return path


def make_bmp(path: Path | str, size: tuple[int, int] = (300, 200), color: RGB = (120, 40, 160), *, marker: RGB | None = RED) -> Path:
    path, image = _prepare(path, size, color, marker, None)
    image.save(path, "BMP")
    return path


def make_heic(
    path: Path | str,
    size: tuple[int, int] = (480, 360),
    color: RGB = (40, 170, 170),
    *,
    exif: dict[int | str, Any] | None = None,
    orientation: int | None = None,
    gps: tuple[float, ...] | None = None,
    taken_at: datetime | None = None,
    make: str | None = None,
    model: str | None = None,
    lens: str | None = None,
    marker: RGB | None = RED,
) -> Path:
    """pillow-heif turns an EXIF orientation into HEIF irot/imir boxes, as phones do."""
    path, image = _prepare(path, size, color, marker, orientation)
    meta = build_exif(exif=exif, orientation=orientation, gps=gps, taken_at=taken_at, make=make, model=model, lens=lens)
    image.save(path, "HEIF", quality=90, exif=meta.tobytes())
    return path


_XYZ_TO_LINEAR_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)


def _srational(values: tuple[float, ...], den: int = 10_000) -> list[int]:
    out: list[int] = []
    for value in values:
        out += [int(round(value * den)), den]
    return out


def make_dng(
    path: Path | str,
    size: tuple[int, int] = (320, 240),
    color: RGB = BLUE,
    *,
    orientation: int | None = None,
    make: str = "TestCam",
    model: str = "TestCam DNG-1",
    taken_at: datetime | None = None,
    preview: tuple[int, int] | None = None,
    marker: RGB | None = RED,
) -> Path:
    """A minimal, valid DNG 1.4: 12-bit RGGB Bayer data that libraw demosaics.

    The colour matrix is XYZ->linear sRGB so camera RGB equals linear sRGB and colours survive
    demosaicing. `preview` adds an uncompressed RGB preview (IFD0, raw in a SubIFD), which
    libraw returns as a bitmap thumbnail. DNG's EXIF sub-IFD isn't written (tifffile can't);
    `taken_at` goes to IFD0 DateTime.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("DNG size must be even")
    displayed = draw_quadrants(size, color, marker)
    stored = np.asarray(stored_for(displayed, orientation), dtype=np.float32) / 255.0
    linear = np.where(stored <= 0.04045, stored / 12.92, ((stored + 0.055) / 1.055) ** 2.4)
    black, white = 64, 4095
    mosaic = np.empty(linear.shape[:2], np.float32)
    mosaic[0::2, 0::2] = linear[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = linear[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = linear[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = linear[1::2, 1::2, 2]
    cfa = np.round(black + mosaic * 0.9 * (white - black)).astype(np.uint16)

    ifd0_tags = [
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation or 1, True),
        (50706, "B", 4, (1, 4, 0, 0), True),
        (50707, "B", 4, (1, 1, 0, 0), True),
        (50708, "s", 0, model, True),
        (50721, "2i", 9, _srational(_XYZ_TO_LINEAR_SRGB), True),
        (50778, "H", 1, 21, True),
        (50728, "2I", 3, _srational((1.0, 1.0, 1.0)), True),
    ]
    raw_tags = [
        (33421, "H", 2, (2, 2), True),
        (33422, "B", 4, (0, 1, 1, 2), True),
        (50714, "H", 1, black, True),
        (50717, "H", 1, white, True),
    ]
    stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S") if taken_at else None
    with tifffile.TiffWriter(path) as tif:
        if preview is None:
            tif.write(cfa, photometric=32803, subfiletype=0, extratags=ifd0_tags + raw_tags, datetime=stamp, metadata=None)
        else:
            thumb = stored_for(displayed.resize(preview, Image.Resampling.BILINEAR), orientation)
            tif.write(
                np.asarray(thumb), photometric="rgb", subfiletype=1, subifds=1,
                extratags=ifd0_tags, datetime=stamp, metadata=None,
            )
            tif.write(cfa, photometric=32803, subfiletype=0, extratags=raw_tags, metadata=None)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_png_bomb(path: Path | str, side: int = 30_000) -> Path:
    """A few-KB PNG whose header claims side x side RGB pixels (a decompression bomb)."""
    path = Path(path)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * ((side * 3 + 1) * 64), 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b""))
    return path


def make_bad_files(folder: Path | str) -> dict[str, str]:
    """Hostile/corrupt files -> a keyword the DecodeError reason must contain."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1234)
    (folder / "zero.jpg").write_bytes(b"")
    good = io.BytesIO()
    draw_quadrants((640, 480)).save(good, "JPEG", quality=90)
    data = good.getvalue()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "page.jpg").write_text("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>nope</body></html>\n")
    make_png_bomb(folder / "bomb.png")
    (folder / "random.heic").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (folder / "random.nef").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return {
        "zero.jpg": "zero-byte",
        "truncated.jpg": "truncated",
        "page.jpg": "not an image",
        "bomb.png": "too large",
        "random.heic": "not an image",
        "random.nef": "RAW decode failed",
    }


def make_library(root: Path | str) -> dict[str, Path]:
    """One good, visually distinct file per format in nested folders."""
    root = Path(root)
    return {
        "jpg": make_jpeg(
            root / "2023" / "summer" / "beach.jpg", (800, 600), (30, 110, 200),
            orientation=6, gps=(-33.8568, 151.2153, 12.5), taken_at=datetime(2023, 7, 14, 18, 30, 5),
            make="Canon", model="Canon EOS 6D", lens="EF24-105mm f/4L IS USM",
        ),
        "png": make_png(root / "screens" / "diagram.png", (500, 400), (40, 200, 90)),
        "webp": make_webp(root / "web" / "banner.webp", (600, 300), (230, 180, 20)),
        "bmp": make_bmp(root / "scans" / "old" / "scan.bmp", (320, 240), (130, 50, 170)),
        "heic": make_heic(
            root / "phone" / "2024" / "IMG_0001.heic", (640, 480), (20, 160, 160),
            gps=(48.8584, 2.2945), taken_at=datetime(2024, 5, 1, 9, 15), make="Apple", model="iPhone 15",
        ),
        "dng": make_dng(root / "camera" / "raw" / "DSC_0001.dng", (400, 300), (150, 150, 150), taken_at=datetime(2022, 1, 2, 3, 4, 5)),
    }


def make_noisy(path: Path | str, size: tuple[int, int], color: RGB, *, noise: int = 12, seed: int = 0) -> Path:
    """A flat colour with per-pixel noise (hard to compress, so decoding takes real work)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(color, np.int16) + rng.integers(-noise, noise + 1, (size[1], size[0], 3), dtype=np.int16)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)
    return path


def wait_for_health(proc, port: int, tries: int = 600) -> None:
    """Until `photoindex serve` (a Popen) answers /health on `port`; fails with its output if it exits."""
    import httpx

    for _ in range(tries):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read()
