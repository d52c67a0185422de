"""Indexing throughput on a synthetic 12 MP JPEG library: decode stage alone, model stage alone,
end to end into a fresh database, and (with --peer) rclip 3.3.0 on the same files in the same run.

    .venv/bin/python bench/index_throughput.py --files 160 --peer
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runtimes  # noqa: E402
from common import BENCH_ROOT, SHARED, SIZES, CpuMeter, ensure_model, log, provenance, scratch_dir, stop_embedded  # noqa: E402

from engine.app import PhotoIndex  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db.database import open_database  # noqa: E402
from engine.db.embeddings import table_name  # noqa: E402
from engine.db.photos import PendingPhoto  # noqa: E402
from engine.indexing.stage import decode_batch  # noqa: E402
from engine.media.formats import format_of  # noqa: E402
from engine.models.image_text import ImageTextModel  # noqa: E402
from engine.models.registry import get_spec  # noqa: E402
from engine.runtime.cluster import DECODE, ClusterHandle  # noqa: E402

PEERS = SHARED / "peers"
TESTDATA = SHARED / "testdata"


@dataclass(frozen=True)
class Row:
    stage: str
    what: str
    files: int
    seconds: float
    cpu: CpuMeter

    @property
    def rate(self) -> float:
        return self.files / self.seconds

    @property
    def core_ms(self) -> float:
        """CPU time of our processes (and the database) per image."""
        return 1000 * self.cpu.own_cores * self.cpu.seconds / self.files

    def markdown(self) -> str:
        return (f"| {self.stage} | {self.what} | {self.files} | {self.seconds:.1f} | **{self.rate:.2f}** |"
                f" {self.core_ms:.0f} | {self.cpu.own_cores:.2f} | {self.cpu.other_cores:.2f} |")


def ensure_corpus(n: int, folder: Path | None) -> Path:
    folder = folder or BENCH_ROOT / f"corpus-{n}"
    if len(list(folder.glob("*.jpg"))) < n:
        log(f"making {n} 12 MP JPEGs in {folder}")
        subprocess.run([sys.executable, str(PEERS / "make_corpus.py"), str(TESTDATA), str(folder), str(n)], check=True)
    return folder


def decode_stage(settings: Settings, files: list[Path], model: ImageTextModel) -> tuple[Row, list[np.ndarray]]:
    handle = ClusterHandle(settings)
    try:
        client = handle.client()
        workers = sum("CPU" in w.get("resources", {}) for w in client.scheduler_info(n_workers=-1)["workers"].values())
        size = settings.decode_batch_size
        decode = partial(decode_batch, root=files[0].parent, geometries=[model.preprocessor],
                         max_pixels=settings.max_image_pixels)
        items = [PendingPhoto(i, path.name, format_of(path) or "jpg", 0, 0.0) for i, path in enumerate(files)]
        client.gather([client.submit(decode, [item], resources=DECODE, pure=False) for item in items[:workers]])
        with CpuMeter() as cpu:
            futures = [client.submit(decode, items[i : i + size], resources=DECODE, pure=False)
                       for i in range(0, len(items), size)]
            decoded = [d for batch in client.gather(futures) for d in batch]
    finally:
        handle.close()
    failed = [d.reason for d in decoded if not d.ok]
    assert not failed, failed[:3]
    arrays = [d.arrays[model.preprocessor.key()] for d in decoded]
    what = f"`decode_batch` on {workers} Dask decode workers, batch {size}, to {arrays[0].shape[1]}x{arrays[0].shape[0]} uint8"
    return Row("(a) decode", what, len(files), cpu.seconds, cpu), arrays


def model_stage(model: ImageTextModel, arrays: list[np.ndarray], batch_size: int) -> Row:
    model.load()
    batches = [np.stack(arrays[i : i + batch_size]) for i in range(0, len(arrays), batch_size)]
    model.encode_images(batches[0])
    with CpuMeter() as cpu:
        for batch in batches:
            model.encode_images(batch)
    runtime = model.backend
    model.unload()
    what = (f"`encode_images`, {model.spec.name} random weights, runtime {runtime}, batch {batch_size}, {model.device},"
            f" {model.num_threads} threads")
    return Row("(b) model", what, len(arrays), cpu.seconds, cpu)


def end_to_end(settings: Settings, n: int, table: str) -> list[Row]:
    rows: list[Row] = []
    engine = PhotoIndex(settings, open_database(settings))
    try:
        for stage, what in (
            ("(c) end to end, cold", "`PhotoIndex.index()` into a fresh DB: Dask cluster start, model load, scan, decode, embed, write"),
            ("(c') end to end, warm", "the same engine again after `TRUNCATE photos CASCADE` (cluster up, model loaded)"),
        ):
            with engine.db.connection() as conn:
                conn.execute("TRUNCATE photos CASCADE")
            with CpuMeter(settings.embedded_db_dir.resolve()) as cpu:
                report = engine.index(settings.clip_model)
            with engine.db.connection() as conn:
                vectors = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
                photos = conn.execute("SELECT count(*) AS n FROM photos WHERE metadata_read").fetchone()["n"]
            assert vectors == photos == n and report.failed == 0, (vectors, photos, report)
            rows.append(Row(stage, what, n, cpu.seconds, cpu))
            log(f"{stage}: {n} rows in {cpu.seconds:.1f} s")
    finally:
        engine.close()
        stop_embedded(settings)
    return rows


def rclip(corpus: Path, n: int, runs: int) -> Row:
    with CpuMeter() as cpu:
        out = subprocess.run(["bash", str(PEERS / "rclip_rate.sh"), str(corpus), str(runs)],
                             check=True, capture_output=True, text=True).stdout
    log(out.strip())
    seconds = [float(s) for s in re.findall(r"files in ([\d.]+) s", out)]
    assert len(seconds) == runs, out
    listed = ", ".join(f"{n / s:.2f}" for s in seconds)
    what = f"`rclip_rate.sh`, start-up included, best of {runs} runs ({listed} img/s); CPU columns: all runs"
    return Row("(d) rclip 3.3.0", what, n, min(seconds), cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=160)
    parser.add_argument("--model", default="ViT-B/32", help="registry name")
    parser.add_argument("--corpus", type=Path, help="default /tmp/photoindex-bench/corpus-N")
    parser.add_argument("--workers", type=int, help="decode worker processes (engine default: CPU count)")
    parser.add_argument("--device", default="auto", help="CLIP_DEVICE: auto | cpu | cuda")
    parser.add_argument("--runtime", default="auto", help="CLIP_RUNTIME of stages (b) and (c): auto | torch | onnx | ...")
    parser.add_argument("--runtimes", nargs="*", default=None, metavar="RUNTIME",
                        help="also compare these CPU runtimes with torch fp32 on the decoded photos (speed and fidelity);"
                             " with no names: onnx onnx-int8 onnx-int8-static openvino openvino-int8-static")
    parser.add_argument("--peer", action="store_true", help="also run rclip 3.3.0 on the same files")
    parser.add_argument("--peer-runs", type=int, default=2)
    args = parser.parse_args()

    spec = get_spec(args.model)
    if spec.name not in SIZES:
        sys.exit(f"no random-weight architecture for {spec.name}; choose one of {', '.join(SIZES)}")
    corpus = ensure_corpus(args.files, args.corpus)
    files = sorted(corpus.glob("*.jpg"))[: args.files]
    assert len(files) == args.files, f"{corpus} holds {len(files)} JPEGs, fewer than {args.files}"
    if len(list(corpus.iterdir())) != args.files:
        sys.exit(f"{corpus} must hold exactly the {args.files} files, since the engine and rclip index the whole folder")
    model_dir = ensure_model(spec)
    run_dir = scratch_dir("index-run-")
    settings = Settings(
        data_dir=run_dir, database_url=None, photos_dir=corpus, model_paths={spec.name: model_dir},
        clip_model=spec.name, clip_device=args.device, clip_runtime=args.runtime, dask_decode_workers=args.workers,
    )
    model = ImageTextModel(spec, model_dir, device=args.device, num_threads=os.cpu_count(), runtime=args.runtime)

    log("(a) decode stage")
    rows = []
    row, arrays = decode_stage(settings, files, model)
    rows.append(row)
    log("(b) model stage")
    rows.append(model_stage(model, arrays, settings.clip_batch_size))
    compared = None
    if args.runtimes is not None:
        log("runtimes side by side")
        names = args.runtimes or ["onnx", "onnx-int8", "onnx-int8-static", "openvino", "openvino-int8-static"]
        compared = runtimes.compare(spec, model_dir, arrays, settings.clip_batch_size, os.cpu_count() or 1, names)
    del arrays
    log("(c) end to end")
    rows += end_to_end(settings, args.files, table_name(spec.name))
    shutil.rmtree(run_dir, ignore_errors=True)
    peer = None
    if args.peer:
        log("(d) rclip 3.3.0")
        peer = rclip(corpus, args.files, args.peer_runs)
        rows.append(peer)

    print(f"\n### Indexing throughput: {args.files} synthetic 12 MP JPEGs (4000x3000, q90, ~2 MB), model {spec.name}\n")
    print("| stage | what | files | s | img/s | core-ms/img | our cores busy | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())
    decode, model, cold, warm = rows[:4]
    overhead = warm.core_ms - decode.core_ms - model.core_ms
    print(f"| pipeline overhead | (c') − (a) − (b): Dask hand-offs, scan, hashing, metadata, writes |"
          f" | | | {overhead:.0f} | {100 * overhead / (decode.core_ms + model.core_ms):.0f} % of the stages | |")
    print(f"| start-up | (c) − (c'): cluster spawn, imports, model load (what the overlap with the scan leaves) |"
          f" | {cold.seconds - warm.seconds:.1f} | | | | |")
    if peer is not None:
        print(f"| ours / rclip | (c) / (d) = **{cold.rate / peer.rate:.2f}**; (c') / (d) = {warm.rate / peer.rate:.2f} | | | | | | |")
    if compared is not None:
        runtimes.print_table(*compared, args.files)
    print("\n" + provenance())


if __name__ == "__main__":
    main()
