"""Thumbnails served from memory first: an LRU of JPEG bytes in front of the disk cache,
and the cache-warming stage that renders missing thumbnails on the Dask decode workers.

Memory entries are keyed like disk files (photo, kind, rotation, version), so a new rotation
or new file bytes simply miss. The LRU is bounded by bytes, not entries.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.media.decode import DEFAULT_MAX_PIXELS
from engine.media.formats import RAW_FORMATS
from engine.media.thumbnails import ThumbKind, ThumbnailCache, normalize_rotation, render_view

Key = tuple[int, str, int, str]


class MemoryLRU:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._items: OrderedDict[Key, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = 0

    def get(self, key: Key) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: Key, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)
                self.evictions += 1

    def drop(self, photo_id: int) -> int:
        with self._lock:
            keys = [k for k in self._items if k[0] == photo_id]
            for k in keys:
                self._bytes -= len(self._items.pop(k))
            return len(keys)

    def clear(self) -> int:
        with self._lock:
            n = len(self._items)
            self._items.clear()
            self._bytes = 0
            return n

    def stats(self) -> dict[str, Any]:
        with self._lock:
            lookups = self.hits + self.misses
            return {"entries": len(self._items), "bytes": self._bytes, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses, "evictions": self.evictions,
                    "hit_rate": round(self.hits / lookups, 4) if lookups else 0.0}


class LayeredThumbnailCache(ThumbnailCache):
    """`ThumbnailCache` (disk) with a memory LRU in front; `get_bytes` is the fast path."""

    def __init__(self, cache_dir: Path, max_pixels: int = DEFAULT_MAX_PIXELS, memory_bytes: int = 128 << 20) -> None:
        super().__init__(cache_dir, max_pixels)
        self.memory = MemoryLRU(memory_bytes)

    def get_bytes(self, photo_id: int, source: Path, fmt: str, kind: ThumbKind, rotation: int, version: str) -> bytes:
        key = (photo_id, kind, normalize_rotation(rotation), str(version))
        data = self.memory.get(key)
        if data is None:
            data = self.get(photo_id, source, fmt, kind, rotation, version).read_bytes()
            self.memory.put(key, data)
        return data

    def store(self, photo_id: int, kind: ThumbKind, rotation: int, version: str, data: bytes) -> Path:
        """Write a rendition made elsewhere (a warm-up worker) into the disk cache."""
        path = self.path_for(photo_id, kind, rotation, version)
        self._write_atomic(path, data)
        self._drop_stale(path, photo_id, kind, rotation)
        return path

    def invalidate(self, photo_id: int) -> int:
        self.memory.drop(photo_id)
        return super().invalidate(photo_id)

    def clear(self) -> int:
        self.memory.clear()
        return super().clear()

    def stats(self) -> dict[str, Any]:  # type: ignore[override]
        disk = super().stats()
        return {"disk": {**disk, "dir": str(self.cache_dir)}, "memory": self.memory.stats()}


# --- warming -------------------------------------------------------------------------------

HEAVY_FIRST = ("raw", "heic")
"""Warm order: RAW and HEIC renditions cost the most to make on demand, so they come first."""


def warm_order(fmt: str) -> int:
    if fmt in RAW_FORMATS:
        return 0
    if fmt == "heic":
        return 1
    return 2


@dataclass(frozen=True)
class WarmItem:
    photo_id: int
    path: Path
    format: str
    rotation: int
    version: str


def render_batch(items: list[WarmItem], kind: str, max_side: int, max_pixels: int) -> list[tuple[int, bytes | None, str | None]]:
    """Runs on a decode worker: JPEG bytes per photo (or the error); only bytes travel back."""
    out = []
    for item in items:
        try:
            out.append((item.photo_id, render_view(item.path, item.format, max_side, item.rotation, max_pixels), None))
        except Exception as exc:  # one bad file never fails the batch
            out.append((item.photo_id, None, f"{type(exc).__name__}: {exc}"))
    return out


@dataclass(frozen=True)
class WarmReport:
    rendered: int
    cached_already: int
    failed: int
    seconds: float
    cancelled: bool = False


def warm_cache(
    cache: LayeredThumbnailCache,
    client,
    photos: list[dict[str, Any]],
    root: Path,
    *,
    kinds: tuple[ThumbKind, ...] = ("thumb",),
    batch_size: int = 8,
    progress: Callable[[int, int, int, str | None], None] | None = None,
    cancel: threading.Event | None = None,
) -> WarmReport:
    """Render every missing rendition of `photos` (rows with id, path, format, exif_data,
    content_hash, size, mtime) on the cluster, heavy formats first, and store them on disk."""
    from distributed import as_completed

    from engine.indexing.cluster import DECODE
    from engine.library.paths import OutsideLibrary, resolve_inside

    started = time.time()
    notify = progress or (lambda *_: None)
    todo: list[tuple[str, WarmItem]] = []
    cached = 0
    for p in sorted(photos, key=lambda p: (warm_order(p["format"]), p["id"])):
        rotation = normalize_rotation(int((p.get("exif_data") or {}).get("UserRotation", 0) or 0))
        version = p["content_hash"] or f"{p['size']}-{p['mtime']}"
        try:
            source = resolve_inside(root, p["path"])
        except OutsideLibrary:
            continue
        for kind in kinds:
            if cache.path_for(p["id"], kind, rotation, version).is_file():
                cached += 1
            else:
                todo.append((kind, WarmItem(p["id"], source, p["format"], rotation, version)))
    total = len(todo)
    done = failed = 0
    notify(done, total, failed, None)
    in_flight: dict = {}
    window = 8

    def collect(future) -> None:
        nonlocal done, failed
        kind, batch = in_flight.pop(future)
        try:
            results = future.result()
        except Exception as exc:
            results = [(i.photo_id, None, str(exc)) for i in batch]
        by_id = {i.photo_id: i for i in batch}
        for photo_id, data, _err in results:
            if data is None:
                failed += 1
            else:
                item = by_id[photo_id]
                cache.store(photo_id, kind, item.rotation, item.version, data)  # type: ignore[arg-type]
        done += len(results)
        future.release()
        notify(done, total, failed, batch[-1].path.name if batch else None)

    for start in range(0, total, batch_size):
        if cancel is not None and cancel.is_set():
            break
        chunk = todo[start : start + batch_size]
        # one batch holds one kind
        by_kind: dict[str, list[WarmItem]] = {}
        for kind, item in chunk:
            by_kind.setdefault(kind, []).append(item)
        for kind, items in by_kind.items():
            f = client.submit(render_batch, items, kind, cache.size_for(kind), cache.max_pixels,  # type: ignore[arg-type]
                              resources=DECODE, pure=False)
            in_flight[f] = (kind, items)
        while len(in_flight) >= window:
            collect(next(as_completed(list(in_flight), loop=client.loop)))
    while in_flight:
        collect(next(as_completed(list(in_flight), loop=client.loop)))
    return WarmReport(done - failed, cached, failed, time.time() - started, bool(cancel is not None and cancel.is_set()))
