"""Peak memory of the server while decompression bombs are uploaded to /search/image at once.

A bomb is a small PNG that inflates to a huge picture: 16000x12000 RGB (the case that took a
server to 4.9 GB), and a picture just under UPLOAD_MAX_PIXELS (RGBA, the most that is still
decoded). The real server (uvicorn, the REST app, the engine, its embedded database) runs in a
child process over a tiny random-weight CLIP, so its resident memory is the server's own plus what
the uploads cost; it is sampled every 5 ms (psutil) and read as the kernel's high-water mark
(VmHWM). The peer is the decode the server used before (`load_image` at MAX_IMAGE_PIXELS, then the
model's preprocessing), run in another child process on the same bombs.

    .venv/bin/python bench/upload_bombs.py --bombs 10 --peer-concurrency 2
"""
from __future__ import annotations

import argparse
import concurrent.futures
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, REPO, CpuMeter, command, machine, revision  # noqa: E402

sys.path.insert(0, str(REPO))  # the random-weight model builder lives with the tests

MODEL = "ViT-B/32"
BOMB = (16000, 12000)


def png_bomb(width: int, height: int, alpha: bool = False) -> bytes:
    """A valid PNG of `width` x `height` black pixels, every row present (zlib-streamed, a few hundred KB)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    channels = 4 if alpha else 3
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    compressor, row, parts = zlib.compressobj(9), b"\x00" * (width * channels + 1), []
    for _ in range(height):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """The largest RSS of `pid` seen while the block runs (every 5 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self) -> "Sampler":
        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.peak = max(self.peak, rss_mb(self.pid))
                except psutil.NoSuchProcess:  # the peer finished
                    return
                time.sleep(0.005)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the child processes ------------------------------------------------------------------

def serve_child(workdir: Path, port: int) -> None:
    import uvicorn

    from dashboard.server import create_app
    from engine.config import Settings

    settings = Settings(_env_file=None, data_dir=workdir / "data", photos_dir=workdir / "library", clip_model=MODEL,
                        clip_device="cpu", model_paths={MODEL: workdir / "model"}, index_on_start=False,
                        dask_decode_workers=1)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def peer_child(bomb_path: Path, concurrency: int, count: int) -> None:
    """The decode before this change: full size up to MAX_IMAGE_PIXELS, then the model's geometry."""
    from engine.media.decode import DecodeError, load_image
    from engine.media.preprocess import Preprocessor

    data, prep = bomb_path.read_bytes(), Preprocessor(224, 224, shortest_edge=224)

    def one(_: int) -> str:
        try:
            prep.to_uint8(load_image(data, "jpg", min_side=prep.min_source_side, max_pixels=200_000_000))
            return "decoded"
        except DecodeError as exc:
            return f"refused ({exc})"

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(one, range(count)))
    print(outcomes[0])


# --- the run ------------------------------------------------------------------------------

def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    child = subprocess.Popen([sys.executable, __file__, "--serve-child", str(workdir), str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2, trust_env=False).status_code == 200:
                return child, url
        except httpx.HTTPError:
            pass
        if child.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.5)
    raise SystemExit("the server did not answer in 300 s")


def upload_round(url: str, pid: int, data: bytes, bombs: int) -> dict:
    def one(_: int) -> tuple[int, float, str]:
        started = time.perf_counter()
        answer = httpx.post(url + "/search/image", files={"file": ("bomb.png", data, "image/png")},
                            timeout=600, trust_env=False)
        return answer.status_code, time.perf_counter() - started, answer.json().get("detail", "")[:80]

    before = rss_mb(pid)
    with Sampler(pid) as sampler, CpuMeter() as cpu, concurrent.futures.ThreadPoolExecutor(bombs) as pool:
        results = list(pool.map(one, range(bombs)))
    return {"before": before, "peak": sampler.peak, "hwm": hwm_mb(pid), "statuses": sorted({r[0] for r in results}),
            "slowest": max(r[1] for r in results), "detail": results[0][2], "other": cpu.other_cores}


def peer_round(path: Path, concurrency: int, count: int) -> dict:
    child = subprocess.Popen([sys.executable, __file__, "--peer-child", str(path), str(concurrency), str(count)],
                             stdout=subprocess.PIPE, text=True)
    started = time.perf_counter()
    with Sampler(child.pid) as sampler, CpuMeter() as cpu:
        out, _ = child.communicate()
    return {"peak": sampler.peak, "seconds": time.perf_counter() - started, "outcome": out.strip()[:60],
            "other": cpu.other_cores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bombs", type=int, default=10, help="uploads sent at once")
    parser.add_argument("--peer-concurrency", type=int, default=2, help="bombs decoded at once by the peer (0: skip)")
    parser.add_argument("--serve-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--peer-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        return serve_child(Path(args.serve_child[0]), int(args.serve_child[1]))
    if args.peer_child:
        return peer_child(Path(args.peer_child[0]), int(args.peer_child[1]), int(args.peer_child[2]))

    from PIL import Image

    from engine.config import Settings
    from tests.synthetic_models import build_random_model

    workdir = BENCH_ROOT / f"upload-bombs-{os.getpid()}"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "library").mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 90, 30)).save(workdir / "library" / "a.jpg")
    build_random_model("clip", workdir / "model", size="tiny", embed_dim=512)
    cap = Settings(_env_file=None).upload_max_pixels
    side = int(cap ** 0.5)
    bombs = {f"{BOMB[0]}x{BOMB[1]} RGB PNG": png_bomb(*BOMB),
             f"{side}x{side} RGBA PNG (just under UPLOAD_MAX_PIXELS)": png_bomb(side, side, alpha=True)}
    for name, data in bombs.items():
        (workdir / f"{name.split()[0]}.png").write_bytes(data)

    child, url = start_server(workdir)
    rows = []
    try:
        warm = io.BytesIO()
        Image.new("RGB", (640, 480), (30, 90, 200)).save(warm, "JPEG")
        httpx.post(url + "/search/image", files={"file": ("w.jpg", warm.getvalue(), "image/jpeg")}, timeout=300,
                   trust_env=False).raise_for_status()  # the model is loaded: the baseline is the ready server
        for name, data in bombs.items():
            r = upload_round(url, child.pid, data, args.bombs)
            rows.append(f"| this server | {args.bombs} × {name}, {len(data) // 1024} KB | {r['before']:.0f} | "
                        f"**{r['peak']:.0f}** | {r['hwm']:.0f} | {r['peak'] - r['before']:+.0f} | {r['slowest']:.1f} | "
                        f"{', '.join(map(str, r['statuses']))}: {r['detail']} | {r['other']:.2f} |")
    finally:
        child.terminate()
        child.wait(60)
    if args.peer_concurrency:
        for name, data in bombs.items():
            path = workdir / f"{name.split()[0]}.png"
            r = peer_round(path, args.peer_concurrency, args.peer_concurrency)
            rows.append(f"| peer: decode before this change | {args.peer_concurrency} × {name} | — | **{r['peak']:.0f}** |"
                        f" — | — | {r['seconds']:.1f} | {r['outcome']} | {r['other']:.2f} |")
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"machine: {machine()}\nengine: {revision()}\ncommand: {command()}\n")
    print("| process | uploads at once | RSS before, MB | peak RSS, MB | VmHWM, MB | growth, MB | slowest, s |"
          " answer | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
