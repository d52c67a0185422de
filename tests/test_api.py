"""The REST API against the real engine and database."""
from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dashboard.server import create_app
from engine.app import PhotoIndex
from tests.conftest import TEST_MODEL
from tests.fixtures import make_bad_files, make_library


@pytest.fixture
def files(library: Path) -> dict[str, Path]:
    return make_library(library)


@pytest.fixture
def client(engine: PhotoIndex, files: dict[str, Path]) -> Iterator[TestClient]:
    with TestClient(create_app(engine=engine)) as c:
        yield c


def wait_for_job(client: TestClient, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        status = client.get("/reindex/status").json()
        seen.append(status)
        if status["job"] and not status["running"]:
            return {"final": status, "seen": seen}
        time.sleep(0.1)
    raise AssertionError(f"indexing did not finish: {seen[-1]}")


def test_reindex_then_search(client: TestClient, files: dict[str, Path], library: Path) -> None:
    make_bad_files(library / "bad")
    started = client.post("/reindex")
    assert started.status_code == 202
    assert started.json()["kind"] == f"index:{TEST_MODEL}"
    job = wait_for_job(client)["final"]["job"]
    assert job["state"] == "done", job
    assert job["done"] == job["total"] > len(files)
    assert job["failed"] > 0 and job["progress"] == 1.0

    stats = client.get("/stats").json()
    assert stats["total_photos"] == job["total"] and stats["failed_count"] == job["failed"]
    assert stats["embeddings"][TEST_MODEL] == len(files)

    text = client.post("/search/text", json={"query": "a photo", "top_k": 3}).json()
    assert text["model"] == TEST_MODEL and text["count"] == 3
    hit = text["results"][0]
    assert hit["thumbnail_url"] == f"/image/{hit['id']}/thumb"

    upload = client.post("/search/image", files={"file": ("q.jpg", files["jpg"].read_bytes(), "image/jpeg")},
                         data={"top_k": "2"}).json()
    assert upload["results"][0]["path"] == files["jpg"].relative_to(library).as_posix()

    by_path = client.post("/search/image", data={"path": files["webp"].relative_to(library).as_posix(), "top_k": "1"})
    assert by_path.json()["results"][0]["path"].endswith(".webp")

    by_id = client.post("/search/image", data={"photo_id": str(hit["id"]), "top_k": "50"}).json()
    assert hit["id"] not in [r["id"] for r in by_id["results"]]

    heic_only = client.post("/search/text", json={"query": "x", "top_k": 50, "formats": ["HEIC"]}).json()
    assert {r["format"] for r in heic_only["results"]} == {"heic"}


def test_search_pages_with_offset(client: TestClient, files: dict[str, Path]) -> None:
    wait_for_job(client) if client.post("/reindex").status_code == 202 else None
    everything = client.post("/search/text", json={"query": "a photo", "top_k": 50}).json()
    ranked = [r["id"] for r in everything["results"]]
    assert everything["offset"] == 0 and everything["next_offset"] is None and len(ranked) == len(files)
    pages, offset = [], 0
    while offset is not None:
        page = client.post("/search/text", json={"query": "a photo", "top_k": 2, "offset": offset}).json()
        assert page["offset"] == offset and page["count"] <= 2
        pages.append([r["id"] for r in page["results"]])
        offset = page["next_offset"]
    assert sum(pages, []) == ranked and len(pages) == -(-len(ranked) // 2)
    by_picture = client.post("/search/image", files={"file": ("q.jpg", files["jpg"].read_bytes(), "image/jpeg")},
                             data={"top_k": "1", "offset": "1"}).json()
    assert by_picture["offset"] == 1 and by_picture["next_offset"] == 2 and by_picture["count"] == 1
    assert client.post("/search/text", json={"query": "x", "offset": -1}).status_code == 422


def test_photo_and_images(client: TestClient, files: dict[str, Path]) -> None:
    wait_for_job(client) if client.post("/reindex").status_code == 202 else None
    hits = client.post("/search/text", json={"query": "x", "top_k": 50}).json()["results"]
    jpg = next(h for h in hits if h["format"] == "jpg")

    photo = client.get(f"/photo/{jpg['id']}").json()
    assert photo["latitude"] is not None and photo["indexed_models"] == [TEST_MODEL]
    assert photo["rotation"] == 0

    thumb = client.get(f"/image/{jpg['id']}/thumb")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.content))
    assert image.size == (400, 300)  # stored 600x800 with EXIF orientation 6, displayed 800x600
    assert image.getpixel((10, 10))[0] > 200  # the red marker is at the displayed top-left
    again = client.get(f"/image/{jpg['id']}/thumb", headers={"If-None-Match": thumb.headers["etag"]})
    assert again.status_code == 304

    full = Image.open(io.BytesIO(client.get(f"/image/{jpg['id']}/full").content))
    assert max(full.size) <= 2000 and full.size[0] >= image.size[0]

    assert client.get("/photo/999999").status_code == 404
    assert client.get("/image/999999/thumb").status_code == 404


def test_errors_are_clear(client: TestClient) -> None:
    assert client.post("/search/text", json={"query": "x", "model": "no-such-model"}).status_code == 400
    missing = client.post("/search/text", json={"query": "x", "model": "ViT-L/14"})
    assert missing.status_code == 503 and "MODEL_PATHS" in missing.json()["detail"]
    assert client.post("/reindex", params={"model": "ViT-L/14"}).status_code == 503
    assert client.post("/search/image", data={"top_k": "3"}).status_code == 422
    for attack in ("../../etc/passwd", "/etc/passwd", "a/../../x.jpg"):
        assert client.post("/search/image", data={"path": attack}).status_code == 403, attack
    junk = client.post("/search/image", files={"file": ("x.jpg", b"not an image at all", "image/jpeg")})
    assert junk.status_code == 422 and junk.json()["detail"]


def test_health_models_and_docs(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["database"] == "ok" and health["library_available"]
    models = {m["name"]: m for m in client.get("/models").json()}
    assert models[TEST_MODEL]["available"] and models[TEST_MODEL]["default"]
    assert not models["SigLIP"]["available"] and "MODEL_PATHS" in models["SigLIP"]["reason"]
    schema = client.get("/openapi.json").json()
    for path in ("/health", "/stats", "/models", "/search/text", "/search/image", "/photo/{photo_id}",
                 "/image/{photo_id}/thumb", "/image/{photo_id}/full", "/reindex", "/reindex/status"):
        assert path in schema["paths"], path
    assert "/" not in schema["paths"], "the dashboard's page is not part of the REST API"


def test_every_list_is_one_envelope(client: TestClient) -> None:
    """Lists answer {items, total, limit, offset} and take limit/offset; only the original's /models
    stays a bare array, as its clients read it."""
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    bare, envelopes = [], []
    for path, operations in schema["paths"].items():
        for verb, op in operations.items():
            ok = next((r for code, r in op["responses"].items() if code.startswith("2")), {})
            body = ok.get("content", {}).get("application/json", {}).get("schema", {})
            if body.get("type") == "array":
                bare.append(path)
            model = components.get(body.get("$ref", "").rsplit("/", 1)[-1], {})
            if "items" in model.get("properties", {}):
                envelopes.append(path)
                assert {"items", "total", "limit", "offset"} <= set(model["required"]), (path, model["required"])
                params = {p["name"] for p in op.get("parameters", [])}
                assert verb != "get" or {"limit", "offset"} <= params, (path, params)
    assert bare == ["/models"]
    assert {"/albums", "/faces/suggestions", "/persons", "/trash", "/library/offline", "/admin/jobs",
            "/admin/failed-files"} <= set(envelopes)
    assert client.get("/docs").status_code == 200


def test_request_bodies_and_jobs_are_documented_with_examples(client: TestClient) -> None:
    """/docs shows an example for every JSON body (each one a valid request) and for a job, whose
    times are ISO 8601 with the time zone."""
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    from dashboard.api import schemas

    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    bodies = set()
    for path, operations in schema["paths"].items():
        for op in operations.values():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            refs = [body.get("$ref")] + [alt.get("$ref") for alt in body.get("anyOf", [])]
            bodies |= {ref.rsplit("/", 1)[-1] for ref in refs if ref}
    assert {"TextSearchRequest", "PersonCreate", "DeleteDuplicatesRequest", "AlbumCreate"} <= bodies
    assert [name for name in sorted(bodies) if not components[name].get("examples")] == []
    modules = [importlib.import_module(f"{schemas.__name__}.{m.name}") for m in pkgutil.iter_modules(schemas.__path__)]
    models = {name: cls for module in modules for name, cls in inspect.getmembers(module)
              if inspect.isclass(cls) and issubclass(cls, BaseModel)}
    for name in bodies:
        for example in components[name]["examples"]:
            models[name].model_validate(example)
    job_schema = components["JobOut"]
    assert job_schema["examples"][0]["started_at"].endswith("Z")
    assert job_schema["properties"]["started_at"]["anyOf"][0]["format"] == "date-time"
    client.post("/reindex")
    job = wait_for_job(client)["final"]["job"]
    for moment in (job["started_at"], job["finished_at"]):
        assert datetime.fromisoformat(moment).utcoffset() is not None, moment

