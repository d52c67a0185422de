"""Albums through the REST API."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.indexing.scan import scan_library
from tests.fixtures import make_library
from tests.library_fixtures import ids_by_path


def test_album_lifecycle(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    scan_library(engine.db, library)
    ids = sorted(ids_by_path(engine).values())
    with TestClient(create_app(engine=engine)) as client:
        created = client.post("/albums", json={"name": "  Summer  ", "description": "beach", "photo_ids": ids[:2]})
        assert created.status_code == 201, created.text
        album = created.json()
        assert album["name"] == "Summer" and album["photo_count"] == 2
        assert album["cover_photo_id"] in ids[:2] and album["cover_url"] == f"/image/{album['cover_photo_id']}/thumb"
        other = client.post("/albums", json={"name": "Winter"}).json()
        assert other["photo_count"] == 0 and other["cover_photo_id"] is None and other["cover_url"] is None

        added = client.post(f"/albums/{album['id']}/photos", json={"photo_ids": [ids[1], ids[2], ids[3]]}).json()
        assert added == {"album_id": album["id"], "changed": 2, "photo_count": 4}
        detail = client.get(f"/albums/{album['id']}").json()
        assert [p["id"] for p in detail["photos"]] == ids[:4]
        assert detail["cover_photo_id"] == max(ids[2], ids[3])  # the latest added photo, no explicit cover

        assert client.put(f"/albums/{album['id']}", json={"cover_photo_id": ids[0]}).json()["cover_photo_id"] == ids[0]
        assert client.put(f"/albums/{album['id']}", json={"cover_photo_id": ids[5]}).status_code == 404  # not in album
        renamed = client.put(f"/albums/{album['id']}", json={"name": "Summer 2023"}).json()
        assert renamed["name"] == "Summer 2023" and renamed["description"] == "beach"

        removed = client.request("DELETE", f"/albums/{album['id']}/photos", json={"photo_ids": [ids[0], 999_999]}).json()
        assert removed["changed"] == 1 and removed["photo_count"] == 3
        assert client.get(f"/albums/{album['id']}").json()["cover_photo_id"] != ids[0]  # the cover left with it

        assert client.post(f"/albums/{album['id']}/photos", json={"photo_ids": [999_999]}).status_code == 404
        assert client.get(f"/albums/{album['id']}").json()["photo_count"] == 3
        listed = client.get("/albums").json()
        assert {a["name"] for a in listed["items"]} == {"Summer 2023", "Winter"}
        assert (listed["total"], listed["limit"], listed["offset"]) == (2, 100, 0)
        found = client.get("/albums", params={"search": "summ"}).json()
        assert [a["name"] for a in found["items"]] == ["Summer 2023"] and found["total"] == 1
        page = client.get("/albums", params={"limit": 1, "offset": 1}).json()
        assert len(page["items"]) == 1 and page["total"] == 2 and page["items"][0]["name"] != listed["items"][0]["name"]

        assert client.delete(f"/albums/{other['id']}").status_code == 204
        assert client.get(f"/albums/{other['id']}").status_code == 404
        assert client.delete(f"/albums/{other['id']}").status_code == 404
        assert client.post("/albums", json={"name": "   "}).status_code == 422
        assert client.get(f"/photo/{ids[0]}").status_code == 200  # photos outlive their albums
