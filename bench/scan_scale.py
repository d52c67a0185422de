"""Library scan at a million files: files/s and peak memory as the library grows, and the
unchanged re-scan, with the engine's real `scan_library` into a fresh embedded database.

The library is a deep tree of small generated JPEG files (year/month/day/event/, 50 files per
folder; all share one tiny valid JPEG's bytes: the scan reads names and stat, never pixels). It
grows in steps (e.g. 100k -> 500k -> 1M); at each step a new process scans it into a new
database, so its peak RSS is that scan's alone, and at the last step the same process scans
again with nothing changed.

    .venv/bin/python bench/scan_scale.py --steps 100000 500000 1000000
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, CpuMeter, log, provenance, scratch_dir, stop_embedded  # noqa: E402

PER_FOLDER = 50


def tiny_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def folder_of(i: int) -> str:
    """A deep, date-like path for file i: 4 levels, PER_FOLDER files per leaf folder."""
    leaf = i // PER_FOLDER
    year, rest = divmod(leaf, 12 * 28 * 4)
    month, rest = divmod(rest, 28 * 4)
    day, event = divmod(rest, 4)
    return f"{2000 + year}/{month + 1:02d}/{day + 1:02d}/event-{event}"


def grow_tree(root: Path, n: int) -> float:
    """Make files 0..n-1 under `root` (those already there are kept); seconds spent."""
    started = time.perf_counter()
    data = tiny_jpeg()
    have = int((root / ".count").read_text()) if (root / ".count").is_file() else 0
    for i in range(have, n):
        folder = root / folder_of(i)
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"IMG_{i:07d}.jpg").write_bytes(data)
    (root / ".count").write_text(str(max(n, have)))
    return time.perf_counter() - started


def child(root: Path, data_dir: Path) -> None:
    """One scan in this process (a fresh one: its peak RSS is this scan's), printed as JSON."""
    from engine.config import Settings
    from engine.db.database import open_database
    from engine.indexing.scan import scan_library

    settings = Settings(_env_file=None, data_dir=data_dir, database_url=None, photos_dir=root)
    db = open_database(settings)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with CpuMeter(settings.embedded_db_dir.resolve()) as cpu:
            report = scan_library(db, root)
        with db.connection() as conn:
            rows = conn.execute("SELECT count(*) AS n FROM photos").fetchone()["n"]
    finally:
        db.close()
        stop_embedded(settings)
    print(json.dumps({"seconds": cpu.seconds, "files": report.files, "new": report.new, "unchanged": report.unchanged,
                      "rows": rows, "own_cores": cpu.own_cores, "other_cores": cpu.other_cores,
                      "baseline_rss_mib": baseline, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(root: Path, data_dir: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(root), str(data_dir)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[100_000, 500_000, 1_000_000])
    parser.add_argument("--tree", type=Path, help="default /tmp/photoindex-bench/scan-tree (kept between runs)")
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return

    root = args.tree or BENCH_ROOT / "scan-tree"
    root.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sorted(args.steps):
        have = int((root / ".count").read_text()) if (root / ".count").is_file() else 0
        if have > n:
            sys.exit(f"{root} already holds {have} files, more than the step {n}; pass --tree with a new folder")
        log(f"growing the tree to {n:,} files")
        made = grow_tree(root, n)
        data_dir = scratch_dir("scan-run-")
        runs = {"first scan (all new)": measure(root, data_dir)}
        assert runs["first scan (all new)"]["rows"] == runs["first scan (all new)"]["new"] == n, runs
        if n == max(args.steps):
            runs["re-scan, nothing changed"] = measure(root, data_dir)
            assert runs["re-scan, nothing changed"]["unchanged"] == n, runs
        shutil.rmtree(data_dir, ignore_errors=True)
        results.append((n, made, runs))
        log(f"{n:,}: {json.dumps(runs)}")

    print(f"\n### Library scan: a deep tree of small JPEG files ({PER_FOLDER} per folder, 4 levels), `scan_library` into a fresh DB\n")
    print("| files | run | s | files/s | peak RSS MiB (scanner process) | RSS over start MiB | our cores busy | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|")
    for n, _, runs in results:
        for label, r in runs.items():
            print(f"| {n:,} | {label} | {r['seconds']:.1f} | **{n / r['seconds']:,.0f}** | {r['peak_rss_mib']:.0f} |"
                  f" {r['peak_rss_mib'] - r['baseline_rss_mib']:.0f} | {r['own_cores']:.2f} | {r['other_cores']:.2f} |")
    made = ", ".join(f"{n:,} in {s:.0f} s" for n, s, _ in results)
    du = subprocess.run(["du", "-sh", str(root)], capture_output=True, text=True).stdout.split("\t")[0]
    print(f"\ntree: {root} ({du} on disk; grown {made}); load average at the end: {os.getloadavg()[0]:.2f}")
    print(provenance())


if __name__ == "__main__":
    main()
