"""Every picture file is either indexed or listed: TIFF, GIF, AVIF, JPEG XL and the LibRaw RAWs
(CR3, CRW, PEF, SRW, KDC, MRW, X3F, IIQ, ...) are decoded; videos, Photoshop documents and other
types are listed as unsupported with the reason; a RAW that cannot be demosaiced shows its preview."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.media.decode import load_image
from engine.media.exif import read_metadata
from engine.media.formats import format_of, unsupported_reason
from tests.fixtures import make_dng, make_jpeg
from tests.test_cli_resume import cli_env, run_cli

RED, GREEN = (210, 30, 30), (30, 180, 60)


def _pixels(image: Image.Image) -> tuple[int, int, int]:
    return tuple(int(c) for c in np.asarray(image.convert("RGB")).reshape(-1, 3).mean(axis=0).round())


def make_tiff(path: Path, color=RED, *, pages: int = 1, mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [Image.new("RGB", (320, 200), color if i == 0 else GREEN) for i in range(pages)]
    if mode == "I;16":
        frames = [Image.fromarray(np.full((200, 320), 40000, np.uint16))]
    frames[0].save(path, save_all=pages > 1, append_images=frames[1:], compression="tiff_lzw")
    return path


def make_gif(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [Image.new("RGB", (120, 90), RED), Image.new("RGB", (120, 90), GREEN)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def make_avif(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (200, 160), RED).save(path, format="AVIF", quality=80)
    return path


def make_jxl(path: Path) -> Path:
    import pillow_jxl  # noqa: F401  (the optional decoder is a test dependency)

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (200, 160), RED).save(path, format="JXL", quality=90)
    return path


@pytest.mark.parametrize("maker,name", [(make_tiff, "scan.tif"), (make_gif, "anim.gif"), (make_avif, "phone.avif"),
                                        (make_jxl, "modern.jxl")])
def test_new_formats_decode(tmp_path: Path, maker, name: str) -> None:
    path = maker(tmp_path / name)
    image = load_image(path, format_of(path))
    red, green, blue = _pixels(image)
    assert red > 150 and green < 80 and blue < 80, "the first page / frame, in its colours"
    assert read_metadata(path, format_of(path)).width == image.width


def test_tiff_variants(tmp_path: Path) -> None:
    assert _pixels(load_image(make_tiff(tmp_path / "multi.tiff", pages=3), "tiff"))[0] > 150
    gray = load_image(make_tiff(tmp_path / "deep.tif", mode="I;16"), "tiff")
    assert gray.mode == "RGB" and 150 < _pixels(gray)[0] < 160, "16-bit data is scaled to 8 bits"


def test_raw_extensions_go_to_libraw_even_in_a_tiff_container(tmp_path: Path) -> None:
    """PEF, SRW, NEF, ... are TIFF containers; LibRaw decodes them (a DNG under each name here)."""
    for ext in ("pef", "srw", "3fr", "erf"):
        path = make_dng(tmp_path / f"IMG_0001.{ext}", (400, 300), (150, 150, 150))
        assert format_of(path) == ext
        assert load_image(path, ext).size == (400, 300)


def test_real_files(testdata: Path) -> None:
    cases = {
        "immich_assets/formats/avif/8bit-sRGB.avif": "avif",
        "immich_assets/formats/jxl/8bit-sRGB.jxl": "jxl",
        "camera_metadata_tiny/t/images/ExifTool.tif": "tiff",
        "camera_metadata_tiny/t/images/GIF.gif": "gif",
        "raw_small/RAW_KODAK_DC50.KDC": "kdc",
        "camera_metadata_tiny/t/images/FujiFilm.raf": "raf",
        "camera_metadata_tiny/t/images/SigmaDP2.x3f": "x3f",
    }
    for rel, fmt in cases.items():
        assert format_of(testdata / rel) == fmt
        image = load_image(testdata / rel, fmt, min_side=400)
        assert min(image.size) > 0, rel


def test_unsupported_types_have_a_reason() -> None:
    assert unsupported_reason("clip.MOV").startswith("video")
    assert "Photoshop" in unsupported_reason("layers.psd")
    assert unsupported_reason("notes.txt") is None and format_of("clip.mov") is None


def test_a_library_with_every_kind_of_file(engine: PhotoIndex, library: Path, testdata: Path, tmp_path: Path,
                                           database_url: str, clip_model_dir: Path) -> None:
    make_jpeg(library / "a.jpg", (300, 200), RED)
    make_tiff(library / "scans" / "b.tif")
    make_gif(library / "c.gif")
    make_avif(library / "d.avif")
    make_jxl(library / "e.jxl")
    raws = testdata / "camera_metadata_tiny" / "t" / "images"
    shutil.copy(raws / "FujiFilm.raf", library / "f.raf")
    shutil.copy(raws / "CanonRaw.cr3", library / "g.cr3")  # pixels stripped: flagged with LibRaw's reason
    (library / "clips").mkdir()
    (library / "clips" / "IMG_0002.MOV").write_bytes(b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 64)
    (library / "layers.psd").write_bytes(b"8BPS" + b"\x00" * 64)
    (library / "notes.txt").write_text("not a photo")

    report = engine.index()
    assert report.scan.files == 7 and report.scan.unsupported == 2
    stats = engine.stats()
    assert stats.formats == {"jpg": 1, "tiff": 1, "gif": 1, "avif": 1, "jxl": 1, "raf": 1, "cr3": 1}
    assert stats.unsupported_by_type == {"mov": 1, "psd": 1} and stats.unsupported_count == 2
    failed = {p.path: p.fail_reason for p in engine.failed_files()}
    assert list(failed) == ["g.cr3"] and failed["g.cr3"].startswith("RAW decode failed")
    assert {f.path: f.reason for f in engine.unsupported_files()} == {
        "clips/IMG_0002.MOV": unsupported_reason("x.mov"), "layers.psd": unsupported_reason("x.psd")}

    with TestClient(create_app(engine=engine)) as client:
        photos = client.post("/search/image", files={"file": ("q.jpg", (library / "a.jpg").read_bytes())},
                             data={"top_k": "10"}).json()["results"]
        raf_id = next(p["id"] for p in photos if p["path"] == "f.raf")
        thumb = client.get(f"/image/{raf_id}/thumb")
        assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/"), \
            "a RAW LibRaw cannot demosaic shows its embedded preview"
        assert client.get("/stats").json()["unsupported_by_type"] == {"mov": 1, "psd": 1}

    env = cli_env(tmp_path, database_url, library, clip_model_dir)
    listed = run_cli(["failed", "--unsupported"], env, tmp_path)
    assert listed.returncode == 0 and "clips/IMG_0002.MOV: video" in listed.stdout
    summary = run_cli(["failed"], env, tmp_path)
    assert "g.cr3" in summary.stdout and "unsupported type: 2 files (mov 1, psd 1)" in summary.stdout

    (library / "layers.psd").unlink()
    assert engine.index().scan.unsupported == 1
    assert [f.path for f in engine.unsupported_files()] == ["clips/IMG_0002.MOV"]
