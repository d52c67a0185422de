"""What both benchmarks share: the machine description, the reproducing command, stopping the
embedded database they started."""
from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import psutil

from engine.config import Settings

REPO = Path(__file__).resolve().parents[1]
BENCH_ROOT = Path("/tmp/photoindex-bench")


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


def stop_embedded(settings: Settings) -> None:
    from engine.db.embedded import stop_embedded_server

    stop_embedded_server(settings.embedded_db_dir)
