"""Shared fixtures: a real PostgreSQL + pgvector server, a fresh database per test, tiny models,
a Dask cluster shared by the session, and engines wired to all of them."""
from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="photoindex-hf-")  # never a developer's real model cache
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,::1,testserver")  # TestClient's Host is `testserver`

from engine.app import PhotoIndex  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db.database import open_database  # noqa: E402
from engine.runtime.cluster import ClusterHandle  # noqa: E402

TEST_MODEL = "ViT-B/32"
_db_numbers = itertools.count()
_OWN_BASETEMP = "photoindex_own_basetemp"


def pytest_configure(config: pytest.Config) -> None:
    """Each session gets a temp folder of its own. pytest's default numbered folders are shared by
    every session of a user and only the newest three are kept: a second test run on the machine
    (another checkout, a parallel job) deleted a running session's database from under it."""
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="photoindex-tests-")
        setattr(config, _OWN_BASETEMP, True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A passing session removes its folder; a failing one keeps it for a look (pytest prints paths)."""
    config = session.config
    if getattr(config, _OWN_BASETEMP, False) and exitstatus == 0:
        import shutil

        shutil.rmtree(config.option.basetemp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URI of a PostgreSQL server for the session: PHOTOINDEX_TEST_DATABASE_URL, or an embedded one."""
    external = os.environ.get("PHOTOINDEX_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from engine.db.embedded import start_embedded_server, stop_embedded_server

    server = start_embedded_server(tmp_path_factory.mktemp("pgdata"))
    yield server.uri
    stop_embedded_server(server.data_dir)


def _with_database(uri: str, name: str) -> str:
    base, _, query = uri.partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/{name}" + (f"?{query}" if query else "")


@pytest.fixture
def database_url(pg_server: str) -> str:
    """A new, empty database on the session server for each test."""
    name = f"photoindex_test_{os.getpid()}_{next(_db_numbers)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(pg_server, name)


@pytest.fixture(scope="session")
def clip_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight CLIP of the real architecture, small, with ViT-B/32's 512-d output."""
    from tests.synthetic_models import build_random_model

    return build_random_model("clip", tmp_path_factory.mktemp("clip-tiny"), size="tiny", embed_dim=512)


@pytest.fixture(scope="session")
def color_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny CLIP trained to match colour words to colours: search answers are known."""
    from tests.tiny_models import train_color_model

    return train_color_model(tmp_path_factory.mktemp("clip-colors"), "clip", embed_dim=512)


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[ClusterHandle]:
    handle = ClusterHandle(Settings(dask_decode_workers=2, clip_device="cpu"))
    yield handle
    handle.close()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    root.mkdir()
    return root


def make_settings(tmp_path: Path, database_url: str, library: Path, model_dir: Path, **extra) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        photos_dir=library,
        clip_model=TEST_MODEL,
        clip_device="cpu",
        model_paths={TEST_MODEL: model_dir},
        decode_batch_size=4,
        clip_batch_size=8,
        index_on_start=False,
        **extra,
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> Settings:
    return make_settings(tmp_path, database_url, library, clip_model_dir)


@pytest.fixture
def engine(settings: Settings, dask_cluster: ClusterHandle) -> Iterator[PhotoIndex]:
    index = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    yield index
    index.close()


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The real-world files in ../shared/testdata (PHOTOINDEX_TESTDATA overrides); skip if absent."""
    default = Path(__file__).resolve().parents[2] / "shared" / "testdata"
    root = Path(os.environ.get("PHOTOINDEX_TESTDATA", default))
    if not root.is_dir():
        pytest.skip(f"no shared test data at {root}")
    return root
