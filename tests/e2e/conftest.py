"""A real server (uvicorn on 127.0.0.1, a free port) over an indexed little library, and headless Chromium.

The browser is Debian's `chromium` at /usr/bin/chromium driven by Playwright; nothing is downloaded.
Without it the browser tests skip with the reason.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.indexing.cluster import ClusterHandle
from tests.conftest import _with_database
from tests.face_fixtures import face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fixtures import make_jpeg, make_noisy
from tests.tiny_models import COLORS

CHROMIUM = os.environ.get("PHOTOINDEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def build_library(root: Path) -> dict[str, Path]:
    """Colours the tiny colour model knows (with GPS and dates), a near-duplicate, and tiny-model faces."""
    rgb = {name: COLORS[name][0] for name in ("red", "green", "blue", "yellow")}
    files = {
        "red": make_jpeg(root / "2023" / "sydney" / "red.jpg", (640, 480), rgb["red"], marker=None,
                         gps=(-33.8568, 151.2153, 10.0), taken_at=datetime(2023, 7, 14, 18, 30)),
        "red_copy": make_jpeg(root / "2023" / "sydney" / "red_copy.jpg", (640, 480), rgb["red"], marker=None,
                              quality=70, gps=(-33.8570, 151.2150, 10.0), taken_at=datetime(2023, 7, 14, 18, 31)),
        "green": make_jpeg(root / "2024" / "paris" / "green.jpg", (640, 480), rgb["green"], marker=None,
                           gps=(48.8584, 2.2945, 30.0), taken_at=datetime(2024, 5, 1, 9, 15)),
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, pg_server: str, color_model_dir: Path, tiny_face_pack: Path,
         dask_cluster: ClusterHandle) -> Iterator[Live]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package `chromium`); browser tests skipped")
    try:
        import playwright.sync_api  # noqa: F401
        import uvicorn
    except ImportError as exc:
        pytest.skip(f"browser tests need playwright and uvicorn: {exc}")
    from dashboard.server import create_app

    name = f"photoindex_e2e_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    tmp = tmp_path_factory.mktemp("e2e")
    library = tmp / "library"
    files = build_library(library)
    settings = face_settings(tmp, _with_database(pg_server, name), library, color_model_dir, tiny_face_pack,
                             host="127.0.0.1")
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    engine.index()
    engine.faces.index()
    engine.faces.clusters.update()
    engine.library.index_phash()

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port, log_level="warning",
                                           ws_max_size=64 * 1024 * 1024))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", engine, library, files)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.close()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def shot(page: object, name: str) -> None:
    """Save a screenshot under docs/screenshots (PHOTOINDEX_SCREENSHOTS=0 turns this off)."""
    if os.environ.get("PHOTOINDEX_SCREENSHOTS", "1") == "0":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # type: ignore[attr-defined]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None
