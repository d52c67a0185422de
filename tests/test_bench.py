"""The benchmarks run: each script at a tiny size, as CI can (speed itself is never asserted here)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _run(tmp_path: Path, script: str, *args: str) -> str:
    env = {**os.environ, "PHOTOINDEX_BENCH_DIR": str(tmp_path / "bench-scratch")}  # a folder that does not exist yet
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, env=env,
                         timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_gpu_benchmark_runs_without_cuda(tmp_path: Path) -> None:
    table = _run(tmp_path, "gpu.py", "--cpu", "--size", "tiny", "--files", "4", "--face-files", "2", "--batch", "4")
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| (")}
    assert set(rows) == {"(a)", "(b)", "(c)", "(d)", "(e)", "(f)"}
    assert "skipped" in rows["(c)"] and "no CUDA" in rows["(c)"]
    assert all("skipped" not in rows[r] for r in ("(a)", "(b)", "(d)", "(e)", "(f)"))
    assert "goal ≥ 400" in rows["(d)"] and "goal ≥ 300" in rows["(f)"]
    assert "command: `" in table and "bench/gpu.py --cpu" in table


def test_scan_benchmark_grows_the_tree_and_rescans(tmp_path: Path) -> None:
    table = _run(tmp_path, "scan_scale.py", "--steps", "120", "300", "--tree", str(tmp_path / "tree"))
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [(r[1].strip(), r[2].strip()) for r in rows] == [
        ("120", "first scan (all new)"), ("300", "first scan (all new)"), ("300", "re-scan, nothing changed")]
    assert len(list((tmp_path / "tree").rglob("*.jpg"))) == 300


def test_runtime_recall_forgives_ties_with_the_tenth_but_not_a_wrong_photo() -> None:
    sys.path.insert(0, str(BENCH))
    import numpy as np
    from runtimes import TIE, recall_at_k

    photos = np.eye(12)
    scores = np.array([[1.0, .99, .98, .97, .96, .95, .94, .93, .92, .91, .91 - TIE / 2, .5]])
    tie_swapped, wrong_swapped = scores.copy(), scores.copy()
    tie_swapped[0, [9, 10]] = scores[0, [10, 9]]
    wrong_swapped[0, [9, 11]] = scores[0, [11, 9]]

    assert recall_at_k(photos, photos, scores, scores, exclude_self=False) == 1.0
    assert recall_at_k(photos, photos, scores, tie_swapped, exclude_self=False) == 1.0
    assert recall_at_k(photos, photos, scores, tie_swapped, exclude_self=False, tie=0) == 0.9
    assert recall_at_k(photos, photos, scores, wrong_swapped, exclude_self=False) == 0.9
