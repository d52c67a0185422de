"""Decode any supported photo into an RGB `PIL.Image`, oriented as it should be displayed.

The decoder is chosen by the file's magic bytes; the extension only decides whether rawpy
is tried for content no image decoder recognises. Every failure becomes a `DecodeError`
whose message is a short human reason, stored with the photo as its `index_failed` text.

The pixel cap is checked from the header, before any pixel buffer exists. Pillow's global
`MAX_IMAGE_PIXELS` check is switched off at import because it fires at a different,
process-wide threshold (as a warning below 2x, an exception above) and would preempt the
configured cap with an unhelpful message.
"""
from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pillow_heif
import rawpy
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from engine.errors import Invalid
from engine.media.formats import RAW_FORMATS

pillow_heif.register_heif_opener()
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False

DEFAULT_MAX_PIXELS = 200_000_000
RAW_PREVIEW_MIN_SIDE = 1000
HEAD_BYTES = 512

Source = Path | bytes


class DecodeError(Invalid):
    """A file that cannot be decoded; `str(error)` is the reason shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


try:  # JPEG XL: the optional `jxl` extra (pillow-jxl-plugin, GPL-3.0) registers Pillow's "JXL" format
    import pillow_jxl  # noqa: F401
    HAVE_JXL = True
except ImportError:
    HAVE_JXL = False

PILLOW_FORMATS: dict[str, list[str]] = {
    "jpeg": ["JPEG", "MPO"],
    "png": ["PNG"],
    "webp": ["WEBP"],
    "bmp": ["BMP"],
    "heif": ["HEIF", "AVIF"],
    "tiff": ["TIFF"],
    "gif": ["GIF"],
    "jxl": ["JXL"],
}
_KIND_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "bmp": "BMP", "heif": "HEIC", "tiff": "TIFF",
               "gif": "GIF", "jxl": "JPEG XL"}
_HEIF_BRANDS = {
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    b"mif1", b"mif2", b"msf1", b"miaf", b"avif", b"avis",
}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1", b"dash"}

# libraw's `flip` -> the EXIF orientation with the same meaning.
_FLIP_TO_ORIENTATION = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def sniff(head: bytes) -> str | None:
    """Container kind from the first bytes: jpeg, png, webp, bmp, heif, gif, jxl, tiff, raf, orf, rw2,
    cr3, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "jxl"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "heif"
        if brand == b"crx ":
            return "cr3"
        compatible = {head[i:i + 4] for i in range(16, min(len(head), int.from_bytes(head[:4], "big")), 4)}
        if compatible & _HEIF_BRANDS and not compatible & _VIDEO_BRANDS:
            return "heif"
        return None
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "raf"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "orf"
    if head[:4] == b"IIU\x00":
        return "rw2"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def pillow_kind(kind: str | None, fmt: str) -> str | None:
    """The Pillow decoder for a file of container `kind` named `.fmt`, or None (RAW, unknown).

    Most camera RAWs (NEF, CR2, ARW, DNG, PEF, ...) are TIFF containers: those go to LibRaw.
    """
    if kind not in PILLOW_FORMATS or (kind == "tiff" and fmt in RAW_FORMATS):
        return None
    return kind


def orientation_for_flip(flip: int) -> int:
    return _FLIP_TO_ORIENTATION.get(flip, 1)


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def read_head(source: Source, size: int = HEAD_BYTES) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source[:size])
    else:
        path = Path(source)
        try:
            if not path.is_file():
                raise DecodeError("file not found" if not path.exists() else "not a regular file")
            with path.open("rb") as fh:
                data = fh.read(size)
        except OSError as exc:
            raise DecodeError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise DecodeError("zero-byte file")
    return data


def _describe_unknown(head: bytes, fmt: str) -> str:
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:256]:
        return "not an image (text/html)"
    if lowered.startswith((b"<?xml", b"<svg")):
        return "not an image (text/xml)"
    if head.startswith(b"%PDF"):
        return "not an image (application/pdf)"
    if head.startswith(b"PK\x03\x04"):
        return "not an image (application/zip)"
    if head[4:8] == b"ftyp":
        return f"not an image (video/{head[8:12].decode('latin-1').strip() or 'mp4'})"
    if head.startswith(b"\x00\x00\x00\x0cjP  ") or head.startswith(b"\xff\x4f\xff\x51"):
        return "unsupported image type (JPEG 2000)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "not an image (text/plain)"
    return f"not an image (unrecognised data for .{fmt})"


@contextmanager
def _as_file(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(bytes(source))
    else:
        with Path(source).open("rb") as fh:
            yield fh


def _too_large(width: int, height: int, max_pixels: int) -> DecodeError:
    return DecodeError(f"image too large: {width}x{height} px exceeds MAX_IMAGE_PIXELS={max_pixels}")


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise DecodeError(f"invalid image size {width}x{height}")
    if width * height > max_pixels:
        raise _too_large(width, height, max_pixels)


def _failure_reason(kind: str, exc: BaseException) -> str:
    name = _KIND_NAMES.get(kind, kind.upper())
    message = " ".join(str(exc).split()) or type(exc).__name__
    lowered = message.lower()
    if isinstance(exc, EOFError) or "truncated" in lowered or "end of file" in lowered or "premature end" in lowered:
        return f"truncated {name}"
    if kind == "heif" and "unsupported" in lowered:
        return f"unsupported HEIC: {message[:200]}"
    return f"corrupt {name}: {message[:200]}"


def _unidentified_reason(fh: IO[bytes], kind: str) -> str:
    if kind == "heif":
        try:
            fh.seek(0)
            pillow_heif.open_heif(fh, convert_hdr_to_8bit=True)
        except Exception as exc:  # noqa: BLE001 - only used for the message
            return _failure_reason(kind, exc)
    return f"corrupt {_KIND_NAMES[kind]}: header not readable"


def _webp_truncated(fh: IO[bytes]) -> bool:
    fh.seek(0, io.SEEK_END)
    length = fh.tell()
    fh.seek(4)
    declared = int.from_bytes(fh.read(4), "little") + 8
    fh.seek(0)
    return length < declared


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB; 16-bit data is scaled, transparency is flattened onto white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I") or mode == "F":
        data = np.asarray(image).astype(np.float64)
        peak = 65535.0 if mode.startswith("I;16") or data.max(initial=0) > 255 else 255.0
        gray = np.clip(data * (255.0 / peak), 0, 255).round().astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    return image.convert("RGB")


def _load_pillow(source: Source, kind: str, min_side: int | None, max_pixels: int,
                 decoded_cap: int | None = None) -> Image.Image:
    if kind == "jxl" and not HAVE_JXL:
        raise DecodeError("JPEG XL needs the optional decoder: pip install 'photoindex[jxl]' (pillow-jxl-plugin)")
    with _as_file(source) as fh:
        if kind == "webp" and _webp_truncated(fh):
            raise DecodeError("truncated WebP")
        try:
            with Image.open(fh, formats=PILLOW_FORMATS[kind]) as im:
                width, height = im.size
                _check_pixels(width, height, max_pixels)
                if min_side and im.format in ("JPEG", "MPO", "HEIF"):
                    im.draft(None, (min_side, min_side))
                if decoded_cap is not None and im.width * im.height > decoded_cap:
                    raise DecodeError(f"picture too large: {width}x{height} px; at most {decoded_cap:,} pixels "
                                      "can be decoded (JPEG is decoded smaller: any size works)")
                im.load()
                if decoded_cap is not None and min_side:
                    im = _shrunk(im, min_side)
                ImageOps.exif_transpose(im, in_place=True)
                return to_rgb(im)
        except DecodeError:
            raise
        except Image.DecompressionBombError as exc:
            raise DecodeError(f"image too large: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise DecodeError(_unidentified_reason(fh, kind)) from exc
        except (OSError, ValueError, SyntaxError, EOFError, RuntimeError, KeyError, IndexError, TypeError) as exc:
            raise DecodeError(_failure_reason(kind, exc)) from exc


_REDUCIBLE_AS = {"P": "RGB", "1": "L", "I;16": "I", "I;16L": "I", "I;16B": "I", "I;16N": "I"}


def _shrunk(image: Image.Image, min_side: int) -> Image.Image:
    """A whole-factor box reduction keeping the short side >= `min_side`, before the colour conversion
    (which would otherwise copy the full-size pixels two or three times)."""
    factor = min(image.size) // min_side
    if factor < 2:
        return image
    if image.mode in _REDUCIBLE_AS:
        transparent = image.mode == "P" and "transparency" in image.info
        image = image.convert("RGBA" if transparent else _REDUCIBLE_AS[image.mode])
    return image.reduce(factor)


def _raw_message(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else ""
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return " ".join(text.split()) or type(exc).__name__


@contextmanager
def open_raw(source: Source) -> Iterator[rawpy.RawPy]:
    """rawpy handle for a path or bytes; libraw errors become DecodeError."""
    try:
        raw = rawpy.imread(io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else str(source))
    except rawpy.LibRawError as exc:
        raise DecodeError(f"RAW decode failed: {_raw_message(exc)}") from exc
    try:
        yield raw
    finally:
        raw.close()


def _extract_thumb(raw: rawpy.RawPy) -> rawpy.Thumbnail | None:
    try:
        return raw.extract_thumb()
    except (rawpy.LibRawError, ValueError, RuntimeError):
        return None


def _raw_preview(thumb: rawpy.Thumbnail | None, flip: int, need: int, max_pixels: int,
                 min_side: int | None) -> Image.Image | None:
    if thumb is None:
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as im:
                width, height = im.size
                if min(width, height) < need or width * height > max_pixels:
                    return None
                if min_side:
                    im.draft(None, (min_side, min_side))
                im.load()
                image = to_rgb(im)
        elif thumb.format == rawpy.ThumbFormat.BITMAP:
            data = np.asarray(thumb.data)
            if data.ndim < 2 or min(data.shape[:2]) < need:
                return None
            if data.dtype != np.uint8:
                data = (data.astype(np.float64) * (255.0 / max(1, int(data.max())))).astype(np.uint8)
            image = to_rgb(Image.fromarray(data.squeeze()))
        else:
            return None
    except (OSError, ValueError, SyntaxError, EOFError, UnidentifiedImageError):
        return None
    return apply_orientation(image, orientation_for_flip(flip))


def _load_raw(source: Source, min_side: int | None, max_pixels: int) -> Image.Image:
    with open_raw(source) as raw:
        sizes = raw.sizes
        _check_pixels(sizes.raw_width, sizes.raw_height, max_pixels)
        full_short = min(sizes.width, sizes.height) or min(sizes.raw_width, sizes.raw_height)
        need = min(min_side or RAW_PREVIEW_MIN_SIDE, full_short)
        thumb = _extract_thumb(raw)
        preview = _raw_preview(thumb, sizes.flip, need, max_pixels, min_side)
        if preview is not None:
            return preview
        half = bool(min_side) and full_short // 2 >= min_side
        try:
            rgb = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8)
            if rgb.ndim != 3 or rgb.size == 0:
                raise DecodeError("RAW decode failed: empty output")
            if not rgb.any():
                raise DecodeError("RAW decode failed: blank image (every pixel black)")
        except (rawpy.LibRawError, DecodeError) as exc:
            # a sensor LibRaw cannot demosaic may still carry a usable (smaller) preview
            if (small := _raw_preview(thumb, sizes.flip, 1, max_pixels, min_side)) is not None:
                return small
            if isinstance(exc, DecodeError):
                raise
            raise DecodeError(f"RAW decode failed: {_raw_message(exc)}") from exc
        return Image.fromarray(np.ascontiguousarray(rgb[..., :3]), "RGB")


def load_image(
    source: Source,
    fmt: str,
    *,
    min_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    decoded_cap: int | None = None,
) -> Image.Image:
    """Decode `source` to an oriented RGB image.

    `min_side` lets JPEG (DCT scaling), HEIC (embedded thumbnail) and RAW (preview / half-size)
    decoders return a smaller image whose short side is still at least `min_side`; other formats
    decode at full size.

    `decoded_cap` is for pictures from outside the library (uploads): at most that many pixels are
    decoded (counted after DCT scaling, so a JPEG of any size passes), and formats that cannot
    decode smaller are shrunk to about `min_side` before their colours are converted.
    """
    fmt = fmt.lower().lstrip(".")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # metadata quirks in real files; failures raise instead
            head = read_head(source)
            kind = pillow_kind(sniff(head), fmt)
            if kind is not None:
                return _load_pillow(source, kind, min_side, max_pixels, decoded_cap)
            if fmt in RAW_FORMATS:
                return _load_raw(source, min_side, max_pixels)  # a RAW's preview or half-size decode is small
            raise DecodeError(_describe_unknown(head, fmt))
    except DecodeError:
        raise
    except MemoryError as exc:
        raise DecodeError("out of memory while decoding") from exc
    except Exception as exc:  # noqa: BLE001 - hostile files must never escape as tracebacks
        message = " ".join(str(exc).split())[:200]
        raise DecodeError(f"decode failed: {type(exc).__name__}: {message}" if message else f"decode failed: {type(exc).__name__}") from exc
