"""What the notebooks compute: the bounded embedding sample, the map's projection, search quality, previews."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.app import PhotoIndex
from engine.errors import Invalid
from engine.explore import projection
from engine.explore.previews import data_uri, strip
from engine.explore.quality import check_labels, evaluate
from engine.search.service import PhotoNotFound
from tests.conftest import TEST_MODEL
from tests.fixtures import make_library
from tests.test_search import color_engine  # noqa: F401


def test_the_sample_is_bounded_repeatable_and_whole_when_small(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    engine.index()
    whole = engine.embedding_sample(limit=100)
    assert whole.model == TEST_MODEL and whole.total == len(whole.vectors) == 6
    assert [v.id for v in whole.vectors] == sorted(v.id for v in whole.vectors)
    part = engine.embedding_sample(TEST_MODEL, limit=4, seed=7)
    assert part.total == 6 and len(part.vectors) == 4
    assert [v.id for v in part.vectors] == [v.id for v in engine.embedding_sample(limit=4, seed=7).vectors]
    assert {v.id for v in part.vectors} < {v.id for v in whole.vectors}
    by_id = {v.id: v.vector for v in whole.vectors}
    assert all(np.array_equal(v.vector, by_id[v.id]) for v in part.vectors)
    with pytest.raises(Invalid):
        engine.embedding_sample(limit=0)


def test_thumbnail_and_photos_at(engine: PhotoIndex, library: Path) -> None:
    files = make_library(library)
    engine.index()
    path = files["jpg"].relative_to(library).as_posix()
    (photo,) = engine.photos_at([path, "no/such.jpg"])
    assert photo.path == path
    with Image.open(io.BytesIO(engine.thumbnail(photo.id))) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 400
    with pytest.raises(PhotoNotFound):
        engine.thumbnail(10**9)


def test_search_quality_on_known_answers(color_engine: PhotoIndex) -> None:  # noqa: F811
    labels = {"red": [f"red/red_{i}.jpg" for i in range(3)], "green": ["blue/blue_0.jpg", "green/green_1.jpg"],
              "blue": ["blue/blue_2.jpg", "other/missing.jpg"]}
    usable, unknown = check_labels(labels, {p.path for p in color_engine.photos_at([p for v in labels.values() for p in v])})
    assert unknown == ["other/missing.jpg"] and usable["blue"] == ("blue/blue_2.jpg",)

    def rank(query: str) -> list[str]:
        return [h.path for h in color_engine.search.text(query, model=TEST_MODEL, top_k=20).hits]

    result = evaluate(TEST_MODEL, rank, usable, k=3, depth=20)
    red, green, blue = result.queries
    assert red.recall == 1.0 and red.reciprocal_rank == 1.0 and red.misses == []
    assert green.recall == 0.5 and green.ranks["green/green_1.jpg"] <= 3  # green_1 in the first 3, blue_0 not
    assert green.reciprocal_rank == 1 / green.ranks["green/green_1.jpg"]
    ((missed, at),) = green.misses
    assert missed == "blue/blue_0.jpg" and at is not None and at > 3
    assert blue.recall == 1.0
    assert result.recall == pytest.approx(2.5 / 3)
    assert result.mrr == pytest.approx((1 + green.reciprocal_rank + blue.reciprocal_rank) / 3)

def test_quality_of_a_ranking() -> None:
    ranking = ["a", "b", "a", "c", "d"]
    result = evaluate("m", lambda q: ranking, {"q1": ["c", "x"], "q2": ["d"], "q3": ["b"]}, k=2, depth=4)
    q1, q2, q3 = result.queries
    assert q1.ranks == {"c": 4, "x": None} and q1.recall == 0.0 and q1.reciprocal_rank == 0.25
    assert q2.ranks == {"d": None} and q2.reciprocal_rank == 0.0  # beyond the depth
    assert q3.recall == 1.0 and q3.reciprocal_rank == 0.5
    assert result.mrr == pytest.approx(0.25) and result.recall == pytest.approx(1 / 3)
    assert evaluate("m", lambda q: [], {}).recall == 0.0
    with pytest.raises(ValueError):
        evaluate("m", lambda q: ranking, {"q": []})
    with pytest.raises(ValueError):
        evaluate("m", lambda q: ranking, {"q": ["a"]}, k=5, depth=3)


def test_small_samples_and_missing_umap_fall_back_to_pca(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    small = projection.project(rng.normal(size=(10, 8)))
    assert small.method == "PCA" and small.xy.shape == (10, 2)
    assert projection.project(np.zeros((0, 8))).xy.shape == (0, 2)
    assert np.array_equal(projection.project(np.ones((1, 8))).xy, np.zeros((1, 2)))
    line = projection.pca(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))
    assert abs(line[2, 0] - line[0, 0]) == pytest.approx(2 * np.sqrt(2), rel=1e-5) and np.allclose(line[:, 1], 0)
    monkeypatch.setattr(projection, "umap_available", lambda: False)
    many = projection.project(rng.normal(size=(80, 8)))
    assert many.method == "PCA" and many.xy.shape == (80, 2) and "umap-learn is not installed" in many.note
    with pytest.raises(ValueError):
        projection.project(np.ones((3, 2)), method="tsne")


def test_umap_maps_a_large_enough_sample() -> None:
    pytest.importorskip("umap", reason="umap-learn comes with the [notebooks] extra")
    rng = np.random.default_rng(0)
    clusters = np.concatenate([rng.normal(loc, 0.05, size=(30, 16)) for loc in (-1.0, 1.0)])
    mapped = projection.project(clusters)
    assert mapped.method == "UMAP" and mapped.xy.shape == (60, 2) and np.isfinite(mapped.xy).all()
    a, b = mapped.xy[:30].mean(axis=0), mapped.xy[30:].mean(axis=0)
    spread = max(mapped.xy[:30].std(axis=0).max(), mapped.xy[30:].std(axis=0).max())
    assert np.linalg.norm(a - b) > 3 * spread, "two separate clusters stay apart on the map"


def test_previews_are_small_and_escaped() -> None:
    out = io.BytesIO()
    Image.new("RGB", (800, 400), (200, 30, 30)).save(out, "JPEG")
    uri = data_uri(out.getvalue(), 64)
    assert uri.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as small:
        assert small.size == (64, 32)
    html = strip([(uri, "<script>alert(1)</script>.jpg\nrank 3"), (None, "gone.jpg")])
    assert "<script>" not in html and "&lt;script&gt;" in html and "<br>rank 3" in html
    assert html.count("<img") == 1 and "gone.jpg" in html
