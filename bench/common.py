"""What both benchmarks share: the machine description, the reproducing command, stopping the
embedded database they started."""
from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from engine.config import Settings

if TYPE_CHECKING:
    from engine.models.registry import ModelSpec

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the random-weight model builder lives with the tests
SHARED = Path(os.environ.get("PHOTOINDEX_SHARED") or next(
    (p / "shared" for p in REPO.parents if (p / "shared" / "peers").is_dir()), REPO.parent / "shared"))
"""The project's shared folder (the peers, the test photos): beside the checkout or above it."""
BENCH_ROOT = Path(os.environ.get("PHOTOINDEX_BENCH_DIR", "/tmp/photoindex-bench"))
"""Scratch space of the benchmarks (corpora, random-weight models, databases); created on use."""


def log(message: str) -> None:
    """A timestamped progress line on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


SIZES = {"SigLIP": "so400m", "ViT-B/32": "vit-b32", "ViT-B/16": "vit-b16", "ViT-L/14": "vit-l14"}
"""The random-weight architecture (`tests.synthetic_models`) standing in for each registry model."""


def scratch_dir(prefix: str) -> Path:
    """A new empty folder under BENCH_ROOT, which need not exist yet."""
    BENCH_ROOT.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=BENCH_ROOT, prefix=prefix))


def _cpuinfo(key: str) -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def _system_busy_s() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _tree_cpu_s(roots: list[psutil.Process]) -> float:
    """CPU seconds of `roots`, their live descendants, and the children they have reaped."""
    seen: dict[int, psutil.Process] = {}
    for root in roots:
        try:
            for p in (root, *root.children(recursive=True)):
                seen[p.pid] = p
        except psutil.NoSuchProcess:
            continue
    total = 0.0
    for p in seen.values():
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class CpuMeter:
    """Busy cores over a block: ours (this process tree and the database server in `pgdata`)
    and everyone else's, so a run disturbed by other work on the machine says so."""

    def __init__(self, pgdata: Path | None = None) -> None:
        self.pgdata = pgdata
        self.seconds = self.own_cores = self.other_cores = 0.0

    def _roots(self) -> list[psutil.Process]:
        roots = [psutil.Process()]
        pidfile = self.pgdata / "postmaster.pid" if self.pgdata else None
        if pidfile and pidfile.is_file():
            try:
                roots.append(psutil.Process(int(pidfile.read_text().split()[0])))
            except (psutil.NoSuchProcess, ValueError, IndexError):
                pass
        return roots

    def __enter__(self) -> "CpuMeter":
        self._start = (time.perf_counter(), _system_busy_s(), _tree_cpu_s(self._roots()))
        return self

    def __exit__(self, *exc: object) -> None:
        wall, busy, own = time.perf_counter(), _system_busy_s(), _tree_cpu_s(self._roots())
        self.seconds = wall - self._start[0]
        self.own_cores = (own - self._start[2]) / self.seconds
        self.other_cores = max(0.0, (busy - self._start[1]) / self.seconds - self.own_cores)


def ensure_model(spec: "ModelSpec", dtype: str = "float32", size: str | None = None) -> Path:
    """A random-weight folder of `spec`'s real architecture (or `size`, e.g. "tiny") under
    BENCH_ROOT/models, built once."""
    from engine.models.paths import is_model_dir
    from tests.synthetic_models import build_random_model

    size = size or SIZES[spec.name]
    folder = BENCH_ROOT / "models" / (f"{spec.family}-{size}" if size == "tiny" else size)
    folder = folder.with_name(folder.name + ("" if dtype == "float32" else f"-{dtype}"))
    if not is_model_dir(folder):
        log(f"building a random-weight {size} ({dtype}) model in {folder}")
        staging = scratch_dir(f"model-{size}-")
        tiny_dim = {"embed_dim": spec.dim} if size == "tiny" else {}  # the table's vector size
        build_random_model(spec.family, staging, size=size, dtype=dtype, **tiny_dim)  # type: ignore[arg-type]
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    return folder


def _make_jpeg(job: tuple[Path, Path, int, tuple[int, int], float]) -> None:
    """One camera-like JPEG: a random window of `source` (at least `keep` of each side), resized,
    tinted and lightly noised so that no two files are equal."""
    import numpy as np
    from PIL import Image

    source, target, seed, (width, height), keep = job
    rng = np.random.default_rng(seed)
    with Image.open(source) as image:
        image = image.convert("RGB")
    w, h = image.size
    cw, ch = int(w * rng.uniform(keep, 1)), int(h * rng.uniform(keep, 1))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    pixels = np.asarray(image.crop((x, y, x + cw, y + ch)).resize((width, height), Image.BICUBIC), np.int16)
    pixels = pixels + rng.integers(-6, 7, pixels.shape, dtype=np.int16) + rng.integers(-15, 16, 3, dtype=np.int16)
    staging = target.with_suffix(".part")
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(staging, "JPEG", quality=90)
    staging.replace(target)


def make_jpegs(sources: list[Path], folder: Path, n: int, size: tuple[int, int], processes: int,
               keep: float = 0.7) -> Path:
    """`folder` holding exactly `n` distinct JPEGs of `size` made from `sources`, in parallel;
    files already there are kept (the recipe of ../shared/peers/make_corpus.py, which is serial)."""
    from concurrent.futures import ProcessPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    for left in folder.glob("*.part"):  # an interrupted run
        left.unlink()
    jobs = [(sources[i % len(sources)], folder / f"img_{i:05d}.jpg", i, size, keep)
            for i in range(n) if not (folder / f"img_{i:05d}.jpg").is_file()]
    if jobs:
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_make_jpeg, jobs, chunksize=4))
    return folder


def machine() -> str:
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (no CUDA device)"
    return (
        f"nproc {os.cpu_count()}, CPU {_cpuinfo('model name')}, RAM {_ram_gib():.1f} GiB, "
        f"Python {platform.python_version()}, torch {torch.__version__}, device {device}"
    )


def revision() -> str:
    """The engine's commit, and whether engine/ differs from it in the working tree."""
    git = ["git", "-C", str(REPO)]
    try:
        sha = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "engine"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"{sha}{' + uncommitted changes in engine/' if dirty else ''}"


def command() -> str:
    script = Path(sys.argv[0]).resolve().relative_to(REPO)
    return f"cd {REPO} && .venv/bin/python {shlex.join([str(script), *sys.argv[1:]])}"


def provenance() -> str:
    """The lines under every table: how to reproduce it, where and on what it ran."""
    return "\n".join([f"command: `{command()}`", f"machine: {machine()}", f"engine: {revision()}",
                      f"date: {time.strftime('%Y-%m-%d %H:%M')}"])


def stop_embedded(settings: Settings) -> None:
    from engine.db.embedded import stop_embedded_server

    stop_embedded_server(settings.embedded_db_dir)
