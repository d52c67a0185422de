"""/photos/near (photos by a point or a place name) and /image/{id}/original (the file as it is), which
the Telegram bot's /map and "original" button use."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from tests.fixtures import make_library

EIFFEL, OPERA_HOUSE = (48.8584, 2.2945), (-33.8568, 151.2153)


@pytest.fixture
def files(library: Path) -> dict[str, Path]:
    return make_library(library)


@pytest.fixture
def client(engine: PhotoIndex, files: dict[str, Path]) -> Iterator[TestClient]:
    engine.index()
    with TestClient(create_app(engine=engine)) as c:
        yield c


def test_photos_near_a_point_are_nearest_first(client: TestClient) -> None:
    lat, lon = EIFFEL
    near = client.get("/photos/near", params={"lat": lat + 0.01, "lon": lon, "radius_km": 3}).json()
    assert near["total"] == 1 and [p["path"] for p in near["items"]] == ["phone/2024/IMG_0001.heic"]
    assert 1.0 < near["items"][0]["distance_km"] < 1.3 and near["items"][0]["place"].startswith("Paris")

    world = client.get("/photos/near", params={"lat": OPERA_HOUSE[0], "lon": OPERA_HOUSE[1], "radius_km": 20000})
    paths = [p["path"] for p in world.json()["items"]]
    assert paths == ["2023/summer/beach.jpg", "phone/2024/IMG_0001.heic"]  # the photo without GPS is not there

    second = client.get("/photos/near", params={"lat": OPERA_HOUSE[0], "lon": OPERA_HOUSE[1], "radius_km": 20000,
                                                "limit": 1, "offset": 1}).json()
    assert second["total"] == 2 and [p["path"] for p in second["items"]] == paths[1:]
    assert second["limit"] == 1 and second["offset"] == 1

    nowhere = client.get("/photos/near", params={"lat": 0, "lon": -30, "radius_km": 50}).json()
    assert nowhere == {"total": 0, "limit": 20, "offset": 0, "items": []}


@pytest.mark.parametrize("place", ["Paris", "Париж", "france"])
def test_photos_in_a_named_place(client: TestClient, place: str) -> None:
    found = client.get("/photos/near", params={"place": place}).json()
    assert [p["path"] for p in found["items"]] == ["phone/2024/IMG_0001.heic"]
    assert found["items"][0]["distance_km"] is None


@pytest.mark.parametrize("params", [{}, {"lat": 1}, {"lat": 1, "lon": 2, "place": "Paris"}, {"lat": 91, "lon": 0}])
def test_photos_near_wants_a_point_or_a_place(client: TestClient, params: dict) -> None:
    answer = client.get("/photos/near", params=params)
    assert answer.status_code == 422


def test_the_original_file_comes_as_it_is(client: TestClient, files: dict[str, Path]) -> None:
    hits = client.post("/search/text", json={"query": "x", "top_k": 50}).json()["results"]
    heic = next(h for h in hits if h["path"].endswith(".heic"))
    answer = client.get(f"/image/{heic['id']}/original")
    assert answer.status_code == 200 and answer.content == files["heic"].read_bytes()
    assert 'filename="IMG_0001.heic"' in answer.headers["content-disposition"]
    assert client.get("/image/999999/original").status_code == 404
    files["heic"].unlink()
    gone = client.get(f"/image/{heic['id']}/original")
    assert gone.status_code == 404 and "gone" in gone.json()["detail"]
