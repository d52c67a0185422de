"""The `photoindex` command: a run killed with SIGKILL resumes with no duplicates and no lost rows;
a missing model is one clear sentence, not a traceback."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.conftest import TEST_MODEL
from tests.fixtures import make_noisy, make_png

REPO = Path(__file__).resolve().parents[1]


def cli_env(tmp_path: Path, database_url: str, library: Path, model_dir: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTOINDEX_", "DATABASE_URL"))}
    env.update({
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "PHOTOS_DIR": str(library),
        "CLIP_MODEL": TEST_MODEL,
        "CLIP_DEVICE": "cpu",
        "MODELS_DIR": str(tmp_path / "no-models"),
        "HF_HOME": str(tmp_path / "hf-home"),
        "DASK_DECODE_WORKERS": "2",
        "DECODE_BATCH_SIZE": "2",
        "CLIP_BATCH_SIZE": "4",
        "INTERFACE_LANGUAGE": "en",  # the tests read English; one test sets the language itself
        **extra,
    })
    if model_dir is not None:
        env["MODEL_PATHS"] = json.dumps({TEST_MODEL: str(model_dir)})
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "photoindex", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def db_counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM photos), (SELECT count(DISTINCT path) FROM photos),"
            " (SELECT count(*) FROM embeddings_vit_b32)"
        ).fetchone()


def vectors(url: str) -> int:
    try:
        return db_counts(url)[2]
    except psycopg.Error:
        return 0


def test_kill_9_mid_run_then_resume(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> None:
    n = 120
    for i in range(n):
        make_noisy(library / f"folder{i % 4}" / f"img_{i:03d}.png", (1400, 1000), (i * 2, 90, 255 - i * 2), noise=40, seed=i)
    env = cli_env(tmp_path, database_url, library, clip_model_dir)

    proc = subprocess.Popen([sys.executable, "-m", "photoindex", "index"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while vectors(database_url) < 8 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    photos, distinct, partial = db_counts(database_url)
    assert photos == n and distinct == n
    assert 0 < partial < n, "the kill must land mid-run"

    done = run_cli(["index"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert db_counts(database_url) == (n, n, n)
    assert "0 failed" in done.stdout

    again = run_cli(["index"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 new, 0 changed, 0 moved, 0 went offline" in again.stdout
    assert "0 indexed" in again.stdout


def test_search_from_the_command_line(tmp_path: Path, database_url: str, library: Path, clip_model_dir: Path) -> None:
    for i in range(3):
        make_png(library / f"{i}.png", size=(200, 150), color=(80 * i, 40, 40))
    env = cli_env(tmp_path, database_url, library, clip_model_dir)
    assert run_cli(["index"], env, tmp_path).returncode == 0
    by_image = run_cli(["search", "--image", str(library / "1.png"), "--top-k", "1"], env, tmp_path)
    assert by_image.returncode == 0, by_image.stderr
    assert by_image.stdout.strip().endswith("1.png")
    by_text = run_cli(["search", "sunset", "--top-k", "2"], env, tmp_path)
    assert len(by_text.stdout.strip().splitlines()) == 2


def test_missing_model_is_one_clear_message(tmp_path: Path, database_url: str, library: Path) -> None:
    make_png(library / "a.png", size=(64, 64), color=(1, 2, 3))
    env = cli_env(tmp_path, database_url, library, None)

    result = run_cli(["index"], env, tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert "MODEL_PATHS" in message and "MODELS_DIR" in message
    assert str(tmp_path / "no-models") in message
    assert "openai/clip-vit-base-patch32" in message
    with psycopg.connect(database_url) as conn:
        read = conn.execute("SELECT metadata_read, width FROM photos").fetchall()
    assert read == [(True, 64)], "without a model the library is still scanned and its metadata read"
