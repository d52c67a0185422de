"""Every request of the original's API table (../shared/seed, "API" and "cURL"), with the original's verbs,
query strings and bodies, against the real server: a client written for the original works unchanged."""
from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
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


def finished(client: TestClient, status_path: str, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(status_path).json()
        if status["job"] and not status["running"]:
            assert status["job"]["state"] == "done", status
            return status["job"]
        time.sleep(0.1)
    raise AssertionError(f"{status_path} never finished: {status}")


def ok(response, *fields: str) -> dict:
    assert 200 <= response.status_code < 300, (response.request.method, response.request.url, response.text[:500])
    body = response.json() if response.content else {}
    missing = [f for f in fields if f not in body]
    assert not missing, f"{response.request.method} {response.request.url.path} lacks {missing}: {body}"
    return body


def picture(path: Path) -> tuple[str, bytes, str]:
    buffer = io.BytesIO()
    Image.open(path).convert("RGB").save(buffer, "JPEG")
    return (path.stem + ".jpg", buffer.getvalue(), "image/jpeg")


def test_the_original_api_table_replayed(client: TestClient, library: Path) -> None:
    ok(client.get("/health"), "status", "database")
    assert isinstance(ok(client.get("/stats"), "total_photos", "failed_count")["failed_count"], int)
    assert TEST_MODEL in {m["name"] for m in client.get("/models").json()}

    # indexing: the default model, then one by name, each followed by its status
    ok(client.post("/reindex"), "id", "kind")
    assert finished(client, "/reindex/status")["done"] == 4
    ok(client.post(f"/reindex?model={TEST_MODEL}"), "id")
    finished(client, "/reindex/status")

    # faces, with the settings in the query string as the original's curl example sends them
    ok(client.post("/faces/reindex?skip_indexed=true&batch_size=8"), "id")
    assert finished(client, "/faces/reindex/status")["done"] == 4
    ok(client.post("/faces/reindex?skip_indexed=false&batch_size=8"), "id")
    assert finished(client, "/faces/reindex/status")["done"] == 4, "skip_indexed=false re-detects every photo"
    assert ok(client.get("/faces/stats"), "total_faces")["total_faces"] == 5

    # search by text (translated or not) and by a picture
    hits = ok(client.post("/search/text", json={"query": "кошка на диване", "top_k": 10}), "results")["results"]
    assert len(hits) == 4 and {"id", "path", "score"} <= hits[0].keys()
    ok(client.post("/search/text", json={"query": "кошка на диване", "top_k": 10, "translate": False}), "results")
    ok(client.post("/search/text", json={"query": "sunset", "top_k": 10, "multi_model": True}), "results")
    ok(client.post("/search/image", files={"file": picture(library / "anna0.png")}), "results")

    # a photo, its faces with boxes, its pictures
    both = next(h for h in hits if h["path"] == "both.png")
    ok(client.get(f"/photo/{both['id']}"), "id", "path", "width", "height")
    faces = ok(client.get(f"/photo/{both['id']}/faces"), "faces")["faces"]
    assert len(faces) == 2 and all("bbox" in f for f in faces)
    for size in ("thumb", "full"):
        image = client.get(f"/image/{both['id']}/{size}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    # persons, as in the original's examples
    tanya = ok(client.post("/persons", json={"name": "Таня", "description": "Моя сестра"}), "id", "name")
    other = ok(client.post("/persons", json={"name": "Борис"}), "id")
    listed = ok(client.get("/persons"), "items")["items"]
    assert {"Таня", "Борис"} <= {p["name"] for p in listed}
    assert [p["name"] for p in ok(client.get("/persons?search=Тан&limit=10&offset=0"), "items")["items"]] == ["Таня"]
    ok(client.get(f"/persons/{tanya['id']}"), "id", "name")
    ok(client.put(f"/persons/{tanya['id']}", json={"name": "Таня", "description": "сестра"}), "id")
    ok(client.post(f"/faces/{faces[0]['id']}/assign", json={"person_id": tanya["id"]}), "id")
    ok(client.post(f"/faces/{faces[1]['id']}/assign", json={"person_id": other["id"]}), "id")
    ok(client.delete(f"/faces/{faces[1]['id']}/assign"), "id")
    ok(client.post(f"/faces/{faces[1]['id']}/assign", json={"name": "Новый"}), "id")
    ok(client.get(f"/persons/{tanya['id']}/photos"))
    ok(client.post(f"/persons/{tanya['id']}/auto-assign"))

    # face search: an uploaded face, a stored face by id (POST, the original's verb), person + text
    ok(client.post("/search/face", files={"file": picture(library / "anna1.png")}), "results")
    by_id = ok(client.post(f"/search/face/by_id/{faces[0]['id']}"), "results")
    assert by_id == ok(client.get(f"/search/face/by_id/{faces[0]['id']}"), "results")
    ok(client.post(f"/search/face/by_id/{faces[0]['id']}", json={"top_k": 5}), "results")
    ok(client.post("/search/person-clip", json={"person_id": tanya["id"], "query": "в горах", "top_k": 20}), "results")

    # the AI helpers work without a key (the offline parser)
    ok(client.post("/ai/clip-prompt", json={"query": "кошка на диване"}))
    ok(client.post("/ai/assistant", json={"query": "фото Тани летом"}))
    assert ok(client.post("/ai/search-assistant", json={"query": "Таня в горах"}), "parsed", "search")["search"]["results"]

    # admin
    ok(client.get("/admin/gpu/stats"), "available")
    ok(client.get("/admin/models/status"))
    ok(client.post("/admin/models/warm", json={"model": TEST_MODEL}))
    ok(client.post("/admin/models/unload", json={"model": TEST_MODEL}))
    ok(client.get("/admin/failed-files?limit=10"))
    ok(client.post("/admin/failed-files/reset", json={}), "reset")
    ok(client.post("/admin/index-all"), "jobs")
    ok(client.get("/admin/index-all/status"), "running")
    ok(client.get("/admin/cache/stats"))
    ok(client.post("/admin/cache/warm"), "id")
    flag = ok(client.post("/admin/shutdown-flag", json={"enabled": True}), "enabled")
    assert flag["enabled"] and "QUEUE_EMPTY_COMMAND" in flag["note"], "the flag is kept and says nothing would run"
    assert ok(client.get("/admin/shutdown-flag"), "enabled")["enabled"]
    client.post("/admin/shutdown-flag", json={"enabled": False})
    client.post("/admin/index-all/cancel")
    for job in client.get("/admin/jobs").json()["items"]:
        if job["state"] in ("queued", "running"):
            client.post(f"/admin/jobs/{job['id']}/cancel")

    # duplicates: find, then find-and-delete
    ok(client.post("/duplicates", json={}), "groups")
    ok(client.request("DELETE", "/duplicates", json={}), "groups")

    # last: move one photo to the trash
    moved = ok(client.post("/photos/delete", json={"image_ids": [both["id"]]}))
    assert client.get(f"/photo/{both['id']}").status_code == 404, moved
