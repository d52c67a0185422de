"""The perceptual-hash indexing stage: a 256-bit DCT hash per photo, computed on CPU workers.

`imagehash.phash(hash_size=16)` of the oriented image (EXIF orientation applied, the user's
rotation not: it is a display setting). Photos still missing the hash are decoded in batches
on the Dask decode workers (`resources={"CPU": 1}`), only the hashes come back, and each batch
is written in one transaction; a stopped run resumes from `phash_indexed = FALSE`. A file that
cannot be decoded is marked tried (`phash_indexed`, hash NULL) so it is not retried forever.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from distributed import as_completed

from engine.db.database import Database
from engine.indexing.cluster import DECODE, ClusterHandle
from engine.indexing.pipeline import IndexProgress

log = logging.getLogger(__name__)

HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE
DECODE_MIN_SIDE = 256
"""phash works on a 64x64 downscale; decoding at >= 256 px (DCT-scaled JPEG, RAW preview) is plenty."""


@dataclass(frozen=True)
class PhashItem:
    photo_id: int
    path: Path
    format: str
    size: int
    mtime: float


@dataclass(frozen=True)
class PhashResult:
    photo_id: int
    bits: str | None
    """256 characters of 0/1 (row-major hash matrix), or None when the file could not be decoded."""
    error: str | None = None


@dataclass(frozen=True)
class PhashReport:
    hashed: int
    failed: int
    seconds: float
    cancelled: bool = False


def phash_bits(image) -> str:
    """The 256-bit perceptual hash of a PIL image as a 0/1 string."""
    import imagehash

    return "".join("1" if b else "0" for b in imagehash.phash(image, hash_size=HASH_SIZE).hash.flatten())


def bits_to_hex(bits: str | None) -> str | None:
    return None if bits is None else f"{int(bits, 2):0{HASH_BITS // 4}x}"


def hamming(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b))


def phash_batch(items: list[PhashItem], max_pixels: int) -> list[PhashResult]:
    """Runs on a decode worker: read, decode small, hash. One bad file never fails the batch."""
    from engine.media.decode import DecodeError, load_image

    out = []
    for item in items:
        try:
            image = load_image(item.path, item.format, min_side=DECODE_MIN_SIDE, max_pixels=max_pixels)
            out.append(PhashResult(item.photo_id, phash_bits(image)))
        except (DecodeError, OSError) as exc:
            out.append(PhashResult(item.photo_id, None, str(exc)))
        except Exception as exc:  # a hostile file must not fail its batch
            out.append(PhashResult(item.photo_id, None, f"{type(exc).__name__}: {exc}"))
    return out


def count_pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM photos WHERE NOT phash_indexed").fetchone()["n"]


def pending(conn: psycopg.Connection, after_id: int, limit: int) -> list[dict]:
    return conn.execute(
        "SELECT id, path, format, size, mtime FROM photos WHERE NOT phash_indexed AND id > %s ORDER BY id LIMIT %s",
        (after_id, limit),
    ).fetchall()


def store(conn: psycopg.Connection, item: PhashItem, result: PhashResult) -> None:
    """Write one hash unless the file changed since it was read (size/mtime guard)."""
    conn.execute(
        "UPDATE photos SET phash = %s::bit(256), phash_indexed = TRUE WHERE id = %s AND size = %s AND mtime = %s",
        (result.bits, item.photo_id, item.size, item.mtime),
    )


def reset(conn: psycopg.Connection, ids: list[int] | None = None) -> int:
    """Forget hashes (all, or of some photos) so the next stage run computes them again."""
    if ids is None:
        return conn.execute("UPDATE photos SET phash = NULL, phash_indexed = FALSE WHERE phash_indexed").rowcount
    return conn.execute("UPDATE photos SET phash = NULL, phash_indexed = FALSE WHERE id = ANY(%s)", (ids,)).rowcount


class PhashIndexer:
    """Computes missing perceptual hashes on the cluster with a bounded window of batches."""

    def __init__(self, db: Database, cluster: ClusterHandle, root: Path, *, batch_size: int = 16,
                 max_pixels: int = 200_000_000) -> None:
        self.db = db
        self.cluster = cluster
        self.root = root
        self.batch_size = max(1, batch_size)
        self.max_pixels = max_pixels

    def run(self, *, progress: Callable[[IndexProgress], None] | None = None,
            cancel: threading.Event | None = None) -> PhashReport:
        started = time.time()
        notify = progress or (lambda _p: None)
        with self.db.connection() as conn:
            state = IndexProgress(stage="phash", total=count_pending(conn))
        notify(state)
        if state.total == 0:
            return PhashReport(0, 0, time.time() - started)
        client = self.cluster.client()
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        window = max(2, 2 * len(workers))
        root = self.root.resolve()
        in_flight: dict = {}
        hashed = failed = 0

        def collect(block_until_one: bool) -> Iterator[tuple[list[PhashItem], list[PhashResult]]]:
            done = next(as_completed(list(in_flight), loop=client.loop)) if block_until_one else None
            for future in [done] if done is not None else list(in_flight):
                items = in_flight.pop(future)
                try:
                    results = future.result()
                except Exception as exc:  # a crashed worker: mark the batch failed, carry on
                    results = [PhashResult(i.photo_id, None, f"the decoder crashed ({type(exc).__name__})") for i in items]
                future.release()
                yield items, results

        def write(items: list[PhashItem], results: list[PhashResult]) -> None:
            nonlocal hashed, failed
            by_id = {i.photo_id: i for i in items}
            with self.db.connection() as conn:
                for r in results:
                    store(conn, by_id[r.photo_id], r)
            hashed += sum(r.bits is not None for r in results)
            failed += sum(r.bits is None for r in results)
            state.done += len(results)
            state.failed = failed
            state.current = items[-1].path.relative_to(root).as_posix() if items else None
            notify(state)

        after = 0
        while not (cancel is not None and cancel.is_set()):
            with self.db.connection() as conn:
                rows = pending(conn, after, self.batch_size * window)
            if not rows:
                break
            after = rows[-1]["id"]
            items = [PhashItem(r["id"], root / r["path"], r["format"], r["size"], r["mtime"]) for r in rows]
            for start in range(0, len(items), self.batch_size):
                if cancel is not None and cancel.is_set():
                    break
                batch = items[start : start + self.batch_size]
                future = client.submit(phash_batch, batch, self.max_pixels, resources=DECODE, pure=False)
                in_flight[future] = batch
                while len(in_flight) >= window:
                    for done_items, results in collect(True):
                        write(done_items, results)
        while in_flight:
            for done_items, results in collect(True):
                write(done_items, results)
        cancelled = cancel is not None and cancel.is_set()
        state.stage = "cancelled" if cancelled else "done"
        notify(state)
        return PhashReport(hashed, failed, time.time() - started, cancelled)
