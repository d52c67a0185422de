"""Fixtures for the faces tests: a tiny ONNX face pack, engines wired to it, pictures of tiny faces."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from tests.conftest import make_settings
from tests.fixtures import build_exif, stored_for
from tests.tiny_face_models import build_tiny_pack, draw_faces


@pytest.fixture(scope="session")
def tiny_face_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pack(tmp_path_factory.mktemp("tiny-faces") / "tiny_pack")


def face_settings(tmp_path: Path, database_url: str, library: Path, clip_dir: Path, pack: Path | None, **extra) -> Settings:
    extra.setdefault("face_model_download", False)
    extra.setdefault("face_min_size", 10)
    extra.setdefault("face_batch_size", 4)
    return make_settings(tmp_path, database_url, library, clip_dir, face_model_dir=pack, **extra)


@pytest.fixture
def face_engine(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, tiny_face_pack: Path,
                dask_cluster: ClusterHandle) -> Iterator[PhotoIndex]:
    settings = face_settings(tmp_path, database_url, library, clip_model_dir, tiny_face_pack)
    index = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    yield index
    index.close()


def save_faces(path: Path, faces: list[tuple[str, int, int]], *, size: tuple[int, int] = (640, 480),
               background: tuple[int, int, int] = (128, 128, 128), orientation: int | None = None) -> Path:
    """A picture of tiny-model faces as displayed; PNG (exact colours), or JPEG stored under an EXIF orientation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image: Image.Image = draw_faces(faces, size, background)
    if orientation is None:
        image.save(path, "PNG")
    else:
        stored_for(image, orientation).save(path, "JPEG", quality=97, exif=build_exif(orientation=orientation).tobytes())
    return path
