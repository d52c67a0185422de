from __future__ import annotations

import io
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.config import SAMPLE_PHOTOS_DIR
from engine.media.decode import DecodeError, load_image
from engine.media.exif import camera_name, read_metadata
from engine.media.formats import (
    FORMAT_GROUPS,
    RAW_FORMATS,
    SUPPORTED_EXTENSIONS,
    expand_format_filter,
    format_of,
)
from engine.media.thumbnails import ThumbnailCache, render_view
from tests.fixtures import (
    make_bad_files,
    make_bmp,
    make_dng,
    make_heic,
    make_jpeg,
    make_library,
    make_png,
    make_png_bomb,
    make_webp,
)

TESTDATA = Path(os.environ.get("PHOTOINDEX_TESTDATA") or Path(__file__).resolve().parents[2] / "shared" / "testdata")


def pixel(image: Image.Image, x: float, y: float) -> tuple[int, int, int]:
    """Colour at a relative position, averaged over a small patch."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w = arr.shape[:2]
    cx, cy = int(x * (w - 1)), int(y * (h - 1))
    patch = arr[max(0, cy - 2): cy + 3, max(0, cx - 2): cx + 3]
    return tuple(int(v) for v in patch.reshape(-1, 3).mean(axis=0))


def is_red(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return r > 150 and g < 110 and b < 110


def assert_red_top_left_only(image: Image.Image) -> None:
    assert is_red(pixel(image, 0.1, 0.1)), pixel(image, 0.1, 0.1)
    for corner in ((0.9, 0.1), (0.1, 0.9), (0.9, 0.9)):
        assert not is_red(pixel(image, *corner)), (corner, pixel(image, *corner))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_library(tmp_path_factory.mktemp("library"))


# --- formats -------------------------------------------------------------------------------

def test_supported_extensions_and_groups() -> None:
    assert SUPPORTED_EXTENSIONS[".jpeg"] == "jpg"
    assert SUPPORTED_EXTENSIONS[".heif"] == "heic"
    assert {SUPPORTED_EXTENSIONS[f".{e}"] for e in ("nef", "cr2", "arw", "dng", "raf", "orf", "rw2")} <= RAW_FORMATS
    assert set(FORMAT_GROUPS) == {"JPG", "PNG", "WEBP", "BMP", "HEIC", "AVIF", "TIFF", "GIF", "JXL", "RAW"}
    assert format_of("/a/B/IMG_1.JPG") == "jpg"
    assert format_of("x.Nef") == "nef"
    assert format_of("notes.txt") is None
    assert format_of("archive.tar.gz") is None


def test_expand_format_filter() -> None:
    assert expand_format_filter(["raw"]) == set(RAW_FORMATS)
    assert expand_format_filter(["JPG", "heic"]) == {"jpg", "heic"}
    assert expand_format_filter(["nef", ".DNG", "jpeg"]) == {"nef", "dng", "jpg"}
    assert expand_format_filter(["psd", ""]) == set()


# --- decoding ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fmt", "size"),
    [("jpg", (800, 600)), ("png", (500, 400)), ("webp", (600, 300)), ("bmp", (320, 240)), ("heic", (640, 480)), ("dng", (400, 300))],
)
def test_every_format_decodes_with_size_and_orientation(library: dict[str, Path], fmt: str, size: tuple[int, int]) -> None:
    image = load_image(library[fmt], format_of(library[fmt]) or fmt)
    assert image.mode == "RGB"
    assert image.size == size
    assert_red_top_left_only(image)


def test_decode_from_bytes(library: dict[str, Path]) -> None:
    image = load_image(library["heic"].read_bytes(), "heic")
    assert image.size == (640, 480)
    assert_red_top_left_only(image)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientations(tmp_path: Path, orientation: int) -> None:
    path = make_jpeg(tmp_path / f"o{orientation}.jpg", (320, 200), orientation=orientation)
    image = load_image(path, "jpg")
    assert image.size == (320, 200)
    assert_red_top_left_only(image)
    meta = read_metadata(path, "jpg")
    assert (meta.width, meta.height, meta.orientation) == (320, 200, orientation)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_heic_orientations(tmp_path: Path, orientation: int) -> None:
    path = make_heic(tmp_path / f"o{orientation}.heic", (320, 200), orientation=orientation)
    image = load_image(path, "heic")
    assert image.size == (320, 200)
    assert_red_top_left_only(image)
    meta = read_metadata(path, "heic")
    assert (meta.width, meta.height) == (320, 200)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_dng_orientations_follow_raw_flip(tmp_path: Path, orientation: int) -> None:
    path = make_dng(tmp_path / f"o{orientation}.dng", (320, 240), orientation=orientation)
    image = load_image(path, "dng")
    assert image.size == (320, 240)
    assert_red_top_left_only(image)
    meta = read_metadata(path, "dng")
    assert (meta.width, meta.height, meta.orientation) == (320, 240, orientation)


def test_webp_orientation(tmp_path: Path) -> None:
    image = load_image(make_webp(tmp_path / "o6.webp", (300, 200), (30, 60, 220), orientation=6), "webp")
    assert image.size == (300, 200)
    assert_red_top_left_only(image)


def test_dng_embedded_preview_used_when_big_enough(tmp_path: Path) -> None:
    path = make_dng(tmp_path / "p.dng", (640, 480), orientation=6, preview=(320, 240))
    small = load_image(path, "dng", min_side=200)
    assert small.size == (320, 240)
    assert_red_top_left_only(small)
    full = load_image(path, "dng", min_side=400)
    assert full.size == (640, 480)
    assert_red_top_left_only(full)
    half = load_image(path, "dng", min_side=100)
    assert half.size == (320, 240)


def test_dng_half_size_demosaic_respects_min_side(tmp_path: Path) -> None:
    path = make_dng(tmp_path / "h.dng", (640, 480))
    assert load_image(path, "dng", min_side=200).size == (320, 240)
    assert load_image(path, "dng", min_side=300).size == (640, 480)


def test_jpeg_draft_keeps_short_side(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "big.jpg", (4000, 3000))
    assert load_image(path, "jpg").size == (4000, 3000)
    for min_side in (200, 300, 400, 1000, 2000):
        image = load_image(path, "jpg", min_side=min_side)
        assert min(image.size) >= min_side
        assert min(image.size) < 3000 or min_side > 1500
    assert load_image(path, "jpg", min_side=300).size == (500, 375)


def test_draft_applies_before_orientation(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "big6.jpg", (3000, 2000), orientation=6)
    image = load_image(path, "jpg", min_side=400)
    assert image.size == (750, 500)
    assert_red_top_left_only(image)


def test_mislabelled_files_decode_by_content(tmp_path: Path) -> None:
    png_as_jpg = make_png(tmp_path / "a.png", (200, 100)).rename(tmp_path / "a.jpg")
    jpg_as_heic = make_jpeg(tmp_path / "b.jpg", (210, 100)).rename(tmp_path / "b.heic")
    heic_as_jpg = make_heic(tmp_path / "c.heic", (220, 100)).rename(tmp_path / "c.jpg")
    jpg_as_nef = make_jpeg(tmp_path / "d.jpg", (230, 100)).rename(tmp_path / "d.nef")
    for path, size in ((png_as_jpg, (200, 100)), (jpg_as_heic, (210, 100)), (heic_as_jpg, (220, 100)), (jpg_as_nef, (230, 100))):
        image = load_image(path, format_of(path) or "")
        assert image.size == size
        assert_red_top_left_only(image)
        assert read_metadata(path, format_of(path) or "").width == size[0]


def test_bad_files_raise_decode_error_with_reason(tmp_path: Path) -> None:
    expected = make_bad_files(tmp_path)
    assert len(expected) >= 6
    for name, keyword in expected.items():
        with pytest.raises(DecodeError) as info:
            load_image(tmp_path / name, format_of(name) or "")
        assert keyword.lower() in str(info.value).lower(), (name, str(info.value))
        meta = read_metadata(tmp_path / name, format_of(name) or "")
        assert meta.taken_at is None


def test_pixel_cap_refuses_bomb(tmp_path: Path) -> None:
    bomb = make_png_bomb(tmp_path / "bomb.png", side=40_000)
    with pytest.raises(DecodeError, match=r"image too large: 40000x40000 px exceeds MAX_IMAGE_PIXELS=200000000"):
        load_image(bomb, "png")
    with pytest.raises(DecodeError, match="too large"):
        load_image(bomb.read_bytes(), "png", max_pixels=100_000_000)


@pytest.mark.parametrize("maker", [make_jpeg, make_png, make_webp, make_bmp, make_heic, make_dng])
def test_pixel_cap_applies_to_every_format(tmp_path: Path, maker) -> None:  # type: ignore[no-untyped-def]
    path = maker(tmp_path / "img", (400, 300))
    fmt = {"make_jpeg": "jpg", "make_png": "png", "make_webp": "webp", "make_bmp": "bmp", "make_heic": "heic", "make_dng": "dng"}[maker.__name__]
    with pytest.raises(DecodeError, match="too large"):
        load_image(path, fmt, max_pixels=100_000)
    assert load_image(path, fmt, max_pixels=120_000).size == (400, 300)


@pytest.mark.parametrize(("maker", "fmt"), [(make_png, "png"), (make_webp, "webp"), (make_heic, "heic"), (make_bmp, "bmp")])
def test_truncated_files_raise(tmp_path: Path, maker, fmt: str) -> None:  # type: ignore[no-untyped-def]
    path = maker(tmp_path / f"full.{fmt}", (400, 300))
    data = path.read_bytes()
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(DecodeError) as info:
        load_image(cut, fmt)
    assert "truncated" in str(info.value) or "corrupt" in str(info.value)


def test_missing_file_is_decode_error(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="not found"):
        load_image(tmp_path / "nope.jpg", "jpg")


@pytest.mark.parametrize("mode", ["RGBA", "I;16", "P", "L"])
def test_png_modes_convert_to_rgb(tmp_path: Path, mode: str) -> None:
    path = make_png(tmp_path / f"{mode.replace(';', '')}.png", (200, 100), (30, 60, 220), mode=mode)
    image = load_image(path, "png")
    assert image.mode == "RGB" and image.size == (200, 100)
    if mode == "RGBA":
        assert pixel(image, 0.9, 0.1) == (255, 255, 255)
        assert is_red(pixel(image, 0.1, 0.1))
    if mode == "I;16":
        r, g, b = pixel(image, 0.9, 0.9)
        assert r == g == b and r > 200


# --- metadata ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        ((-33.8568, 151.2153, 12.5), (-33.8568, 151.2153, 12.5)),
        ((40.7128, -74.006, -3.25), (40.7128, -74.006, -3.25)),
        ((-22.9711, -43.1822), (-22.9711, -43.1822, None)),
        ((55.7558, 37.6173), (55.7558, 37.6173, None)),
    ],
)
def test_gps_decimal_degrees_signed_by_ref(tmp_path: Path, gps: tuple[float, ...], expected: tuple[float, float, float | None]) -> None:
    meta = read_metadata(make_jpeg(tmp_path / "g.jpg", gps=gps), "jpg")
    assert meta.latitude == pytest.approx(expected[0], abs=1e-5)
    assert meta.longitude == pytest.approx(expected[1], abs=1e-5)
    if expected[2] is None:
        assert meta.altitude is None
    else:
        assert meta.altitude == pytest.approx(expected[2], abs=0.01)


def test_zero_gps_is_ignored(tmp_path: Path) -> None:
    meta = read_metadata(make_jpeg(tmp_path / "z.jpg", gps=(0.0, 0.0)), "jpg")
    assert meta.latitude is None and meta.longitude is None


def test_taken_at_camera_lens(tmp_path: Path) -> None:
    path = make_jpeg(
        tmp_path / "m.jpg", taken_at=datetime(2023, 7, 14, 18, 30, 5),
        make="Canon", model="Canon EOS 6D", lens="EF24-105mm f/4L IS USM",
    )
    meta = read_metadata(path, "jpg")
    assert meta.taken_at == datetime(2023, 7, 14, 18, 30, 5)
    assert meta.taken_at.tzinfo is None
    assert meta.camera == "Canon EOS 6D"
    assert meta.lens == "EF24-105mm f/4L IS USM"
    assert meta.format == "jpg"
    assert (meta.width, meta.height) == (640, 480)


def test_taken_at_with_offset_is_aware(tmp_path: Path) -> None:
    tz = timezone(timedelta(hours=3))
    meta = read_metadata(make_jpeg(tmp_path / "tz.jpg", taken_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)), "jpg")
    assert meta.taken_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)
    assert meta.taken_at.utcoffset() == timedelta(hours=3)


def test_taken_at_fallbacks(tmp_path: Path) -> None:
    digitized = make_jpeg(tmp_path / "d.jpg", exif={"DateTimeDigitized": "2020:01:02 03:04:05", "DateTime": "2021:01:01 00:00:00"})
    assert read_metadata(digitized, "jpg").taken_at == datetime(2020, 1, 2, 3, 4, 5)
    modified = make_jpeg(tmp_path / "m.jpg", exif={"DateTime": "2021:06:07 08:09:10"})
    assert read_metadata(modified, "jpg").taken_at == datetime(2021, 6, 7, 8, 9, 10)
    garbage = make_jpeg(tmp_path / "g.jpg", exif={"DateTimeOriginal": "0000:00:00 00:00:00"})
    assert read_metadata(garbage, "jpg").taken_at is None


def test_camera_name_deduplicates() -> None:
    assert camera_name("Canon", "Canon EOS 6D") == "Canon EOS 6D"
    assert camera_name("NIKON CORPORATION", "NIKON D750") == "NIKON D750"
    assert camera_name("Apple", "iPhone 15") == "Apple iPhone 15"
    assert camera_name("OLYMPUS IMAGING CORP.", "E-M1") == "OLYMPUS E-M1"
    assert camera_name(None, "X100V") == "X100V"
    assert camera_name("  ", None) is None


def test_exif_data_is_small_json(tmp_path: Path) -> None:
    path = make_jpeg(
        tmp_path / "j.jpg", gps=(1.5, 2.5, 3.0), taken_at=datetime(2022, 2, 2), make="Sony", model="ILCE-7M3",
        exif={"MakerNote": b"\x00" * 5000, "UserComment": b"ASCII\x00\x00\x00hello", "FNumber": 2.8, "ExposureTime": 0.01},
    )
    meta = read_metadata(path, "jpg")
    text = json.dumps(meta.exif_data, allow_nan=False)
    assert len(text) < 4000
    assert "MakerNote" not in meta.exif_data
    assert meta.exif_data["UserComment"] == "hello"
    assert meta.exif_data["FNumber"] == pytest.approx(2.8)
    assert meta.exif_data["Model"] == "ILCE-7M3"
    assert "GPSLatitude" in meta.exif_data


def test_metadata_for_every_format(library: dict[str, Path]) -> None:
    jpg = read_metadata(library["jpg"], "jpg")
    assert (jpg.width, jpg.height, jpg.orientation) == (800, 600, 6)
    assert jpg.latitude == pytest.approx(-33.8568, abs=1e-5) and jpg.longitude == pytest.approx(151.2153, abs=1e-5)
    heic = read_metadata(library["heic"], "heic")
    assert (heic.width, heic.height) == (640, 480)
    assert heic.taken_at == datetime(2024, 5, 1, 9, 15)
    assert heic.camera == "Apple iPhone 15"
    assert heic.latitude == pytest.approx(48.8584, abs=1e-5) and heic.longitude == pytest.approx(2.2945, abs=1e-5)
    dng = read_metadata(library["dng"], "dng")
    assert (dng.width, dng.height) == (400, 300)
    assert dng.camera == "TestCam DNG-1"
    assert dng.taken_at == datetime(2022, 1, 2, 3, 4, 5)
    for fmt in ("png", "webp", "bmp"):
        meta = read_metadata(library[fmt], fmt)
        assert meta.width and meta.height and meta.taken_at is None
        json.dumps(meta.exif_data, allow_nan=False)


def test_metadata_in_png_and_webp(tmp_path: Path) -> None:
    png = read_metadata(make_png(tmp_path / "e.png", taken_at=datetime(2019, 9, 9, 9, 9, 9)), "png")
    assert png.taken_at == datetime(2019, 9, 9, 9, 9, 9)
    webp = read_metadata(make_webp(tmp_path / "e.webp", taken_at=datetime(2018, 8, 8, 8, 8, 8)), "webp")
    assert webp.taken_at == datetime(2018, 8, 8, 8, 8, 8)


def test_metadata_never_raises(tmp_path: Path) -> None:
    expected = make_bad_files(tmp_path)
    for name in expected:
        read_metadata(tmp_path / name, format_of(name) or "")
    meta = read_metadata(tmp_path / "missing.jpg", "jpg", image=Image.new("RGB", (5, 7)))
    assert (meta.width, meta.height) == (5, 7)


# --- thumbnails ----------------------------------------------------------------------------

def test_render_view_sizes_and_rotation(library: dict[str, Path]) -> None:
    for fmt, path in library.items():
        data = render_view(path, fmt, 400)
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert max(image.size) == min(400, max(read_metadata(path, fmt).width, read_metadata(path, fmt).height))
            assert_red_top_left_only(image)
    rotated = render_view(library["jpg"], "jpg", 400, rotation=90)
    with Image.open(io.BytesIO(rotated)) as image:
        assert image.size == (300, 400)
        assert is_red(pixel(image, 0.9, 0.1))
    upside_down = render_view(library["png"], "png", 400, rotation=180)
    with Image.open(io.BytesIO(upside_down)) as image:
        assert image.size == (400, 320)
        assert is_red(pixel(image, 0.9, 0.9))


def test_render_view_does_not_upscale(tmp_path: Path) -> None:
    data = render_view(make_jpeg(tmp_path / "s.jpg", (120, 80)), "jpg", 400, rotation=270)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (80, 120)
        assert is_red(pixel(image, 0.1, 0.9))


def test_thumbnail_cache(tmp_path: Path, library: dict[str, Path]) -> None:
    cache = ThumbnailCache(tmp_path / "cache", max_pixels=50_000_000)
    first = cache.get(7, library["jpg"], "jpg", "thumb", 0, "v1")
    assert first.is_file() and first.is_relative_to(tmp_path / "cache")
    assert len(first.relative_to(tmp_path / "cache").parts) == 3
    with Image.open(first) as image:
        assert max(image.size) == ThumbnailCache.THUMB == 400
    mtime = first.stat().st_mtime_ns
    assert cache.get(7, library["jpg"], "jpg", "thumb", 0, "v1") == first
    assert first.stat().st_mtime_ns == mtime

    rotated = cache.get(7, library["jpg"], "jpg", "thumb", 90, "v1")
    assert rotated != first
    with Image.open(rotated) as image:
        assert image.size == (300, 400)

    full = cache.get(7, library["jpg"], "jpg", "full", 0, "v1")
    with Image.open(full) as image:
        assert image.size == (800, 600)

    edited = cache.get(7, library["jpg"], "jpg", "thumb", 0, "v2")
    assert edited != first and edited.is_file()
    assert not first.exists()
    other = cache.get(8, library["png"], "png", "thumb", 0, "v1")
    assert other != edited
    assert not list((tmp_path / "cache").rglob(".tmp-*"))
    assert cache.stats()["files"] == 4


def test_thumbnail_cache_raises_decode_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    cache = ThumbnailCache(tmp_path / "cache", max_pixels=50_000_000)
    with pytest.raises(DecodeError):
        cache.get(1, bad, "jpg", "thumb", 0, "x")
    with pytest.raises(ValueError):
        cache.get(1, bad, "jpg", "thumb", 45, "x")


# --- bundled sample library ----------------------------------------------------------------

def test_sample_library() -> None:
    files = sorted(p for p in SAMPLE_PHOTOS_DIR.rglob("*") if p.is_file() and format_of(p))
    assert len(files) >= 12
    assert any(p.parent != SAMPLE_PHOTOS_DIR for p in files)
    assert sum(p.stat().st_size for p in files) < 4_000_000
    metas = [read_metadata(p, format_of(p) or "") for p in files]
    assert sum(m.latitude is not None for m in metas) >= 3
    assert any(m.orientation == 6 and m.height > m.width for m in metas)
    for path, meta in zip(files, metas):
        image = load_image(path, format_of(path) or "")
        assert image.size == (meta.width, meta.height)
        assert 800 <= max(image.size) <= 1200


# --- real files from the shared test data ---------------------------------------------------

def _testdata_files() -> list[Path]:
    if not TESTDATA.is_dir():
        return []
    return sorted(p for p in TESTDATA.rglob("*") if p.is_file() and format_of(p))


def test_testdata_sweep_decodes_or_refuses() -> None:
    files = _testdata_files()
    if not files:
        pytest.skip(f"shared test data not found at {TESTDATA}")
    decoded = 0
    for path in files:
        fmt = format_of(path) or ""
        try:
            image = load_image(path, fmt, max_pixels=100_000_000)
        except DecodeError as exc:
            assert str(exc).strip(), path
        else:
            assert image.mode == "RGB" and image.width > 0 and image.height > 0
            decoded += 1
        meta = read_metadata(path, fmt)
        json.dumps(meta.exif_data, allow_nan=False)
    assert decoded > len(files) // 2


def test_testdata_200mp_heic_refused_by_cap() -> None:
    path = TESTDATA / "heic_samples" / "tests" / "images" / "heif_special" / "200MP.heic"
    if not path.is_file():
        pytest.skip("200MP.heic not available")
    with pytest.raises(DecodeError, match="too large"):
        load_image(path, "heic", max_pixels=100_000_000)
    meta = read_metadata(path, "heic")
    assert meta.width * meta.height > 100_000_000


def test_testdata_exif_orientation_examples_all_look_alike() -> None:
    folder = TESTDATA / "exif_orientation"
    if not (folder / "Landscape_1.jpg").is_file():
        pytest.skip("exif_orientation examples not available")
    for kind in ("Landscape", "Portrait"):
        reference = np.asarray(load_image(folder / f"{kind}_1.jpg", "jpg", min_side=150).resize((60, 40) if kind == "Landscape" else (40, 60)), np.float32)
        for n in range(0, 9):
            image = load_image(folder / f"{kind}_{n}.jpg", "jpg", min_side=150)
            small = np.asarray(image.resize((60, 40) if kind == "Landscape" else (40, 60)), np.float32)
            assert np.abs(small - reference).mean() < 12, (kind, n)


def test_testdata_raw_small() -> None:
    path = TESTDATA / "raw_small" / "photoprism_canon_eos_6d.dng"
    if not path.is_file():
        pytest.skip("raw_small not available")
    image = load_image(path, "dng")
    assert image.size == (1224, 816)
    preview = load_image(path, "dng", min_side=600)
    assert min(preview.size) >= 600
    meta = read_metadata(path, "dng")
    assert meta.camera == "Canon EOS 6D"
    assert meta.lens == "EF24-105mm f/4L IS USM"
    assert meta.taken_at == datetime(2019, 6, 6, 7, 29, 51)


def test_testdata_heic_draft_uses_embedded_thumbnail() -> None:
    path = TESTDATA / "heic_samples" / "tests" / "images" / "heif_other" / "arrow.heic"
    if not path.is_file():
        pytest.skip("arrow.heic not available")
    full = load_image(path, "heic")
    small = load_image(path, "heic", min_side=224)
    assert full.size == (3024, 4032)
    assert 224 <= min(small.size) < 3024
    assert small.width < small.height
