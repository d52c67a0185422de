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
