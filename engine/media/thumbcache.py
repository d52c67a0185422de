"""Thumbnails served from memory first: an LRU of JPEG bytes in front of the disk cache.

Memory entries are keyed like disk files (photo, kind, rotation, version), so a new rotation
or new file bytes simply miss. The LRU is bounded by bytes, not entries.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from engine.media.decode import DEFAULT_MAX_PIXELS
from engine.media.thumbnails import ThumbKind, ThumbnailCache, normalize_rotation

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

    def __init__(self, cache_dir: Path, max_pixels: int = DEFAULT_MAX_PIXELS, memory_bytes: int = 128 << 20,
                 library_root: Path | None = None) -> None:
        super().__init__(cache_dir, max_pixels, library_root)
        self.memory = MemoryLRU(memory_bytes)

    def get_bytes(self, photo_id: int, source: Path, fmt: str, kind: ThumbKind, rotation: int, version: str,
                  root: Path | None = None) -> bytes:
        key = (photo_id, kind, normalize_rotation(rotation), str(version))
        data = self.memory.get(key)
        if data is None:
            data = self.get(photo_id, source, fmt, kind, rotation, version, root).read_bytes()
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
