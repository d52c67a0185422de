"""The cache-warming stage: render missing thumbnails on the decode workers, heavy formats first.

RAW and HEIC renditions cost the most to make on demand, so they come first. Only the JPEG bytes
travel back; they are written to the disk cache here.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from engine.db.photos import Photo
from engine.library.paths import OutsideLibrary, read_inside, resolve_inside
from engine.media.formats import RAW_FORMATS
from engine.media.thumbcache import LayeredThumbnailCache
from engine.media.thumbnails import ThumbKind, normalize_rotation, render_view
from engine.runtime.progress import ProgressCallback
from engine.runtime.runner import StageRunner
from engine.runtime.stage import Stage


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
    kind: ThumbKind
    max_side: int
    root: Path
    """The library root: the file is opened with no symbolic link below it."""


@dataclass(frozen=True)
class Rendered:
    photo_id: int
    data: bytes | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None


def render_batch(items: list[WarmItem], max_pixels: int) -> list[Rendered]:
    """Runs on a decode worker: JPEG bytes per rendition (or the error); one bad file never fails the batch."""
    out = []
    for item in items:
        try:
            data = read_inside(item.root, item.path)
            out.append(Rendered(item.photo_id, render_view(data, item.format, item.max_side, item.rotation,
                                                           max_pixels)))
        except Exception as exc:
            out.append(Rendered(item.photo_id, None, f"{type(exc).__name__}: {exc}"))
    return out


@dataclass(frozen=True)
class WarmReport:
    rendered: int
    cached_already: int
    failed: int
    seconds: float
    cancelled: bool = False


class WarmStage(Stage[WarmItem, Rendered]):
    name = "warming"

    def __init__(self, cache: LayeredThumbnailCache, photos: Sequence[Photo], root: Path, *,
                 kinds: tuple[ThumbKind, ...], batch_size: int) -> None:
        """Every rendition of `kinds` of `photos` not on disk yet (files outside `root` are skipped)."""
        self.cache = cache
        self.decode = partial(render_batch, max_pixels=cache.max_pixels)
        self.decode_batch = batch_size
        self.todo: list[WarmItem] = []
        self.cached_already = 0
        for p in sorted(photos, key=lambda p: (warm_order(p.format), p.id)):
            rotation = normalize_rotation(p.rotation)
            try:
                source = resolve_inside(root, p.path)
            except OutsideLibrary:
                continue
            for kind in kinds:
                if cache.path_for(p.id, kind, rotation, p.version).is_file():
                    self.cached_already += 1
                else:
                    self.todo.append(WarmItem(p.id, source, p.format, rotation, p.version, kind, cache.size_for(kind),
                                              root))

    def count(self) -> int:
        return len(self.todo)

    def pending(self) -> Iterable[Sequence[WarmItem]]:
        return [self.todo]

    def failure(self, item: WarmItem, reason: str) -> Rendered:
        return Rendered(item.photo_id, None, reason)

    def label(self, item: WarmItem) -> str:
        return item.path.name

    def write(self, done: list[tuple[WarmItem, Rendered]]) -> None:
        for item, result in done:
            if result.data is not None:
                self.cache.store(item.photo_id, item.kind, item.rotation, item.version, result.data)


def warm_cache(cache: LayeredThumbnailCache, runner: StageRunner, photos: Sequence[Photo], root: Path, *,
               kinds: tuple[ThumbKind, ...] = ("thumb",), batch_size: int = 8, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None) -> WarmReport:
    """Render every missing rendition of `photos`, heavy formats first, and store them on disk."""
    started = time.time()
    stage = WarmStage(cache, photos, root, kinds=kinds, batch_size=batch_size)
    run = runner.run(stage, progress=progress, cancel=cancel)
    return WarmReport(run.done - run.failed, stage.cached_already, run.failed, time.time() - started, run.cancelled)
