"""Admin endpoints and the job queue against the real engine, cluster and database."""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.db import photos as photo_rows
from engine.db.database import open_database
from engine.runtime.cluster import ClusterHandle
from engine.indexing.scan import scan_library
from engine.media.warm import warm_cache
from engine.runtime.progress import Progress
from engine.runtime.runner import DaskExecutor, StageRunner
from tests.conftest import TEST_MODEL, make_settings
from tests.fixtures import make_bad_files, make_library
from tests.library_fixtures import ids_by_path, wait_job, wait_until


@pytest.fixture
def files(library: Path) -> dict[str, Path]:
    return make_library(library)


@pytest.fixture
def client(engine: PhotoIndex, files: dict[str, Path]) -> Iterator[TestClient]:
    with TestClient(create_app(engine=engine)) as c:
        yield c


def unloaded(client: TestClient) -> TestClient:
    """The server warms the default model at start; wait for that and unload it again."""
    if client.app.state.warming is not None:
        client.app.state.warming.join()
    client.post("/admin/models/unload", json={"model": TEST_MODEL})
    return client


def test_gpu_stats_answer_on_any_machine(client: TestClient) -> None:
    stats = unloaded(client).get("/admin/gpu/stats").json()
    if stats["available"]:
        device = stats["devices"][0]
        assert device["memory_total_bytes"] >= device["memory_used_bytes"] > 0
        assert device["memory_free_bytes"] > 0
    else:
        assert stats["devices"] == [] and stats["reason"]
    assert stats["models"] == []  # nothing loaded yet


def test_models_status_warm_unload(client: TestClient) -> None:
    status = unloaded(client).get("/admin/models/status").json()
    rows = {m["name"]: m for m in status["models"]}
    assert len(rows) >= 4 and rows[TEST_MODEL]["available"] and not rows[TEST_MODEL]["loaded"]
    assert not rows["SigLIP"]["available"] and rows["SigLIP"]["reason"]

    warmed = client.post("/admin/models/warm", json={"model": TEST_MODEL}).json()
    assert warmed["loaded"] == [TEST_MODEL]
    loaded = next(m for m in warmed["models"] if m["name"] == TEST_MODEL)
    assert loaded["memory_bytes"] > 0 and loaded["device"] == "cpu"
    assert [m["name"] for m in client.get("/admin/gpu/stats").json()["models"]] == [TEST_MODEL]

    assert client.post("/admin/models/unload", json={"model": TEST_MODEL}).json()["loaded"] == []
    assert client.post("/admin/models/warm", json={"model": "SigLIP"}).status_code == 503
    assert client.post("/admin/models/warm", json={"model": "no-such"}).status_code == 400


def test_failed_files_list_and_reset(client: TestClient, engine: PhotoIndex, library: Path) -> None:
    make_bad_files(library / "bad")
    engine.indexer.run([], scan=True)
    failed = client.get("/admin/failed-files").json()
    assert failed["total"] == 6 == len(failed["files"]) and failed["items"] == failed["files"]
    assert all(f["path"].startswith("bad/") and f["reason"] for f in failed["files"])
    assert client.get("/stats").json()["failed_count"] == 6
    assert len(client.get("/admin/failed-files", params={"limit": 2}).json()["files"]) == 2

    first, second = failed["files"][0]["id"], failed["files"][1]["id"]
    assert client.post("/admin/failed-files/reset", json={"image_ids": [first, second, 999_999]}).json() == {"reset": 2}
    assert client.get("/admin/failed-files").json()["total"] == 4
    assert client.post("/admin/failed-files/reset", json={}).json() == {"reset": 4}
    assert client.get("/stats").json()["failed_count"] == 0


def test_index_all_runs_the_stages_in_order_with_progress(client: TestClient, engine: PhotoIndex,
                                                          files: dict[str, Path]) -> None:
    started = client.post("/admin/index-all", json={"stages": ["phash"]})
    assert started.status_code == 202, started.text
    jobs = started.json()["jobs"]
    assert [j["kind"] for j in jobs] == [f"index:{TEST_MODEL}", "phash"]
    finished = [wait_job(client, j["id"]) for j in jobs]
    assert [j["state"] for j in finished] == ["done", "done"], finished
    at = [{k: datetime.fromisoformat(j[k]) for k in ("started_at", "finished_at")} for j in finished]
    assert all(t.utcoffset() is not None for j in at for t in j.values()), "ISO 8601 with a time zone"
    assert at[0]["started_at"] <= at[1]["started_at"]
    assert at[0]["finished_at"] <= at[1]["started_at"]  # one job at a time, in order
    assert finished[1]["done"] == finished[1]["total"] == len(files) and finished[1]["progress"] == 1.0
    assert finished[1]["current"]

    status = client.get("/admin/index-all/status").json()
    assert not status["running"] and status["current"] is None
    assert [j["id"] for j in status["batch"]] == [j["id"] for j in jobs]
    assert status["stages"] == ["image-text", "faces", "phash"]
    assert client.get("/stats").json()["embeddings"][TEST_MODEL] == len(files)
    assert client.post("/duplicates", json={"max_distance": 0}).status_code == 200
    assert client.post("/admin/index-all", json={"stages": ["nope"]}).status_code == 400
    assert client.post("/admin/index-all", json={"models": ["SigLIP"]}).status_code == 503
    assert client.get("/reindex/status").json()["job"]["id"] == jobs[0]["id"]  # /reindex sees the same jobs


def test_cancel_stops_the_running_job_and_drops_the_queue(client: TestClient, engine: PhotoIndex) -> None:
    release = threading.Event()

    def blocker(ctx) -> dict:
        ctx.progress(Progress(stage="blocking", total=1))
        while not (ctx.cancel.is_set() or release.is_set()):
            ctx.cancel.wait(0.05)
        return {}

    blocking = engine.jobs.submit("blocker", blocker)
    wait_until(lambda: engine.jobs.get(blocking.id).state == "running", what="the blocker to start")
    queued = client.post("/admin/index-all", json={"stages": ["phash"]}).json()["jobs"]
    status = client.get("/admin/index-all/status").json()
    assert status["running"] and status["current"]["id"] == blocking.id
    assert [j["id"] for j in status["queued"]] == [j["id"] for j in queued]

    cancelled = client.post("/admin/index-all/cancel").json()["cancelled"]
    assert set(cancelled) == {blocking.id, *(j["id"] for j in queued)}
    for job_id in cancelled:
        assert wait_job(client, job_id)["state"] == "cancelled"
    release.set()
    assert client.post("/admin/jobs/999999/cancel").status_code == 404


def test_queue_empty_command_runs_once(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path,
                                       dask_cluster: ClusterHandle, files: dict[str, Path]) -> None:
    marker = tmp_path / "queue-empty-ran"
    script = f"import pathlib, sys; p = pathlib.Path(sys.argv[1]); p.write_text(p.read_text() + 'x' if p.exists() else 'x')"
    settings = make_settings(tmp_path, database_url, library, clip_model_dir,
                             queue_empty_command=[sys.executable, "-c", script, str(marker)])
    engine = PhotoIndex(settings, open_database(settings), cluster=dask_cluster)
    try:
        with TestClient(create_app(engine=engine)) as client:
            flag = client.get("/admin/shutdown-flag").json()
            assert flag["configured"] and not flag["enabled"] and flag["command"][0] == sys.executable
            jobs = client.post("/admin/index-all", json={"stages": ["phash"]}).json()["jobs"]
            for j in jobs:
                wait_job(client, j["id"])
            assert not marker.exists()  # the flag was off

            assert client.post("/admin/shutdown-flag", json={"enabled": True}).json()["enabled"]
            job = client.post("/admin/index-all", json={"stages": ["phash"]}).json()["jobs"][-1]
            wait_job(client, job["id"])
            wait_until(lambda: (client.get("/admin/shutdown-flag").json()["last_run"] or {}).get("returncode") is not None,
                       what="the command to finish")
            flag = client.get("/admin/shutdown-flag").json()
            assert flag["last_run"]["returncode"] == 0 and not flag["enabled"]  # one shot
            assert marker.read_text() == "x"
    finally:
        engine.close()


def test_shutdown_flag_without_a_configured_command_runs_nothing(client: TestClient, engine: PhotoIndex) -> None:
    assert client.get("/admin/shutdown-flag").json() == {"enabled": False, "configured": False, "command": None,
                                                         "last_run": None, "note": None}
    kept = client.post("/admin/shutdown-flag", json={"enabled": True})
    assert kept.status_code == 200 and kept.json()["enabled"] and "QUEUE_EMPTY_COMMAND" in kept.json()["note"]
    engine.queue.hook.fire()  # the queue empties: nothing runs, the one-shot flag is spent
    assert client.get("/admin/shutdown-flag").json() == {"enabled": False, "configured": False, "command": None,
                                                         "last_run": None, "note": None}
    client.post("/admin/shutdown-flag", json={"enabled": True})
    # the request can only switch the flag: a command in the body is ignored, never run
    client.post("/admin/shutdown-flag", json={"enabled": False, "command": ["touch", "/tmp/pwned"]})
    assert client.get("/admin/shutdown-flag").json()["command"] is None


def test_cache_memory_lru_warm_and_clear(client: TestClient, engine: PhotoIndex, files: dict[str, Path]) -> None:
    engine.indexer.run([], scan=True)
    ids = ids_by_path(engine)
    assert client.post("/admin/cache/clear").json()["removed_files"] == 0
    job = client.post("/admin/cache/warm", json={"kinds": ["thumb"]})
    assert job.status_code == 202 and job.json()["kind"] == "cache-warm"
    done = wait_job(client, job.json()["id"])
    assert done["state"] == "done" and done["result"]["rendered"] == len(files) and done["result"]["failed"] == 0
    stats = client.get("/admin/cache/stats").json()
    assert stats["disk"]["files"] == len(files) and stats["disk"]["bytes"] > 0
    assert stats["memory"]["entries"] == 0

    photo_id = next(iter(ids.values()))
    first = client.get(f"/image/{photo_id}/thumb")
    second = client.get(f"/image/{photo_id}/thumb")
    assert first.content == second.content
    memory = client.get("/admin/cache/stats").json()["memory"]
    assert memory["entries"] == 1 and memory["hits"] == 1 and memory["misses"] == 1
    assert client.get("/admin/cache/stats").json()["disk"]["files"] == len(files)  # served from disk, no re-render

    again = wait_job(client, client.post("/admin/cache/warm").json()["id"])
    assert again["result"]["rendered"] == 0 and again["result"]["cached_already"] == len(files)

    assert client.post("/admin/cache/clear").json()["removed_files"] == len(files)
    stats = client.get("/admin/cache/stats").json()
    assert stats["disk"]["files"] == 0 and stats["memory"]["entries"] == 0


def test_warm_renders_heavy_formats_first(engine: PhotoIndex, files: dict[str, Path], library: Path,
                                          dask_cluster: ClusterHandle) -> None:
    scan_library(engine.db, library)

    class Recording:
        """The real client, with the order of submitted work written down."""

        def __init__(self, client) -> None:
            self.client, self.formats = client, []

        def __getattr__(self, name):
            return getattr(self.client, name)

        def submit(self, fn, items, *args, **kwargs):
            self.formats += [i.format for i in items]
            return self.client.submit(fn, items, *args, **kwargs)

    with engine.db.connection() as conn:
        photos = photo_rows.readable(conn)
    recorder = Recording(dask_cluster.client())
    runner = StageRunner(DaskExecutor(lambda: recorder), engine.settings)
    report = warm_cache(engine.thumbnails, runner, photos, library.resolve(), batch_size=1)
    assert report.rendered == len(files) and report.failed == 0
    assert recorder.formats[:2] == ["dng", "heic"]
    assert sorted(recorder.formats) == sorted(p.suffix.lstrip(".").replace("jpeg", "jpg") for p in files.values())


def test_reindex_accepts_a_model(client: TestClient) -> None:
    started = client.post("/reindex", params={"model": TEST_MODEL})
    assert started.status_code == 202 and started.json()["kind"] == f"index:{TEST_MODEL}"
    assert wait_job(client, started.json()["id"])["state"] == "done"
    assert client.get("/reindex/status", params={"model": TEST_MODEL}).json()["job"]["state"] == "done"
