"""Indexing on a real multi-process Dask cluster, started the way the README tells a user to:
`dask scheduler` and `dask worker` processes from their own command lines on 127.0.0.1, decode
workers with the `CPU` resource and a model worker with `MODEL`, found through
DASK_SCHEDULER_ADDRESS. It gives the same rows as the local cluster, keeps torch out of the
decode workers, and survives a worker killed in the middle of a run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from engine.app import PhotoIndex
from engine.db.database import open_database
from engine.db.embeddings import table_name
from tests.conftest import TEST_MODEL, _with_database, make_settings
from tests.library_fixtures import make_scene

TABLE = table_name(TEST_MODEL)
pytestmark = pytest.mark.timeout(900)  # five processes to start before the first test; slow on a loaded machine
DASK = Path(sys.executable).with_name("dask")


class DaskProcesses:
    """A scheduler and workers, each its own `dask ...` process group on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = open(self.folder / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, **(env or {})}, start_new_session=True)

    def scheduler(self) -> str:
        self.start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(self.scheduler_file))
        deadline = time.time() + 120
        while not self.scheduler_file.is_file():
            assert time.time() < deadline and self.procs["scheduler"].poll() is None, self.log("scheduler")
            time.sleep(0.1)
        return json.loads(self.scheduler_file.read_text())["address"]

    def worker(self, name: str, resources: str, env: dict[str, str] | None = None) -> None:
        self.start(name, "worker", "--scheduler-file", str(self.scheduler_file), "--host", "127.0.0.1",
                   "--nthreads", "1", "--resources", resources, "--name", name, "--no-dashboard", env=env)

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its nanny: the machine is gone, nobody restarts it."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(30)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DaskProcesses]]:
    processes = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        address = processes.scheduler()
        for i in range(3):
            processes.worker(f"decode-{i}", "CPU=1", env={"OMP_NUM_THREADS": "1"})
        processes.worker("model", "MODEL=1", env={"PHOTOINDEX_MODEL_THREADS": "2"})
        with Client(address, timeout=120) as client:
            client.wait_for_workers(4, timeout=180)
        yield address, processes
    finally:
        processes.stop()


def _library(root: Path, n: int) -> None:
    for i in range(n):
        make_scene(root / f"album-{i % 3}" / f"photo-{i:03d}.jpg", size=(1600, 1200), seed=i)


def _rows(engine: PhotoIndex) -> dict[str, tuple]:
    with engine.db.connection() as conn:
        rows = conn.execute(
            f"SELECT p.path, p.content_hash, p.width, p.height, p.taken_at, p.index_failed, e.embedding"
            f" FROM photos p LEFT JOIN {TABLE} e ON e.photo_id = p.id ORDER BY p.path").fetchall()
    return {r["path"]: (r["content_hash"], r["width"], r["height"], r["taken_at"], r["index_failed"],
                        None if r["embedding"] is None else np.asarray(r["embedding"].to_list(), np.float32))
            for r in rows}


def _index(settings, cluster=None, progress=None) -> dict[str, tuple]:
    """Index the library; its rows by path (vector rows per photo are unique by the schema)."""
    engine = PhotoIndex(settings, open_database(settings), cluster=cluster)
    try:
        report = engine.index(progress=progress)
        assert report.failed == 0 and not report.cancelled
        return _rows(engine)
    finally:
        engine.close()


def _same(ours: dict[str, tuple], local: dict[str, tuple]) -> None:
    assert ours.keys() == local.keys()
    for path, (*meta, vector) in ours.items():
        *local_meta, local_vector = local[path]
        assert meta == local_meta, path
        assert vector is not None and float(vector @ local_vector) > 0.99, path  # int8 activations scale per batch


def test_index_through_a_dask_scheduler_gives_the_local_rows(tmp_path: Path, database_url: str, clip_model_dir: Path,
                                                              dask_processes, dask_cluster, pg_server: str) -> None:
    address, _ = dask_processes
    library = tmp_path / "library"
    _library(library, 12)
    local = make_settings(tmp_path / "local", database_url, library, clip_model_dir)
    local_rows = _index(local, cluster=dask_cluster)

    remote = make_settings(tmp_path / "remote", _other_database(pg_server, "remote"), library, clip_model_dir,
                           dask_scheduler_address=address)
    remote_rows = _index(remote)
    _same(remote_rows, local_rows)
    assert len(remote_rows) == 12

    with Client(address) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        torch_loaded = client.run(lambda: "torch" in sys.modules)
    decoders = [addr for addr, w in workers.items() if "CPU" in w["resources"]]
    assert len(decoders) == 3 and not any(torch_loaded[a] for a in decoders), torch_loaded
    assert {w["name"]: w["resources"] for w in workers.values()}["model"] == {"MODEL": 1}


def test_a_worker_killed_mid_run_loses_nothing(tmp_path: Path, clip_model_dir: Path, dask_processes,
                                               pg_server: str) -> None:
    address, processes = dask_processes
    library = tmp_path / "library"
    n = 40
    _library(library, n)
    settings = make_settings(tmp_path, _other_database(pg_server, "killed"), library, clip_model_dir,
                             dask_scheduler_address=address).model_copy(update={"decode_batch_size": 2, "clip_batch_size": 4})
    killed: list[int] = []

    def kill_once(progress) -> None:
        if progress.done and not killed:
            killed.append(progress.done)
            processes.kill("decode-0")

    rows = _index(settings, progress=kill_once)
    assert killed and killed[0] < n, "the worker must die while files are left to index"
    assert len(rows) == n and all(vector is not None and not failed for *_, failed, vector in rows.values())
    with Client(address) as client:
        names = [w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values()]
    assert "decode-0" not in names and "model" in names


def _other_database(pg_server: str, name: str) -> str:
    """A second fresh database on the session's server (the `database_url` fixture gives one per test)."""
    import psycopg

    dbname = f"dask_{name}_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return _with_database(pg_server, dbname)
