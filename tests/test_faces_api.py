"""The faces and persons REST endpoints against the real server, engine, database and (tiny) models."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.db.database import open_database
from tests.conftest import TEST_MODEL
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401


@pytest.fixture
def client(face_engine: PhotoIndex, library: Path) -> Iterator[TestClient]:
    save_faces(library / "anna0.png", [("anna", 160, 160)])
    save_faces(library / "anna1.png", [("anna", 320, 240)])
    save_faces(library / "boris.png", [("boris", 320, 240)])
    save_faces(library / "both.png", [("anna", 160, 160), ("boris", 480, 320)])
    with TestClient(create_app(engine=face_engine)) as c:
        yield c


def wait_for_faces(client: TestClient, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.get("/faces/reindex/status").json()
        if status["job"] and not status["running"]:
            return status["job"]
        time.sleep(0.1)
    raise AssertionError(f"face indexing did not finish: {status}")


def index(client: TestClient) -> dict:
    client.post("/reindex")  # image-text vectors, for person + text
    started = client.post("/faces/reindex", json={"batch_size": 2})
    assert started.status_code == 202 and started.json()["kind"] == "faces"
    job = wait_for_faces(client)
    assert job["state"] == "done", job
    return job


def faces_of(client: TestClient, path: str) -> list[dict]:
    photo = client.post("/search/text", json={"query": "x", "top_k": 50}).json()["results"]
    pid = next(p["id"] for p in photo if p["path"] == path)
    answer = client.get(f"/photo/{pid}/faces").json()
    assert answer["photo_id"] == pid and answer["count"] == len(answer["faces"])
    return answer["faces"]


def test_index_assign_persons(client: TestClient) -> None:
    assert client.get("/faces/reindex/status").json() == {"running": False, "job": None}
    job = index(client)
    assert job["done"] == job["total"] == 4 and job["result"]["faces"] == 5
    stats = client.get("/faces/stats").json()
    assert stats["total_faces"] == 5 and stats["photos_indexed"] == 4 and stats["model"] == "tiny_pack"

    (anna0,) = faces_of(client, "anna0.png")
    assert anna0["bbox"] == [136, 136, 184, 184] and anna0["gender"] == "M" and anna0["age"] == 35
    assigned = client.post(f"/faces/{anna0['id']}/assign", json={"name": "Anna", "description": "sister"}).json()
    anna_id = assigned["person_id"]
    assert assigned["person_name"] == "Anna" and assigned["assigned_by"] == "user"

    dry = client.post(f"/persons/{anna_id}/auto-assign", json={"threshold": 0.9}).json()
    assert dry["dry_run"] and dry["count"] == 2 and dry["assigned"] == 0
    assert client.get(f"/persons/{anna_id}").json()["face_count"] == 1
    applied = client.post(f"/persons/{anna_id}/auto-assign", json={"threshold": 0.9, "dry_run": False}).json()
    assert applied["assigned"] == 2

    detail = client.get(f"/persons/{anna_id}").json()
    assert detail["face_count"] == 3 and detail["photo_count"] == 3 and detail["description"] == "sister"
    assert detail["cover_face"]["person_id"] == anna_id and len(detail["faces"]) == 3
    photos = client.get(f"/persons/{anna_id}/photos").json()
    assert photos["total"] == 3 and {p["path"] for p in photos["items"]} == {"anna0.png", "anna1.png", "both.png"}

    created = client.post("/persons", json={"name": "Boris"})
    assert created.status_code == 201
    boris_id = created.json()["id"]
    (boris_face,) = faces_of(client, "boris.png")
    client.post(f"/faces/{boris_face['id']}/assign", json={"person_id": boris_id})
    client.post(f"/persons/{boris_id}/auto-assign", json={"threshold": 0.9, "dry_run": False})
    together = client.get("/persons/together", params={"ids": [anna_id, boris_id]}).json()
    assert [p["path"] for p in together["items"]] == ["both.png"]
    assert client.get(f"/persons/{anna_id}/photos", params={"with": boris_id}).json()["total"] == 1

    clip = client.post("/search/person-clip", json={"query": "a photo", "person_id": boris_id, "top_k": 10}).json()
    assert clip["model"] == TEST_MODEL and {r["path"] for r in clip["results"]} == {"boris.png", "both.png"}
    both = client.post("/search/person-clip", json={"query": "a photo", "person_ids": [anna_id, boris_id]}).json()
    assert [r["path"] for r in both["results"]] == ["both.png"]

    listing = client.get("/persons", params={"search": "bor"}).json()
    assert listing["total"] == 1 and listing["items"][0]["name"] == "Boris"
    assert client.get("/persons", params={"limit": 1}).json()["items"][0]["name"] == "Anna"
    renamed = client.put(f"/persons/{boris_id}", json={"name": "Boris P"}).json()
    assert renamed["name"] == "Boris P" and renamed["description"] is None
    cleared = client.put(f"/persons/{anna_id}", json={"description": None}).json()
    assert cleared["name"] == "Anna" and cleared["description"] is None

    unassigned = client.delete(f"/faces/{boris_face['id']}/assign").json()
    assert unassigned["person_id"] is None
    merged = client.post(f"/persons/{boris_id}/merge/{anna_id}").json()
    assert merged["id"] == anna_id and merged["face_count"] == 4
    assert client.get(f"/persons/{boris_id}").status_code == 404
    assert client.delete(f"/persons/{anna_id}").status_code == 204
    assert client.get("/faces/stats").json()["assigned_faces"] == 0


def test_face_search_and_rotation(client: TestClient, library: Path) -> None:
    index(client)
    query = save_faces(library.parent / "query.png", [("boris", 320, 240)])
    found = client.post("/search/face", files={"file": ("q.png", query.read_bytes(), "image/png")},
                        data={"top_k": "2"}).json()
    assert found["chosen"] == 0 and len(found["query_faces"]) == 1
    assert {r["path"] for r in found["results"]} == {"boris.png", "both.png"} and found["results"][0]["score"] > 0.99

    (boris_face,) = faces_of(client, "boris.png")
    by_id = client.get(f"/search/face/by_id/{boris_face['id']}", params={"top_k": 1}).json()
    assert [r["path"] for r in by_id["results"]] == ["both.png"]

    none = save_faces(library.parent / "none.png", [])
    assert client.post("/search/face", files={"file": ("n.png", none.read_bytes(), "image/png")}).status_code == 422
    assert client.post("/search/face", files={"file": ("q.png", query.read_bytes(), "image/png")},
                       data={"face_index": "3"}).status_code == 422
    assert client.get("/search/face/by_id/999999").status_code == 404

    pid = boris_face["photo_id"]
    engine: PhotoIndex = client.app.state.engine
    with engine.db.connection() as conn:
        conn.execute("UPDATE photos SET exif_data = exif_data || '{\"UserRotation\": 90}' WHERE id = %s", (pid,))
    turned = client.get(f"/photo/{pid}/faces").json()
    assert turned["rotation"] == 90
    (face,) = turned["faces"]
    assert face["bbox_original"] == boris_face["bbox_original"] == [296, 216, 344, 264]
    assert face["bbox"] == [480 - 264, 296, 480 - 216, 344] and (face["image_width"], face["image_height"]) == (480, 640)

    redone = client.post(f"/photo/{pid}/faces/reindex", json={"det_threshold": 0.3}).json()
    assert redone["count"] == 1 and redone["faces"][0]["id"] == boris_face["id"]
    assert client.post("/photo/999999/faces/reindex", json={}).status_code == 404
    assert client.post(f"/photo/{pid}/faces/reindex", json={"det_threshold": 2}).status_code == 422


def test_suggestions_endpoints(client: TestClient) -> None:
    job = index(client)
    assert job["result"]["suggestions"]["new_suggestions"] == 2  # Anna's three faces and Boris's two, after indexing
    assert client.post("/faces/suggestions/update", json={"min_faces": 2}).json()["considered"] == 0  # nothing new
    page = client.get("/faces/suggestions").json()
    groups = page["items"]
    assert sorted((g["face_count"], g["photo_count"]) for g in groups) == [(2, 2), (3, 3)]
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    second = client.get("/faces/suggestions", params={"limit": 1, "offset": 1}).json()
    assert second["total"] == 2 and [g["id"] for g in second["items"]] == [groups[1]["id"]]
    assert client.get("/faces/stats").json()["suggestions"] == 2
    redone = client.post("/faces/suggestions/recluster").json()
    assert redone["new_suggestions"] == 2 and redone["considered"] == 5
    groups = client.get("/faces/suggestions").json()["items"]
    named = client.post(f"/faces/suggestions/{groups[0]['id']}/name", json={"name": "Anna"}).json()
    assert named["face_count"] == groups[0]["face_count"]
    assert client.post(f"/faces/suggestions/{groups[1]['id']}/dismiss").status_code == 204
    assert client.get("/faces/suggestions").json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert client.post(f"/faces/suggestions/{groups[1]['id']}/dismiss").status_code == 404


def test_errors_and_docs(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, dask_cluster) -> None:
    settings = face_settings(tmp_path, database_url, library, clip_model_dir, tmp_path / "missing-pack")
    with PhotoIndex(settings, open_database(settings), cluster=dask_cluster) as engine:
        with TestClient(create_app(engine=engine)) as client:
            missing = client.post("/faces/reindex")
            assert missing.status_code == 503 and "FACE_MODEL_DIR" in missing.json()["detail"]
            stats = client.get("/faces/stats").json()
            assert not stats["model_available"] and "FACE_MODEL_DIR" in stats["model_error"]
            assert client.get("/persons/5").status_code == 404
            assert client.post("/faces/5/assign", json={"name": "X"}).status_code == 404
            assert client.post("/persons", json={"name": ""}).status_code == 422
            assert client.post("/persons/1/merge/1").status_code == 422
            assert client.get("/photo/12345/faces").status_code == 404
            assert client.post("/search/person-clip", json={"query": "x", "person_id": 7}).status_code == 404
            schema = client.get("/openapi.json").json()
            for path in ("/faces/reindex", "/faces/reindex/status", "/faces/stats", "/photo/{photo_id}/faces",
                         "/search/face", "/search/face/by_id/{face_id}", "/search/person-clip", "/persons",
                         "/persons/{person_id}", "/persons/{person_id}/merge/{target_id}",
                         "/persons/{person_id}/photos", "/persons/{person_id}/auto-assign", "/faces/{face_id}/assign"):
                assert path in schema["paths"], path
            assert set(schema["paths"]["/persons/{person_id}"]) >= {"get", "put", "delete"}
            assert set(schema["paths"]["/faces/{face_id}/assign"]) >= {"post", "delete"}
