"""Duplicate comparison and grouping at scale: time and peak memory for N photos' signatures.

N synthetic 64x64 pictures (random smooth layouts with texture: every one a different photo) get
their signatures as the pHash stage computes them (`signatures.compute`); 2 % of them get one to
three edited copies (turned, mirrored, cropped to 80-95 %, brighter, darker, re-encoded, half
size). The rows are bulk-loaded (binary COPY) into a fresh embedded database as hashed photos,
then the engine compares them from scratch (`DuplicateComparer.run`: search index, candidates,
measurements, pairs written), groups them (`find_duplicates`), then compares 1 % more photos
added afterwards (the incremental case). Peak RSS is this process's (the database server is a
separate process, reported apart).

    .venv/bin/python bench/duplicates_scale.py --n 100000
"""
from __future__ import annotations

import argparse
import io
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, CpuMeter, command, machine, revision, stop_embedded  # noqa: E402

from engine.config import Settings  # noqa: E402
from engine.library import signatures  # noqa: E402

EDITS = ("rot90", "mirror", "crop", "brighter", "darker", "jpeg", "half")


def picture(rng: np.random.Generator, side: int = 96) -> Image.Image:
    coarse = Image.fromarray(rng.integers(0, 256, (5, 6), dtype=np.uint8), "L").resize((side, side), Image.Resampling.BICUBIC)
    fine = Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8), "L").resize((side, side), Image.Resampling.BICUBIC)
    return Image.blend(coarse, fine, 0.35).convert("RGB")


def edited(image: Image.Image, kind: str, rng: np.random.Generator) -> Image.Image:
    if kind == "rot90":
        return image.transpose(Image.Transpose.ROTATE_270)
    if kind == "mirror":
        return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if kind == "crop":
        side = image.width
        w, h = (int(side * rng.uniform(0.8, 0.95)) for _ in range(2))
        x, y = int(rng.integers(0, side - w + 1)), int(rng.integers(0, side - h + 1))
        return image.crop((x, y, x + w, y + h))
    if kind in ("brighter", "darker"):
        return ImageEnhance.Brightness(image).enhance(1.2 if kind == "brighter" else 0.8)
    if kind == "half":
        return image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def make_rows(n: int, start_id: int, seed: int, copy_rate: float = 0.02) -> tuple[list[tuple], list[set[int]]]:
    """(id, path, width, height, signature) rows and the true groups of ids."""
    rng = np.random.default_rng(seed)
    rows, groups = [], []
    next_id = start_id
    while len(rows) < n:
        image = picture(rng)
        members = [next_id]
        rows.append((next_id, f"p/{next_id}.jpg", image.width, image.height, signatures.encode(signatures.compute(image))))
        next_id += 1
        if rng.random() < copy_rate:
            for kind in rng.choice(EDITS, int(rng.integers(1, 4)), replace=False):
                copy = edited(image, str(kind), rng)
                rows.append((next_id, f"p/{next_id}_{kind}.jpg", copy.width, copy.height,
                             signatures.encode(signatures.compute(copy))))
                members.append(next_id)
                next_id += 1
            groups.append(set(members))
    return rows[:n], [g for g in groups if max(g) < start_id + n]


def load(conn, rows: list[tuple]) -> None:
    with conn.cursor().copy("COPY photos (id, path, size, mtime, format, width, height, metadata_read, phash_indexed,"
                            " signature) FROM STDIN") as copy:
        for pid, path, w, h, blob in rows:
            copy.write_row((pid, path, 1000, 0.0, "jpg", w, h, True, True, blob))
    conn.execute("SELECT setval(pg_get_serial_sequence('photos', 'id'), (SELECT max(id) FROM photos))")
    conn.commit()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_rss_mib(pgdata: Path) -> float:
    try:
        root = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        return sum(p.memory_info().rss for p in (root, *root.children(recursive=True))) / 2**20
    except (OSError, psutil.Error, ValueError):
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=BENCH_ROOT / "duplicates-scale")
    args = parser.parse_args()

    from engine.db.database import open_database
    from engine.library.comparer import DuplicateComparer
    from engine.library.duplicates import find_duplicates

    shutil.rmtree(args.work, ignore_errors=True)
    settings = Settings(_env_file=None, data_dir=args.work / "data", photos_dir=args.work / "library",
                        index_on_start=False)
    t0 = time.perf_counter()
    rows, truth = make_rows(args.n, 1, seed=1)
    extra, extra_truth = make_rows(max(1, args.n // 100), args.n + 1, seed=2)
    made = time.perf_counter() - t0
    db = open_database(settings)
    try:
        with db.connection() as conn:
            load(conn, rows)
        rss_before = peak_rss_mib()
        comparer = DuplicateComparer(db)
        with CpuMeter(settings.embedded_db_dir) as full:
            first = comparer.run()
        rss_compare = peak_rss_mib()
        with CpuMeter(settings.embedded_db_dir) as grouping, db.connection() as conn:
            report = find_duplicates(conn, "phash", limit=None)
        rss_group = peak_rss_mib()
        with db.connection() as conn:
            load(conn, extra)
        with CpuMeter(settings.embedded_db_dir) as more:
            second = comparer.run()
        server = server_rss_mib(settings.embedded_db_dir)
    finally:
        db.close()
        stop_embedded(settings)

    def pairs(groups) -> set[tuple[int, int]]:
        return {(a, b) for g in groups for a in g for b in g if a < b}

    predicted = pairs([{p.id for p in g.photos} for g in report.groups])
    true = pairs(truth)
    hit = len(predicted & true)
    print(f"# {command()}")
    print(f"# engine {revision()}; {machine()}")
    print(f"# {args.n} synthetic photos ({sum(len(g) for g in truth)} in {len(truth)} true groups), signatures made in"
          f" {made:.0f} s; peak RSS before comparing {rss_before:.0f} MiB")
    print()
    print("| step | photos | s | photos/s | candidate pairs | pairs kept | peak RSS MiB (this process) | our cores | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| compare from scratch | {first.compared} | {full.seconds:.1f} | {first.compared / full.seconds:.0f} |"
          f" {first.candidates} | {first.pairs} | {rss_compare:.0f} | {full.own_cores:.2f} | {full.other_cores:.2f} |")
    print(f"| group (find_duplicates) | {args.n} | {grouping.seconds:.1f} | – | – | {report.total_groups} groups |"
          f" {rss_group:.0f} | {grouping.own_cores:.2f} | {grouping.other_cores:.2f} |")
    print(f"| compare {len(extra)} added | {second.compared} | {more.seconds:.1f} | {second.compared / more.seconds:.0f} |"
          f" {second.candidates} | {second.pairs} | {peak_rss_mib():.0f} | {more.own_cores:.2f} | {more.other_cores:.2f} |")
    print()
    print(f"synthetic truth (pairs, first {args.n}): precision {hit / max(1, len(predicted)):.3f},"
          f" recall {hit / max(1, len(true)):.3f}; database server RSS at the end {server:.0f} MiB")


if __name__ == "__main__":
    main()
