"""The multilingual default (SigLIP2) on a library already indexed with another model: search keeps
using the indexed model until SigLIP2 has caught up, says so, and Admin and /health name the model
that serves. Real engine, PostgreSQL, a random-weight SigLIP 2 (1152-d, Gemma tokenizer)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from dashboard.views.admin import AdminView
from dashboard.views.common import Context
from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.library.duplicates import NoEmbeddings
from engine.runtime.cluster import ClusterHandle
from tests.synthetic_models import build_random_model
from engine.search.serving import choose_serving
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_jpeg


@pytest.fixture(scope="module")
def siglip2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_model("siglip", tmp_path_factory.mktemp("siglip2"), embed_dim=1152, tokenizer="gemma")


@pytest.fixture
def upgraded(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, siglip2_dir: Path,
             dask_cluster: ClusterHandle) -> Iterator[PhotoIndex]:
    """An install indexed with TEST_MODEL, then given the new default CLIP_MODEL=SigLIP2."""
    for i, rgb in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)]):
        make_jpeg(library / f"p{i}.jpg", (64, 48), rgb)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir)
    with PhotoIndex(settings, open_database(settings), cluster=dask_cluster) as old:
        old.index()
    settings = settings.model_copy(update={"clip_model": "SigLIP2",
                                           "model_paths": {TEST_MODEL: clip_model_dir, "SigLIP2": siglip2_dir}})
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    yield engine
    engine.close()


def test_indexed_model_serves_until_the_default_has_caught_up(upgraded: PhotoIndex) -> None:
    with TestClient(create_app(engine=upgraded)) as client:
        health = client.get("/health").json()
        assert health["default_model"] == "SigLIP2" and health["search_model"] == TEST_MODEL
        assert "CLIP_MODEL=SigLIP2 (0 of 3 photos" in health["search_note"]
        assert f"Search uses <b>{TEST_MODEL}</b>" in AdminView(Context(upgraded))._models_html()

        body = client.post("/search/text", json={"query": "закат", "top_k": 3}).json()
        assert body["model"] == TEST_MODEL and body["count"] == 3
        notes = "\n".join(body["notes"])
        assert f"searching with {TEST_MODEL} until the library is indexed with CLIP_MODEL=SigLIP2" in notes
        assert "trained on English only" in notes  # the stand-in is English-only: Russian is flagged too
        assert client.post("/search/text", json={"query": "закат", "model": "SigLIP2"}).json()["count"] == 0

        report = upgraded.index()  # the new default indexes the library; search moves over at once
        assert not report.warnings
        body = client.post("/search/text", json={"query": "закат", "top_k": 3}).json()
        assert body["model"] == "SigLIP2" and body["count"] == 3 and body["notes"] == []
        health = client.get("/health").json()
        assert health["search_model"] == "SigLIP2" and health.get("search_note") is None  # left out when there is nothing to say
        assert "Search uses <b>SigLIP2</b></div>" in AdminView(Context(upgraded))._models_html()


def test_serving_choice() -> None:
    weights = {"SigLIP2", "ViT-B/32"}.__contains__
    assert choose_serving("SigLIP2", {"SigLIP2": 5, "ViT-B/32": 5}, weights).name == "SigLIP2"
    behind = choose_serving("SigLIP2", {"SigLIP2": 4, "SigLIP": 9, "ViT-B/32": 5}, weights)
    assert (behind.name, behind.indexed, behind.configured_indexed) == ("ViT-B/32", 5, 4)  # SigLIP: no weights
    assert choose_serving("SigLIP2", {"SigLIP2": 0, "SigLIP": 9}, weights).name == "SigLIP2"  # nothing else can
    assert choose_serving("SigLIP2", {"SigLIP2": 0, "SigLIP": 0}, weights).note is None


def test_duplicates_by_embedding_compare_the_vectors_that_exist(upgraded: PhotoIndex) -> None:
    """CLIP_MODEL=SigLIP2 has no vectors yet: duplicates by embedding use the model serving search,
    not SigLIP2's empty table (which answered "index them first" to a fully indexed library)."""
    for method in ("clip", "all"):
        report = upgraded.library.duplicates(method, threshold=0.99)
        assert report.model == TEST_MODEL
        assert not any("image-text signal is not used" in note for note in report.notes), report.notes
    with pytest.raises(NoEmbeddings, match="no photo has SigLIP2 image vectors"):  # a named model is used as is
        upgraded.library.duplicates("clip", model="SigLIP2")
    upgraded.index()
    assert upgraded.library.duplicates("clip", threshold=0.99).model == "SigLIP2"
