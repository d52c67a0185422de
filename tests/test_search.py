"""Search through the HNSW index: known answers, the query image first, filters, thresholds."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from engine.search.service import NotIndexed, PhotoNotFound
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_jpeg, make_library, make_noisy
from tests.tiny_models import COLORS

COLOR_FILES = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220), "yellow": (230, 220, 30)}


@pytest.fixture
def color_engine(tmp_path: Path, database_url: str, library: Path, color_model_dir: Path,
                 dask_cluster: ClusterHandle) -> Iterator[PhotoIndex]:
    settings = make_settings(tmp_path, database_url, library, color_model_dir)
    for name, rgb in COLOR_FILES.items():
        for i in range(3):
            make_noisy(library / name / f"{name}_{i}.jpg", (320 + 16 * i, 240), rgb, seed=i)
    make_library(library / "other")
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    engine.index()
    yield engine
    engine.close()


@pytest.mark.parametrize("query,color", [("red", "red"), ("a photo of green", "green"), ("blue", "blue"),
                                         ("красный", "red"), ("синий", "blue")])
def test_text_search_ranks_the_known_answer_first(color_engine: PhotoIndex, query: str, color: str) -> None:
    assert set(COLOR_FILES) <= set(COLORS)
    result = color_engine.search.text(query, model=TEST_MODEL, top_k=3)
    assert result.model == TEST_MODEL
    assert [h.path.split("/")[0] for h in result.hits] == [color] * 3
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_image_search_returns_the_query_image_first(engine: PhotoIndex, library: Path) -> None:
    files = make_library(library)
    engine.index()
    for fmt in ("jpg", "png", "heic"):
        path = files[fmt]
        result = engine.search.image(model=TEST_MODEL, image_bytes=path.read_bytes(), top_k=3)
        assert result.hits[0].path == path.relative_to(library).as_posix(), fmt
        assert result.hits[0].score == pytest.approx(1.0, abs=0.02)


def test_image_search_by_photo_id_leaves_the_photo_out(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    engine.index()
    first = engine.search.text("photo", model=TEST_MODEL, top_k=1).hits[0]
    result = engine.search.image(model=TEST_MODEL, photo_id=first.id, top_k=50)
    assert first.id not in [h.id for h in result.hits]
    assert len(result.hits) == engine.stats().embeddings[TEST_MODEL] - 1
    with pytest.raises(PhotoNotFound):
        engine.search.image(model=TEST_MODEL, photo_id=999_999)


def test_unindexed_photo_is_reported(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    engine.index()
    photo_id = engine.search.text("photo", model=TEST_MODEL, top_k=1).hits[0].id
    with pytest.raises(NotIndexed):
        engine.search.image(model="ViT-B/16", photo_id=photo_id)


def test_format_filter_and_threshold(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    engine.index()
    heic = engine.search.text("photo", model=TEST_MODEL, top_k=50, formats=["HEIC"])
    assert heic.hits and {h.format for h in heic.hits} == {"heic"}
    raw = engine.search.text("photo", model=TEST_MODEL, top_k=50, formats=["RAW"])
    assert {h.format for h in raw.hits} == {"dng"}
    everything = engine.search.text("photo", model=TEST_MODEL, top_k=50)
    cut = (everything.hits[0].score + everything.hits[-1].score) / 2
    above = engine.search.text("photo", model=TEST_MODEL, top_k=50, threshold=cut)
    assert 0 < len(above.hits) < len(everything.hits)
    assert all(h.score >= cut for h in above.hits)


def test_filtered_search_is_not_short(engine: PhotoIndex, library: Path) -> None:
    """HNSW with a selective filter still returns top_k rows (pgvector iterative scan)."""
    for i in range(150):
        make_jpeg(library / "many" / f"{i:03d}.jpg", size=(64, 48), color=(i, 255 - i, (7 * i) % 255))
    for i in range(12):
        make_jpeg(library / "few" / f"{i:02d}.jpg", size=(64, 48), color=(5, 5, 20 * i))
    make_library(library / "formats")
    engine.index()
    with engine.db.connection() as conn:
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
            "EXPLAIN SELECT photo_id FROM embeddings_vit_b32 ORDER BY embedding <=> "
            "(SELECT embedding FROM embeddings_vit_b32 LIMIT 1) LIMIT 5").fetchall())
    assert "hnsw" in plan.lower()
    webp = engine.search.text("photo", model=TEST_MODEL, top_k=10, formats=["WEBP", "BMP"])
    assert len(webp.hits) == 2
