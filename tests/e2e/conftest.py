"""A real server (uvicorn on 127.0.0.1, a free port) over an indexed little library, and headless Chromium.

The library is indexed once per session and copied (files and database) for every test, so each
test starts from the same state whatever ran before it. Map tiles come from a fake tile server.
The browser is Debian's `chromium` at /usr/bin/chromium driven by Playwright; nothing is downloaded.
Without it the browser tests skip with the reason. Screenshots go to a temporary folder, or to
PHOTOINDEX_SCREENSHOTS: `PHOTOINDEX_SCREENSHOTS=docs/screenshots ./dev test tests/e2e` refreshes
the committed ones.
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from PIL.TiffImagePlugin import IFDRational

from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from tests.conftest import _with_database
from tests.face_fixtures import face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fakes.servers import serve
from tests.fakes.tiles import FakeTiles
from tests.fixtures import make_jpeg, make_noisy
from tests.tiny_models import COLORS

CHROMIUM = os.environ.get("PHOTOINDEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1")


def build_library(root: Path) -> dict[str, Path]:
    """Colours the tiny colour model knows (with GPS and dates), a near-duplicate, and tiny-model faces."""
    rgb = {name: COLORS[name][0] for name in ("red", "green", "blue", "yellow")}
    files = {
        "red": make_jpeg(root / "2023" / "sydney" / "red.jpg", (640, 480), rgb["red"], marker=None,
                         gps=(-33.8568, 151.2153, 10.0), taken_at=datetime(2023, 7, 14, 18, 30)),
        "red_copy": make_jpeg(root / "2023" / "sydney" / "red_copy.jpg", (640, 480), rgb["red"], marker=None,
                              quality=70, gps=(-33.8570, 151.2150, 10.0), taken_at=datetime(2023, 7, 14, 18, 31)),
        "green": make_jpeg(root / "2024" / "paris" / "green.jpg", (640, 480), rgb["green"], marker=None,
                           gps=(48.8584, 2.2945, 30.0), taken_at=datetime(2024, 5, 1, 9, 15), make="Canon",
                           model="Canon EOS R6", lens="RF24-105mm F4 L IS USM",
                           exif={"ExposureTime": IFDRational(1, 250), "FNumber": IFDRational(8, 1),
                                 "ISOSpeedRatings": 200, "FocalLength": IFDRational(35, 1)}),
        "blue": make_jpeg(root / "2022" / "nyc" / "blue.jpg", (480, 640), rgb["blue"], marker=None,
                          gps=(40.7128, -74.0060, 5.0), taken_at=datetime(2022, 1, 2, 3, 4)),
        "yellow": make_noisy(root / "misc" / "yellow.png", (400, 300), rgb["yellow"], seed=3),
    }
    for i in range(2):
        files[f"red_{i}"] = make_noisy(root / "misc" / f"red_{i}.jpg", (320 + 16 * i, 240), rgb["red"], seed=i)
        files[f"blue_{i}"] = make_noisy(root / "misc" / f"blue_{i}.jpg", (320 + 16 * i, 240), rgb["blue"], seed=i)
    files["anna0"] = save_faces(root / "people" / "anna0.png", [("anna", 160, 160)])
    files["anna1"] = save_faces(root / "people" / "anna1.png", [("anna", 320, 240)])
    files["anna2"] = save_faces(root / "people" / "anna2.png", [("anna", 480, 320)])
    files["boris"] = save_faces(root / "people" / "boris.png", [("boris", 320, 240)])
    files["both"] = save_faces(root / "people" / "both.png", [("anna", 160, 160), ("boris", 480, 320)])
    return files


@dataclass
class Live:
    url: str
    engine: PhotoIndex
    library: Path
    files: dict[str, Path]
    tiles: FakeTiles


@dataclass(frozen=True)
class Pristine:
    """An indexed library (files, vectors, faces, suggestions, pHash) that every test starts from."""

    database: str
    library: Path
    files: dict[str, Path]


def _create_database(pg_server: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _with_database(pg_server, name)


@pytest.fixture(scope="session")
def browser_ready() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package `chromium`); browser tests skipped")
    try:
        import playwright.sync_api  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"browser tests need playwright and uvicorn: {exc}")


@pytest.fixture(scope="session")
def pristine(browser_ready: None, tmp_path_factory: pytest.TempPathFactory, pg_server: str, color_model_dir: Path,
             tiny_face_pack: Path, dask_cluster: ClusterHandle) -> Pristine:
    """Indexed once per session; each test gets a copy (`live`), so no test sees another's changes."""
    name = f"photoindex_e2e_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    tmp = tmp_path_factory.mktemp("e2e-pristine")
    library = tmp / "library"
    files = build_library(library)
    settings = face_settings(tmp, _create_database(pg_server, name), library, color_model_dir, tiny_face_pack)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        engine.index()
        with engine.db.connection() as conn:  # the tiny face model sees faces in any red patch: people only
            conn.execute("UPDATE photos SET faces_indexed = true WHERE path NOT LIKE 'people/%'")
        engine.faces.index()
        engine.faces.clusters.update()
        engine.library.index_phash()
    finally:
        engine.close()  # a template database must have no connections
    return Pristine(name, library, files)


@pytest.fixture(scope="session")
def tiles(browser_ready: None) -> Iterator[tuple[str, FakeTiles]]:
    fake = FakeTiles()
    with serve(fake.app()) as url:
        yield url, fake


_copies = itertools.count()


@pytest.fixture
def live(pristine: Pristine, tiles: tuple[str, FakeTiles], tmp_path: Path, pg_server: str, color_model_dir: Path,
         tiny_face_pack: Path, dask_cluster: ClusterHandle) -> Iterator[Live]:
    """A real server on a free 127.0.0.1 port over a fresh copy of the pristine library and database."""
    from dashboard.server import create_app

    library = tmp_path / "library"
    shutil.copytree(pristine.library, library)
    database = _create_database(pg_server, f"{pristine.database}_{next(_copies)}", template=pristine.database)
    tiles_url, fake_tiles = tiles
    fake_tiles.requests.clear()
    settings = face_settings(tmp_path, database, library, color_model_dir, tiny_face_pack, host="127.0.0.1",
                             map_tiles_url=tiles_url + "/{Z}/{X}/{Y}.png", map_tiles_attribution="test tiles")
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    files = {key: library / path.relative_to(pristine.library) for key, path in pristine.files.items()}
    try:
        with serve(create_app(engine=engine)) as url:
            yield Live(url, engine, library, files, fake_tiles)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def browser(browser_ready: None) -> Iterator[object]:
    """Per module: Playwright's sync API keeps an event loop running in this thread while it is open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def screenshots_dir() -> Path:
    """PHOTOINDEX_SCREENSHOTS (e.g. docs/screenshots, to refresh the committed ones), else a temporary folder."""
    chosen = os.environ.get("PHOTOINDEX_SCREENSHOTS")
    folder = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "photoindex-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: object, name: str) -> None:
    """Save a screenshot of the page as it is now, to look at (see `screenshots_dir`)."""
    page.wait_for_timeout(400)  # type: ignore[attr-defined]
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"))  # type: ignore[attr-defined]


@pytest.fixture
def first_run(pristine: Pristine, tmp_path: Path, pg_server: str, tiny_face_pack: Path,
              dask_cluster: ClusterHandle) -> Iterator[Live]:
    """A new user's first start, offline: the library's files, an empty database, no image-text
    weights (the configured SigLIP is missing), and a tile server that cannot be reached. The
    server's start-up indexing job scans the files and reads their metadata."""
    from dashboard.server import create_app
    from engine.config import Settings

    library = tmp_path / "library"
    shutil.copytree(pristine.library, library)
    database = _create_database(pg_server, f"{pristine.database}_first_{next(_copies)}")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=database, photos_dir=library,
                        clip_model="SigLIP", clip_device="cpu", models_dir=tmp_path / "no-models", host="127.0.0.1",
                        index_on_start=True, face_model_dir=tiny_face_pack, face_model_download=False,
                        face_min_size=10, map_tiles_url="http://127.0.0.1:9/{Z}/{X}/{Y}.png")
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    files = {key: library / path.relative_to(pristine.library) for key, path in pristine.files.items()}
    try:
        with serve(create_app(engine=engine)) as url:
            yield Live(url, engine, library, files, FakeTiles())
    finally:
        engine.close()
