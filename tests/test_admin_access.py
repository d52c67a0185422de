"""Access control in its three modes, and reads that stay consistent while an indexing job runs."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.api.access import access_mode
from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from engine.indexing.scan import scan_library
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_library
from tests.library_fixtures import ids_by_path, make_scene, sha256

TOKEN = "s3cret-token"


@pytest.fixture
def serve(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path, dask_cluster: ClusterHandle):
    """Open a server with some settings; the library is scanned so ids exist."""
    make_library(library)
    opened: list[PhotoIndex] = []

    def open_with(**extra) -> tuple[TestClient, PhotoIndex]:
        settings = make_settings(tmp_path, database_url, library, clip_model_dir, **extra)
        engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
        opened.append(engine)
        scan_library(engine.db, library)
        return TestClient(create_app(engine=engine)), engine

    yield open_with
    for engine in opened:
        engine.close()


def requests_to_protect(photo_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/image/{photo_id}/thumb", {}),
        ("GET", f"/image/{photo_id}/full", {}),
        ("POST", "/photos/delete", {"json": {"image_ids": [photo_id]}}),
        ("POST", f"/photo/{photo_id}/rotate", {"json": {"degrees": 90}}),
        ("POST", "/albums", {"json": {"name": "x"}}),
        ("POST", "/admin/failed-files/reset", {"json": {}}),
        ("POST", "/admin/shutdown-flag", {"json": {"enabled": False}}),
        ("POST", "/reindex", {}),
        ("GET", f"/photo/{photo_id}", {}),
        ("GET", "/stats", {}),
    ]


def test_modes() -> None:
    assert access_mode(Settings(_env_file=None)) == "open"
    assert access_mode(Settings(_env_file=None, host="localhost")) == "open"
    assert access_mode(Settings(_env_file=None, host="::1")) == "open"
    assert access_mode(Settings(_env_file=None, host="0.0.0.0")) == "locked"
    assert access_mode(Settings(_env_file=None, host="192.168.1.5")) == "locked"
    assert access_mode(Settings(_env_file=None, host="0.0.0.0", api_token="  ")) == "locked"
    assert access_mode(Settings(_env_file=None, host="0.0.0.0", api_token=TOKEN)) == "token"
    assert access_mode(Settings(_env_file=None, api_token=TOKEN)) == "token"


def test_loopback_without_token_is_open(serve, library: Path) -> None:
    client, engine = serve(host="127.0.0.1")
    with client:
        photo_id = min(ids_by_path(engine).values())
        assert client.get(f"/image/{photo_id}/thumb").status_code == 200
        assert client.post("/albums", json={"name": "x"}).status_code == 201


def test_network_host_without_token_is_locked(serve) -> None:
    client, engine = serve(host="0.0.0.0")
    with client:
        photo_id = min(ids_by_path(engine).values())
        before = {p: sha256(engine.settings.photos_dir / p) for p in ids_by_path(engine)}
        for method, url, kwargs in requests_to_protect(photo_id):
            answer = client.request(method, url, **kwargs)
            assert answer.status_code == 403 and "API_TOKEN" in answer.json()["detail"], (method, url)
        assert client.get("/health").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        assert {p: sha256(engine.settings.photos_dir / p) for p in ids_by_path(engine)} == before
        with engine.db.connection() as conn:
            assert conn.execute("SELECT count(*) AS n FROM albums").fetchone()["n"] == 0


def test_token_is_required_and_accepted(serve) -> None:
    client, engine = serve(host="0.0.0.0", api_token=TOKEN)
    with client:
        photo_id = min(ids_by_path(engine).values())
        for method, url, kwargs in requests_to_protect(photo_id):
            assert client.request(method, url, **kwargs).status_code == 401, (method, url)
            wrong = client.request(method, url, headers={"Authorization": "Bearer nope"}, **kwargs)
            assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert client.get("/health").status_code == 200

        assert client.get(f"/image/{photo_id}/thumb", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert client.get(f"/image/{photo_id}/thumb", headers={"X-API-Token": TOKEN}).status_code == 200
        assert client.get(f"/image/{photo_id}/full", params={"token": TOKEN}).status_code == 200
        assert client.get("/stats", cookies={"photoindex_token": TOKEN}).status_code == 200
        created = client.post("/albums", json={"name": "x"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert created.status_code == 201
        schema = client.get("/openapi.json").json()
        assert {"HTTPBearer", "APIKeyHeader"} <= set(schema["components"]["securitySchemes"])


def test_reads_stay_consistent_during_an_indexing_job(tmp_path: Path, database_url: str, library: Path,
                                                      clip_model_dir: Path, dask_cluster: ClusterHandle) -> None:
    for i in range(48):
        make_scene(library / f"batch{i % 4}" / f"{i:03d}.jpg", (1600, 1200), seed=100 + i)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    scan_library(engine.db, library)
    seen: dict[int, list[dict]] = {}
    problems: list[str] = []
    try:
        with TestClient(create_app(engine=engine)) as client:
            job = client.post("/reindex").json()
            running_reads = 0

            def reader(n: int) -> None:
                nonlocal running_reads
                mine = seen.setdefault(n, [])
                while True:
                    state = engine.jobs.get(job["id"]).state
                    stats = client.get("/stats")
                    search = client.post("/search/text", json={"query": "a photo", "top_k": 100})
                    if stats.status_code != 200 or search.status_code != 200:
                        problems.append(f"{stats.status_code} {search.status_code} {search.text[:200]}")
                        return
                    s, hits = stats.json(), search.json()["results"]
                    mine.append({"embedded": s["embeddings"][TEST_MODEL], "total": s["total_photos"], "hits": len(hits)})
                    for hit in hits[:3]:
                        photo = client.get(f"/photo/{hit['id']}")
                        if photo.status_code != 200 or TEST_MODEL not in photo.json()["indexed_models"]:
                            problems.append(f"hit {hit['id']} -> {photo.status_code} {photo.text[:200]}")
                    if state == "running":
                        running_reads += 1
                    if state not in ("queued", "running"):
                        return

            threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            final = engine.jobs.get(job["id"])
            assert final.state == "done", final
            assert not problems, problems
            assert running_reads > 0  # reads did overlap the job
            for rows in seen.values():
                # the search ran after the stats: it finds at least every photo counted, never a partial row
                assert all(r["total"] == 48 and r["embedded"] <= r["hits"] <= 48 for r in rows), rows
                # each reader saw the count of indexed photos only grow, up to all of them
                assert [r["embedded"] for r in rows] == sorted(r["embedded"] for r in rows)
                assert rows[-1]["embedded"] == 48
    finally:
        engine.close()


def test_a_page_opened_with_the_token_keeps_it_in_a_cookie(serve) -> None:
    """The dashboard is opened once as /?token=...; its <img> requests then carry the cookie."""
    client, engine = serve(host="0.0.0.0", api_token=TOKEN)
    with client:
        photo_id = min(ids_by_path(engine).values())
        assert client.get("/stats", params={"token": "wrong"}).status_code == 401
        assert "photoindex_token" not in client.cookies
        page = client.get("/stats", params={"token": TOKEN})
        assert page.status_code == 200 and "httponly" in page.headers["set-cookie"].lower()
        assert client.get(f"/image/{photo_id}/thumb").status_code == 200  # the cookie alone now


def test_the_dashboard_and_its_websocket_need_the_token(serve) -> None:
    """The Panel page and the websocket its session runs over are behind the same check as the REST routes."""
    from starlette.testclient import WebSocketDenialResponse

    client, engine = serve(host="0.0.0.0", api_token=TOKEN)
    with client:
        assert client.get("/").status_code == 401
        for cookies in ({}, {"photoindex_token": "wrong"}):
            client.cookies.clear()
            client.cookies.update(cookies)
            with pytest.raises(WebSocketDenialResponse) as denied:
                with client.websocket_connect("/ws", subprotocols=["bokeh", "any-session-token"]):
                    pass
            assert denied.value.status_code == 401

        client.cookies.clear()
        page = client.get("/", params={"token": TOKEN})
        assert page.status_code == 200
        session_token = re.search(r'"token":\s*"([^"]+)"', page.text).group(1)
        with client.websocket_connect("/ws", subprotocols=["bokeh", session_token]) as ws:
            ack = ws.receive_text()  # Bokeh's ACK header: the session is open
        assert '"msgtype":"ACK"' in ack.replace(" ", "")
