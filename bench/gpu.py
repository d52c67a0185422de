"""The GPU benchmark in one script: set up, run, print one table. A few minutes on an NVIDIA machine.

    .venv/bin/python bench/gpu.py --setup        # once: torchvision (nvjpeg) and onnxruntime-gpu
    .venv/bin/python bench/gpu.py                # SigLIP so400m bf16, 1000 x 12 MP JPEGs
    .venv/bin/python bench/gpu.py --cpu --size tiny --files 8 --face-files 4   # here, as a test

Rows: (a) the SigLIP vision tower alone in bf16 on the GPU, random weights of the real so400m
architecture; (b) decoding as the engine's decode workers do it (PIL with DCT scaling, one
process per core); (c) nvjpeg batch decoding on the GPU (`torchvision.io.decode_jpeg` on a list,
device="cuda") with the resize on the GPU; (d) end to end, `PhotoIndex.index()` into a fresh
embedded database on the engine's own Dask cluster (decode workers + the GPU model worker);
(e) faces alone: the engine's `FaceAnalyzer` on onnxruntime's CUDA execution provider; (f) faces
end to end, `PhotoIndex.faces.index()`. Goals of issue 18: (d) >= 400 img/s, (f) >= 300 img/s.
`--cpu` runs the same rows without CUDA, on torch as on the GPU (the GPU-only row (c) says it was skipped).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, SHARED, CpuMeter, ensure_model, log, make_jpegs, provenance, scratch_dir, stop_embedded  # noqa: E402

from engine.config import SAMPLE_PHOTOS_DIR, Settings  # noqa: E402
from engine.models.registry import get_spec  # noqa: E402

GOALS = {"(d)": 400.0, "(f)": 300.0}
TORCHVISION_FOR_TORCH = {"2.13": "0.28"}
"""torchvision minor release built against each torch minor release (nvjpeg decoding)."""
TESTDATA = SHARED / "testdata"


@dataclass(frozen=True)
class Row:
    stage: str
    what: str
    files: int
    seconds: float | None
    note: str = ""

    def markdown(self) -> str:
        if self.seconds is None:
            return f"| {self.stage} | {self.what} | {self.files} | — | skipped | {self.note} |"
        rate = self.files / self.seconds
        goal = GOALS.get(self.stage)
        verdict = f"goal ≥ {goal:.0f}: {'met' if rate >= goal else 'NOT met'}" if goal else ""
        note = "; ".join(x for x in (verdict, self.note) if x)
        return f"| {self.stage} | {self.what} | {self.files} | {self.seconds:.1f} | **{rate:.1f}** | {note} |"


def setup() -> None:
    """pip-install what the GPU rows need beside the project: torchvision matching torch, onnxruntime-gpu."""
    import torch

    minor = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    vision = TORCHVISION_FOR_TORCH.get(minor)
    packages = [f"torchvision=={vision}.*"] if vision else []
    packages.append("onnxruntime-gpu")
    log(f"installing {' '.join(packages)}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *packages], check=True)
    # onnxruntime and onnxruntime-gpu share a module; the CPU wheel must not shadow the GPU one
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "onnxruntime"], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", "onnxruntime-gpu"],
                   check=True)


def face_sources() -> list[Path]:
    """Photos with faces: the offline face pack's samples and the shared test photos."""
    from engine.models.face_pack import vectron_model_dir

    folder = vectron_model_dir()
    found = sorted(folder.glob("*.jpg")) if folder else []
    found += sorted((TESTDATA / "faces_face_recognition").rglob("*.jpg")) if TESTDATA.is_dir() else []
    return found or sorted(SAMPLE_PHOTOS_DIR.glob("*.jpg"))


def photo_sources() -> list[Path]:
    found = sorted(p for p in TESTDATA.rglob("*.jpg") if p.stat().st_size > 200_000) if TESTDATA.is_dir() else []
    return found or sorted(SAMPLE_PHOTOS_DIR.rglob("*.jpg"))


def model_only(model_dir: Path, device: str, n: int, batch: int) -> Row:
    from engine.models.image_text import ImageTextModel

    model = ImageTextModel(get_spec("SigLIP"), model_dir, device=device, runtime="torch")
    pre = model.preprocessor
    images = np.random.default_rng(0).integers(0, 256, (batch, pre.height, pre.width, 3), dtype=np.uint8)
    model.encode_images(images)
    sync = _cuda_sync(device)
    started = time.perf_counter()
    for _ in range(max(1, n // batch)):
        model.encode_images(images)
    sync()
    seconds = time.perf_counter() - started
    dtype = str(model.model.dtype).removeprefix("torch.")
    model.unload()
    return Row("(a)", f"SigLIP vision tower alone, {pre.height} px, {dtype}, batch {batch}, {device}",
               batch * max(1, n // batch), seconds)


def _cuda_sync(device: str):
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def _pil_decode(args: tuple[Path, int, int, int]) -> tuple[int, int]:
    from engine.media.decode import load_image
    from engine.media.preprocess import Preprocessor

    path, height, width, min_side = args
    image = load_image(path.read_bytes(), "jpg", min_side=min_side, max_pixels=200_000_000)
    return Preprocessor(height, width).to_uint8(image).shape[:2]


def pil_decode(files: list[Path], side: int, processes: int) -> Row:
    jobs = [(f, side, side, side) for f in files]
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_pil_decode, jobs[:processes]))
        started = time.perf_counter()
        list(pool.map(_pil_decode, jobs, chunksize=4))
        seconds = time.perf_counter() - started
    return Row("(b)", f"PIL decode with DCT scaling to {side} px, {processes} processes (the engine's decoder)",
               len(files), seconds)


def nvjpeg_decode(files: list[Path], side: int, batch: int, enabled: bool) -> Row:
    what = f"nvjpeg batch decode (`torchvision.io.decode_jpeg`, device cuda), batch {batch}, resize to {side} px on the GPU"
    if not enabled:
        return Row("(c)", what, len(files), None, "--cpu: no CUDA")
    try:
        import torch
        import torchvision
        from torchvision.io import decode_jpeg
    except ImportError:
        return Row("(c)", what, len(files), None, "torchvision is not installed: run `bench/gpu.py --setup`")
    datas = [torch.frombuffer(bytearray(f.read_bytes()), dtype=torch.uint8) for f in files]

    def run(chunk: list) -> None:
        images = decode_jpeg(chunk, device="cuda")
        resized = [torch.nn.functional.interpolate(im[None].float(), size=(side, side), mode="bilinear", antialias=True)
                   for im in images]
        torch.stack([r[0] for r in resized]).to(torch.uint8)

    run(datas[:batch])
    torch.cuda.synchronize()
    started = time.perf_counter()
    for i in range(0, len(datas), batch):
        run(datas[i:i + batch])
    torch.cuda.synchronize()
    return Row("(c)", what, len(files), time.perf_counter() - started, f"torchvision {torchvision.__version__}")


def faces_only(files: list[Path], device: str, settings: Settings) -> Row:
    from engine.models.face import FaceAnalyzer
    from engine.models.face_pack import resolve_face_pack
    from engine.media.decode import load_image

    analyzer = FaceAnalyzer(resolve_face_pack(settings), device).load()
    provider = analyzer.runtime.models["detection"].session.get_providers()[0]
    images = [np.asarray(load_image(f.read_bytes(), "jpg", min_side=640, max_pixels=200_000_000).convert("RGB"))
              for f in files]
    analyzer.analyze(images[:2], det_size=settings.face_det_size)
    started = time.perf_counter()
    found = sum(len(faces) for faces in analyzer.analyze(images, det_size=settings.face_det_size))
    seconds = time.perf_counter() - started
    return Row("(e)", f"faces alone: `FaceAnalyzer.analyze`, {analyzer.name}, det {settings.face_det_size} px, {provider}"
               f" (decoded beforehand)", len(files), seconds, f"{found} faces")


def end_to_end(settings: Settings, n: int) -> Row:
    from engine.app import PhotoIndex
    from engine.db.database import open_database

    engine = PhotoIndex(settings, open_database(settings))
    try:
        with CpuMeter(settings.embedded_db_dir.resolve()) as cpu:
            report = engine.index(settings.clip_model)
        assert report.indexed == n and report.failed == 0, report
    finally:
        engine.close()
    return Row("(d)", "end to end, cold: `PhotoIndex.index()` into a fresh DB on the engine's Dask cluster"
               f" ({settings.clip_device}, decode workers = cores)", n, cpu.seconds, f"{cpu.own_cores:.1f} cores busy")


def faces_end_to_end(settings: Settings, n: int) -> Row:
    from engine.app import PhotoIndex
    from engine.db.database import open_database

    engine = PhotoIndex(settings, open_database(settings))
    try:
        engine.index(settings.clip_model)  # the photos rows (and vectors) the face stage reads
        with CpuMeter(settings.embedded_db_dir.resolve()) as cpu:
            report = engine.faces.index()
        assert report.photos == n and report.failed == 0, report
    finally:
        engine.close()
    return Row("(f)", f"faces end to end: `PhotoIndex.faces.index()`, FACE_DEVICE={settings.face_device}", n, cpu.seconds,
               f"{report.faces} faces, {cpu.own_cores:.1f} cores busy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", action="store_true", help="install torchvision and onnxruntime-gpu, then exit")
    parser.add_argument("--cpu", action="store_true", help="skip CUDA: run every row on the CPU (a test of the script)")
    parser.add_argument("--files", type=int, default=1000, help="12 MP JPEGs for the image-text rows")
    parser.add_argument("--face-files", type=int, default=500, help="12 MP JPEGs with faces for the face rows")
    parser.add_argument("--size", default="so400m", choices=["so400m", "tiny"], help="SigLIP architecture (random weights)")
    parser.add_argument("--batch", type=int, default=64, help="model batch (CLIP_BATCH_SIZE)")
    parser.add_argument("--megapixels", type=float, default=12.0, help="size of the generated photos")
    args = parser.parse_args()
    if args.setup:
        setup()
        return
    device = "cpu" if args.cpu else "cuda"
    if not args.cpu:
        import torch

        if not torch.cuda.is_available():
            sys.exit("No CUDA device is visible to torch (or this torch build has none); run with --cpu to test the script.")
    processes = os.cpu_count() or 1
    width = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    height = width * 3 // 4
    photos = make_jpegs(photo_sources(), BENCH_ROOT / f"gpu-photos-{args.files}-{width}", args.files, (width, height), processes)
    faces = make_jpegs(face_sources(), BENCH_ROOT / f"gpu-faces-{args.face_files}-{width}", args.face_files, (width, height),
                       processes, keep=0.9)
    model_dir = ensure_model(get_spec("SigLIP"), "float32" if args.cpu else "bfloat16", args.size)
    run_dir = scratch_dir("gpu-run-")
    base = dict(_env_file=None, database_url=None, models_dir=run_dir / "models", model_paths={"SigLIP": model_dir},
                clip_model="SigLIP", clip_device=device, clip_runtime="torch", face_device=device, clip_batch_size=args.batch,
                face_model="buffalo_s", face_model_download=False, index_on_start=False)
    clip_settings = Settings(**base, data_dir=run_dir / "clip", photos_dir=photos)
    face_settings = Settings(**base, data_dir=run_dir / "faces", photos_dir=faces)
    side = 384 if args.size == "so400m" else 32
    rows: list[Row] = []
    try:
        log("(a) model alone")
        rows.append(model_only(model_dir, device, max(args.batch * 4, args.files // 2), args.batch))
        files = sorted(photos.glob("*.jpg"))
        log("(b) PIL decode")
        rows.append(pil_decode(files, side, processes))
        log("(c) nvjpeg decode")
        rows.append(nvjpeg_decode(files, side, args.batch, not args.cpu))
        log("(d) end to end")
        rows.append(end_to_end(clip_settings, args.files))
        stop_embedded(clip_settings)
        log("(e) faces alone")
        rows.append(faces_only(sorted(faces.glob("*.jpg")), device, face_settings))
        log("(f) faces end to end")
        rows.append(faces_end_to_end(face_settings, args.face_files))
    finally:
        for settings in (clip_settings, face_settings):
            stop_embedded(settings)
        shutil.rmtree(run_dir, ignore_errors=True)

    print(f"\n### GPU benchmark: SigLIP {args.size} random weights, {args.files} + {args.face_files} synthetic"
          f" {width}x{height} JPEGs, device {device}\n")
    print("| row | what | files | s | img/s | notes |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())
    print("\n" + provenance())


if __name__ == "__main__":
    main()
