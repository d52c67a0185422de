"""Pictures to search by are decoded small, under a pixel cap of their own, a few at a time: a
560 KB PNG of 16000x12000 pixels is refused from its header instead of costing gigabytes."""
from __future__ import annotations

import io
import struct
import threading
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.media import pictures
from engine.media.decode import DecodeError
from engine.media.pictures import PictureDecoder
from tests.fixtures import make_library


def png_bomb(width: int, height: int, color_type: int = 2, palette: bool = False) -> bytes:
    """A complete, valid PNG of black pixels (every row present): a few hundred KB that inflate to width x height."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    channels = {0: 1, 2: 3, 3: 1, 6: 4}[color_type]
    head = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
    if color_type == 3:
        head += chunk(b"PLTE", bytes(range(0, 256)) * 3) + (chunk(b"tRNS", b"\x00") if palette else b"")
    compressor, row = zlib.compressobj(9), b"\x00" * (width * channels + 1)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + head + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture
def client(engine: PhotoIndex, library: Path):
    make_library(library)
    engine.index()
    with TestClient(create_app(engine=engine)) as c:
        yield c


def test_a_decompression_bomb_upload_is_refused_from_its_header(client: TestClient) -> None:
    bomb = png_bomb(16000, 12000)
    assert len(bomb) < 1_000_000
    answer = client.post("/search/image", files={"file": ("bomb.png", bomb, "image/png")})
    assert answer.status_code == 422 and "too large" in answer.json()["detail"], answer.text
    faces = client.post("/search/face", files={"file": ("bomb.png", bomb, "image/png")})
    assert faces.status_code in (422, 503) and "traceback" not in faces.text.lower()


def test_a_large_jpeg_passes_decoded_small(client: TestClient) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (7000, 6000), (200, 60, 30)).save(picture, "JPEG", quality=60)  # 42 MP, over the cap
    answer = client.post("/search/image", files={"file": ("big.jpg", picture.getvalue(), "image/jpeg")})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("kind", ["rgb", "rgba", "palette", "palette+alpha"])
def test_pictures_are_shrunk_before_their_colours_are_converted(kind: str) -> None:
    color_type = {"rgb": 2, "rgba": 6, "palette": 3, "palette+alpha": 3}[kind]
    data = png_bomb(6000, 4000, color_type, palette=kind == "palette+alpha")
    image = PictureDecoder(max_pixels=30_000_000).decode(data, "png", 224)
    assert image.mode == "RGB" and 224 <= min(image.size) < 2 * 224 and image.size[0] > image.size[1]
    with pytest.raises(DecodeError, match="too large"):
        PictureDecoder(max_pixels=20_000_000).decode(data, "png", 224)


def test_at_most_n_pictures_decode_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    inside, most, lock = 0, 0, threading.Lock()
    pair = threading.Barrier(2, timeout=60)  # two must be inside together, or the limit were 1

    def slow_decode(*_args, **_kwargs) -> Image.Image:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        pair.wait()
        with lock:
            inside -= 1
        return Image.new("RGB", (8, 8))

    monkeypatch.setattr(pictures, "load_image", slow_decode)
    decoder = PictureDecoder(concurrency=2)
    threads = [threading.Thread(target=decoder.decode, args=(b"x", "png", 224)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert most == 2
