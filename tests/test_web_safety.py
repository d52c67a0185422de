"""No web page, link or URL can harm the library: Panel's resource route, Host/Origin checks on
every route, the token moved out of URLs and logs, and what /health tells a stranger."""
from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from engine.indexing.scan import scan_library
from tests.conftest import make_settings
from tests.fakes.servers import serve
from tests.fixtures import make_library

TOKEN = "s3cret-token-value"
EVIL = "http://evil.example"


@pytest.fixture
def client(engine: PhotoIndex, library: Path) -> Iterator[TestClient]:
    make_library(library)
    scan_library(engine.db, library)
    with TestClient(create_app(engine=engine)) as c:
        yield c


@pytest.fixture
def token_engine(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path,
                 dask_cluster: ClusterHandle) -> Iterator[PhotoIndex]:
    make_library(library)
    settings = make_settings(tmp_path, database_url, library, clip_model_dir, host="0.0.0.0", api_token=TOKEN)
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    scan_library(engine.db, library)
    yield engine
    engine.close()


def schema_operations(client: TestClient) -> list[tuple[str, str]]:
    """(method, url) of every operation in the OpenAPI schema, path parameters filled with 1."""
    schema = client.get("/openapi.json").json()
    return [(method.upper(), re.sub(r"\{[^}]+\}", "1", path))
            for path, item in schema["paths"].items() for method in item if method != "parameters"]


# --- 1. Panel's component-resource route ---------------------------------------------------

def test_component_route_imports_nothing_and_the_server_lives_on(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    assert "this" not in sys.modules
    with serve(create_app(engine=engine)) as url:
        import httpx

        with httpx.Client(base_url=url, trust_env=False) as http:
            for path in ("/components/photoindex.__main__/x/_css/y", "/components/this/x/_css/y",
                         "/components/os/path/_css/x", "/components/panel/x"):
                answer = http.get(path)
                assert answer.status_code == 404, (path, answer.status_code, answer.text)
            assert http.get("/health").status_code == 200  # the server did not exit
            css = http.get("/components/panel.template.bootstrap/BootstrapTemplate/_css/bootstrap.css")
            assert css.status_code == 200 and "{" in css.text  # the page's own resources still load
            unlisted = http.get("/components/panel.template.bootstrap/BootstrapTemplate/_css/../../__init__.py")
            assert unlisted.status_code in (403, 404)
    assert "this" not in sys.modules


def test_every_main_module_is_guarded() -> None:
    for package in ("photoindex", "bot", "dashboard", "engine"):
        main = Path(__file__).resolve().parents[1] / package / "__main__.py"
        if main.exists():
            assert 'if __name__ == "__main__":' in main.read_text(), main


# --- 2. Host and Origin ----------------------------------------------------------------------

def test_every_route_refuses_a_foreign_host_and_a_foreign_origin(client: TestClient, engine: PhotoIndex) -> None:
    operations = schema_operations(client)
    assert len(operations) >= 40
    for method, url in operations:
        host = client.request(method, url, headers={"host": "evil.example"})
        assert host.status_code == 400 and "ALLOWED_HOSTS" in host.json()["detail"], (method, url, host.text)
        origin = client.request(method, url, headers={"origin": EVIL})
        assert origin.status_code == 403, (method, url, origin.status_code)
        if method not in ("GET", "HEAD"):
            referer = client.request(method, url, headers={"referer": EVIL + "/page.html"})
            assert referer.status_code == 403, (method, url, referer.status_code)
            null = client.request(method, url, headers={"origin": "null"})
            assert null.status_code == 403, (method, url)
    for url in ("/", "/components/panel/x/_css/y"):  # the Panel page and routes outside the schema
        assert client.get(url, headers={"host": "evil.example:8000"}).status_code == 400
    with engine.db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM albums").fetchone()["n"] == 0


def test_a_form_posted_from_another_site_changes_nothing(client: TestClient, engine: PhotoIndex) -> None:
    form = {"headers": {"origin": EVIL, "content-type": "application/x-www-form-urlencoded"}, "content": "name=x"}
    assert client.post("/albums", **form).status_code == 403
    assert client.post("/persons/1/merge/2", **form).status_code == 403
    cross_site_img = client.get("/image/1/full", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"})
    assert cross_site_img.status_code == 403
    with engine.db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM albums").fetchone()["n"] == 0
    # the same requests from the server's own pages, or from a script with no Origin, pass
    own = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    assert client.post("/albums", json={"name": "mine"}, headers=own).status_code == 201
    assert client.post("/albums", json={"name": "script"}).status_code == 201
    link = client.get("/health", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate",
                                          "referer": EVIL + "/"})
    assert link.status_code == 200  # following a link from another site opens the page


def test_a_websocket_from_another_site_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws", headers={"origin": EVIL}):
            pass
    assert refused.value.code == 1008


def test_host_names_come_from_the_settings() -> None:
    from dashboard.api.same_origin import host_allowed, same_origin

    default = Settings(_env_file=None, allowed_hosts="localhost,127.0.0.1,::1")
    assert all(host_allowed(default, h) for h in ("localhost:8000", "127.0.0.1", "[::1]:8000", "192.168.1.5:8000"))
    assert not any(host_allowed(default, h) for h in ("evil.example", "localhost.evil.example", "", "photos.lan"))
    named = Settings(_env_file=None, host="photos.lan", allowed_hosts="localhost")
    assert host_allowed(named, "photos.lan:8000") and host_allowed(named, "PHOTOS.LAN")
    wildcard = Settings(_env_file=None, host="0.0.0.0", allowed_hosts="localhost")
    assert not host_allowed(wildcard, "0.0.0.0.evil.example")
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000", "http")
    assert same_origin("http://localhost", "localhost:80", "http")
    assert not same_origin("http://127.0.0.1:9000", "127.0.0.1:8000", "http")
    assert not same_origin("null", "127.0.0.1:8000", "http")


# --- 5. the token in URLs and logs ------------------------------------------------------------

def test_a_dashboard_visit_leaves_no_token_in_the_url_or_the_log(token_engine: PhotoIndex) -> None:
    import httpx

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error")]
    with serve(create_app(engine=token_engine)) as url, httpx.Client(trust_env=False, timeout=120) as http:
        for logger in loggers:  # after uvicorn configured its logging (it replaces handlers)
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        try:
            page = http.get(f"{url}/?token={TOKEN}", headers={"accept": "text/html", "sec-fetch-mode": "navigate"})
            assert page.status_code == 303 and page.headers["location"] == "/"
            cookie = page.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert http.get(url + "/").status_code == 200  # with the cookie
            image = http.get(f"{url}/image/1/thumb?token={TOKEN}&v=2")  # an <img> keeps working with ?token=
            assert image.status_code == 200
            assert httpx.get(f"{url}/stats?token=wrong", trust_env=False).status_code == 401  # no cookie jar
        finally:
            for logger in loggers:
                logger.removeHandler(handler)
    text = log.getvalue()
    assert '"GET /?token=[redacted] HTTP/1.1" 303' in text, text
    assert "/image/1/thumb?token=[redacted]&v=2" in text
    assert TOKEN not in text and "wrong" not in text


def test_redaction_covers_websocket_lines() -> None:
    from dashboard.log_redaction import RedactCredentials

    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5", f"/ws?bokeh-autoload=1&token={TOKEN}"), None)
    RedactCredentials().filter(record)
    assert TOKEN not in record.getMessage() and "token=[redacted]" in record.getMessage()


# --- 10. small things ---------------------------------------------------------------------

def test_health_tells_a_stranger_only_ok_or_degraded(token_engine: PhotoIndex) -> None:
    with TestClient(create_app(engine=token_engine)) as client:
        stranger = client.get("/health")
        assert stranger.status_code == 200 and stranger.json() in ({"status": "ok"}, {"status": "degraded"})
        assert str(token_engine.settings.photos_dir) not in stranger.text
        known = client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert known["library"] == str(token_engine.settings.photos_dir) and "database" in known


def test_a_bad_bokeh_session_id_is_a_client_error(client: TestClient) -> None:
    for query in ("bokeh_session_id=", "bokeh_session_id=%00", "bokeh_session_id=someone-elses", "x=1&bokeh_session_id="):
        answer = client.get(f"/?{query}")
        assert 400 <= answer.status_code < 500, (query, answer.status_code, answer.text[:300])
    assert client.get("/").status_code == 200


# --- bulk removals over REST need intent ----------------------------------------------------

def test_removing_many_photos_over_rest_never_happens_by_default(client: TestClient, engine: PhotoIndex) -> None:
    with engine.db.connection() as conn:
        photo_id = conn.execute("SELECT min(id) AS id FROM photos").fetchone()["id"]
    assert client.post("/photos/delete", json={"image_ids": [photo_id]}).json()["deleted"] == 1
    refused = client.post("/trash/purge", json={})
    assert refused.status_code == 422 and "all: true" in refused.json()["detail"]
    assert client.get("/trash").json()["total"] == 1
    assert client.request("DELETE", "/duplicates", json={"method": "phash"}).json()["dry_run"] is True
    assert client.post("/library/offline/remove", json={}).json()["dry_run"] is True
    assert client.post("/trash/purge", json={"all": True}).json() == {"removed": 1}
