"""No traceback ever reaches a user's terminal: each failure a user meets is one sentence and a
non-zero exit code. The failures are real: a closed port, a server that kills the connection
mid-run, a missing file, an accelerator this machine lacks."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from engine.db.migrations import apply_migrations
from tests.fixtures import make_png, wait_for_health
from tests.test_cli_resume import cli_env, run_cli


def one_sentence(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("photoindex:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_down(tmp_path: Path, library: Path) -> None:
    url = f"postgresql://photo:secret@127.0.0.1:{_closed_port()}/photos"
    for command in (["stats"], ["index"], ["search", "red"], ["db"]):
        result = run_cli(command, cli_env(tmp_path, url, library, None), tmp_path, timeout=120)
        assert result.returncode != 0
        sentence = one_sentence(result)
        assert "DATABASE_URL" in sentence and "secret" not in sentence


def test_database_dies_mid_run(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> None:
    """The server ends the connection in the middle of the scan's writes (what a restart or an
    `AdminShutdown` does): one sentence, and nothing the scan already wrote is lost."""
    for i in range(3):
        make_png(library / f"{i}.png", size=(64, 64), color=(80 * i, 40, 40))
    with psycopg.connect(database_url) as conn:
        apply_migrations(conn)
        conn.execute("""
            CREATE FUNCTION end_my_connection() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
            CREATE TRIGGER end_my_connection BEFORE INSERT ON photos FOR EACH STATEMENT
                EXECUTE FUNCTION end_my_connection();
        """)
    result = run_cli(["index"], cli_env(tmp_path, database_url, library, clip_model_dir), tmp_path)
    assert result.returncode != 0
    assert "database connection was lost" in one_sentence(result)


def test_search_by_a_missing_picture(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> None:
    result = run_cli(["search", "--image", str(tmp_path / "nope.jpg")],
                     cli_env(tmp_path, database_url, library, clip_model_dir), tmp_path)
    assert result.returncode == 2
    assert "nope.jpg is not a readable file" in one_sentence(result)


def test_cuda_device_without_cuda(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    make_png(library / "a.png", size=(64, 64), color=(1, 2, 3))
    env = cli_env(tmp_path, database_url, library, clip_model_dir, CLIP_DEVICE="cuda")
    result = run_cli(["index"], env, tmp_path)
    assert result.returncode == 2
    assert "CLIP_DEVICE=cuda" in one_sentence(result) and "cpu" in result.stderr


def test_ctrl_c_on_serve_stops_the_embedded_database(tmp_path: Path, library: Path, clip_model_dir: Path) -> None:
    make_png(library / "a.png", size=(64, 64), color=(1, 2, 3))
    port = _closed_port()
    env = cli_env(tmp_path, "", library, clip_model_dir, PORT=str(port), INDEX_ON_START="false")
    proc = subprocess.Popen([sys.executable, "-m", "photoindex", "serve"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pgdata = tmp_path / "data" / "pgdata"
    try:
        wait_for_health(proc, port)
        assert (pgdata / "postmaster.pid").exists()
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in output, output
    assert not (pgdata / "postmaster.pid").exists(), "the embedded PostgreSQL must stop with the server"


def test_a_port_in_use_is_one_sentence(tmp_path: Path, library: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["serve", "--port", str(port)], cli_env(tmp_path, "", library, None), tmp_path)
    assert result.returncode == 2
    assert f"port {port}" in one_sentence(result)
    assert not (tmp_path / "data" / "pgdata").exists(), "nothing starts when the port is taken"
