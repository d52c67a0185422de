"""Multi-model Reciprocal Rank Fusion, metadata filters (B3) and places, on real PostgreSQL with
a tiny colour-trained CLIP (ViT-B/32 slot) and a random tiny CLIP (ViT-B/16 slot)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.geo.places import backfill
from engine.runtime.cluster import ClusterHandle
from engine.search.filters import SearchFilters
from engine.search.fusion import rrf
from engine.search.service import NoModelIndexed
from engine.search.service_types import SearchHit
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import build_exif, make_noisy

OTHER = "ViT-B/16"
PARIS, PHNOM_PENH, SYDNEY = (48.8584, 2.2945), (11.5625, 104.916), (-33.8568, 151.2153)
COLORS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220), "yellow": (230, 220, 30)}
# name -> (gps, taken_at, (make, model))
META = {
    "red_0": (PARIS, datetime(2023, 7, 14, 12), ("Apple", "iPhone 15")),
    "red_1": (PHNOM_PENH, datetime(2024, 1, 10, 9), ("NIKON CORPORATION", "NIKON D750")),
    "red_2": (None, datetime(2021, 5, 1, 8), ("Canon", "Canon EOS R")),
    "blue_0": (PARIS, datetime(2023, 7, 20, 18), ("Apple", "iPhone 15")),
    "blue_1": (SYDNEY, datetime(2022, 12, 25, 10), None),
    "blue_2": (None, None, None),
}


def _photo(path: Path, rgb: tuple[int, int, int], seed: int, meta) -> None:
    make_noisy(path, (320, 240), rgb, seed=seed)
    if meta is None:
        return
    gps, taken_at, camera = meta
    exif = build_exif(gps=gps, taken_at=taken_at, make=camera[0] if camera else None,
                      model=camera[1] if camera else None)
    Image.open(path).convert("RGB").save(path, "JPEG", quality=92, exif=exif.tobytes())


@pytest.fixture
def fusion_engine(tmp_path: Path, database_url: str, library: Path, color_model_dir: Path, clip_model_dir: Path,
                  dask_cluster: ClusterHandle) -> Iterator[PhotoIndex]:
    settings = make_settings(tmp_path, database_url, library, color_model_dir)
    settings = settings.model_copy(update={"model_paths": {TEST_MODEL: color_model_dir, OTHER: clip_model_dir}})
    for name, rgb in COLORS.items():
        for i in range(3 if name in ("red", "blue") else 2):
            _photo(library / name / f"{name}_{i}.jpg", rgb, i, META.get(f"{name}_{i}"))
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    engine.index(TEST_MODEL)
    engine.index(OTHER, scan=False)
    yield engine
    engine.close()


def _hit(i: int, score: float = 0.5) -> SearchHit:
    return SearchHit(i, f"{i}.jpg", score, "jpg", None, None, None)


def test_rrf_scores_and_order() -> None:
    a = [_hit(1, 0.9), _hit(2, 0.8), _hit(3, 0.7)]
    b = [_hit(3, 0.6), _hit(1, 0.5), _hit(4, 0.4)]
    fused = rrf({"A": a, "B": b}, k=60)
    assert [h.id for h in fused] == [1, 3, 2, 4]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert fused[0].model_scores == {"A": 0.9, "B": 0.5} and fused[0].model_ranks == {"A": 1, "B": 2}
    assert fused[2].model_scores == {"A": 0.8}
    # a weight of 0 leaves a model out of the order; a heavier model wins
    assert [h.id for h in rrf({"A": a, "B": b}, weights={"B": 0})][:3] == [1, 2, 3]
    assert [h.id for h in rrf({"A": a, "B": b}, weights={"B": 3}, top_k=2)] == [3, 1]
    # a small k rewards the very top more than a large one does
    assert rrf({"A": [_hit(1)], "B": [_hit(2), _hit(3)]}, k=1)[0].score > rrf({"A": [_hit(1)]}, k=100)[0].score
    with pytest.raises(ValueError):
        rrf({"A": a}, k=0)


def test_multi_model_fusion(fusion_engine: PhotoIndex) -> None:
    search = fusion_engine.search
    assert set(search.indexed_models()) == {TEST_MODEL, OTHER}
    fused = search.multi_text("red", top_k=3, weights={OTHER: 0})
    assert fused.model == "rrf" and set(fused.models) == {TEST_MODEL, OTHER} and fused.rrf_k == 60
    assert [h.path.split("/")[0] for h in fused.hits] == ["red"] * 3
    assert all(set(h.model_scores) == {TEST_MODEL, OTHER} for h in fused.hits)
    everything = search.multi_text("red", top_k=10)
    assert len(everything.hits) == 10 and len({h.id for h in everything.hits}) == 10
    assert everything.hits[0].score == pytest.approx(sum(1 / (60 + r) for r in everything.hits[0].model_ranks.values()))
    scores = [h.score for h in everything.hits]
    assert scores == sorted(scores, reverse=True)

    only = search.multi_text("blue", models=[TEST_MODEL, "ViT-L/14"], top_k=4, k=10)
    assert only.models == (TEST_MODEL,) and only.rrf_k == 10 and any("ViT-L/14" in n for n in only.notes)
    single = search.text("blue", model=TEST_MODEL, top_k=4)
    assert [h.id for h in only.hits] == [h.id for h in single.hits]

    seed = single.hits[0].id
    similar = search.multi_image(photo_id=seed, top_k=5)
    assert seed not in [h.id for h in similar.hits] and set(similar.models) == {TEST_MODEL, OTHER}
    with pytest.raises(NoModelIndexed):
        search.multi_text("red", models=["ViT-L/14"])


def test_places_are_geocoded_offline_and_refreshed(fusion_engine: PhotoIndex) -> None:
    with fusion_engine.db.connection() as conn:
        rows = {r["path"]: r for r in conn.execute(
            "SELECT path, place_country, place_country_code, place_city, place_metro, place_geocoded FROM photos")}
    assert rows["red/red_0.jpg"]["place_country"] == "France"
    # the Eiffel Tower's nearest locality is a suburb; the big city around it is what people ask for
    assert rows["red/red_0.jpg"]["place_city"] != "Paris" and rows["red/red_0.jpg"]["place_metro"] == "Paris"
    assert rows["blue/blue_1.jpg"]["place_metro"] == "Sydney" and rows["red/red_1.jpg"]["place_metro"] == "Phnom Penh"
    assert rows["red/red_1.jpg"]["place_country"] == "Cambodia"
    assert rows["blue/blue_1.jpg"]["place_country_code"] == "AU"
    assert rows["red/red_2.jpg"]["place_country"] is None and not rows["red/red_2.jpg"]["place_geocoded"]
    with fusion_engine.db.connection() as conn:  # a new position forgets the old place (trigger) ...
        conn.execute("UPDATE photos SET latitude = %s, longitude = %s WHERE path = 'red/red_0.jpg'", SYDNEY)
        row = conn.execute("SELECT place_country, place_geocoded FROM photos WHERE path = 'red/red_0.jpg'").fetchone()
    assert row == {"place_country": None, "place_geocoded": False}
    assert backfill(fusion_engine.db).geocoded == 1  # ... and the backfill finds the new one
    with fusion_engine.db.connection() as conn:
        row = conn.execute("SELECT place_country FROM photos WHERE path = 'red/red_0.jpg'").fetchone()
    assert row["place_country"] == "Australia"


def test_the_big_city_migration_looks_every_place_up_again(fusion_engine: PhotoIndex) -> None:
    """A library geocoded before migration 005 gets its big cities at the next backfill, and keeps its
    places (filters, the assistant's vocabulary) until then."""
    from engine.db.migrations import available_migrations
    from engine.geo.places import known_places

    (metro_migration,) = [m for m in available_migrations() if m.name == "place_metro"]
    with fusion_engine.db.connection() as conn:
        conn.execute("UPDATE photos SET place_metro = NULL")  # as geocoded before 005
        conn.execute(metro_migration.path.read_text())
        pending = conn.execute("SELECT count(*) AS n FROM photos WHERE NOT place_geocoded AND latitude IS NOT NULL"
                               ).fetchone()["n"]
    assert pending == 4
    assert {p.country for p in known_places(fusion_engine.db)} == {"France", "Cambodia", "Australia"}
    assert backfill(fusion_engine.db).geocoded == 4
    assert "Paris" in {p.metro for p in known_places(fusion_engine.db)}


def _paths(result) -> set[str]:
    return {h.path.rsplit("/", 1)[-1].removesuffix(".jpg") for h in result.hits}


def test_metadata_filters_in_every_search(fusion_engine: PhotoIndex) -> None:
    s = fusion_engine.search
    france = SearchFilters(places=("france",))
    assert _paths(s.text("red", model=TEST_MODEL, top_k=20, filters=france)) == {"red_0", "blue_0"}
    paris = SearchFilters(places=("paris",))
    assert _paths(s.text("red", model=TEST_MODEL, top_k=20, filters=paris)) == {"red_0", "blue_0"}
    assert _paths(s.text("red", model=TEST_MODEL, top_k=20, filters=SearchFilters(places=("Phnom Penh",)))) == {"red_1"}
    assert _paths(s.multi_text("red", top_k=20, filters=SearchFilters(cameras=("iphone",)))) == {"red_0", "blue_0"}
    july = SearchFilters(date_from=date(2023, 7, 1), date_to=date(2023, 7, 14))
    assert _paths(s.text("blue", model=TEST_MODEL, top_k=20, filters=july)) == {"red_0"}  # date_to is inclusive
    assert _paths(s.text("x", model=TEST_MODEL, top_k=20, filters=SearchFilters(date_from=date(2024, 1, 1)))) == {"red_1"}
    red_1 = next(h.id for h in s.text("red", model=TEST_MODEL, top_k=20).hits if h.path.endswith("red_1.jpg"))
    album = fusion_engine.library.albums.create("Trip", photo_ids=[red_1])
    in_album = SearchFilters(album_ids=(album.id,))
    assert _paths(s.image(model=TEST_MODEL, photo_id=red_1, top_k=20, filters=SearchFilters(places=("France",)))) == {"red_0", "blue_0"}
    assert _paths(s.multi_image(photo_id=red_1, top_k=20, filters=in_album)) == set()  # the photo itself is left out
    assert _paths(s.multi_text("anything", top_k=20, filters=in_album)) == {"red_1"}
    both = SearchFilters(places=("France",), cameras=("nikon",))
    assert s.text("red", model=TEST_MODEL, filters=both).hits == []
    filtered = s.text("red", model=TEST_MODEL, filters=france)
    assert filtered.filters == {"places": ["france"]}


def test_rest_multi_model_filters_and_translation_fallback(fusion_engine: PhotoIndex) -> None:
    with TestClient(create_app(engine=fusion_engine)) as client:
        body = client.post("/search/text", json={"query": "red", "multi_model": True, "top_k": 3,
                                                 "weights": {OTHER: 0}}).json()
        assert body["multi_model"] and body["model"] == "rrf" and set(body["models"]) == {TEST_MODEL, OTHER}
        assert [r["path"].split("/")[0] for r in body["results"]] == ["red"] * 3
        assert set(body["results"][0]["model_scores"]) == {TEST_MODEL, OTHER}
        body = client.post("/search/text", json={"query": "red", "places": ["France"], "cameras": ["iPhone"],
                                                 "date_from": "2023-07-15", "top_k": 10}).json()
        assert [r["path"] for r in body["results"]] == ["blue/blue_0.jpg"]
        assert body["filters"]["places"] == ["France"] and body["multi_model"] is False
        # no key: the query is used as typed and the answer says so
        body = client.post("/search/text", json={"query": "красный", "translate": True, "top_k": 3}).json()
        assert body["translated_query"] is None and any("TRANSLATE_API_KEY" in n for n in body["notes"])
        assert [r["path"].split("/")[0] for r in body["results"]] == ["red"] * 3
        pid = body["results"][0]["id"]
        image = client.post("/search/image", data={"photo_id": str(pid), "multi_model": "true", "places": "France",
                                                   "top_k": "10"}).json()
        assert image["model"] == "rrf" and pid not in [r["id"] for r in image["results"]]
        assert {r["path"] for r in image["results"]} <= {"red/red_0.jpg", "blue/blue_0.jpg"}
        bad = client.post("/search/text", json={"query": "red", "multi_model": True, "models": ["ViT-L/14"]})
        assert bad.status_code == 409
