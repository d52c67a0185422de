"""Image-text indexing: scan, then decode on CPU workers -> embed on the model worker -> write.

Stages are Dask tasks chained by futures, so decoded pixels go from a decode worker straight
to the model worker and only vectors come back here. A bounded window of batches in flight
keeps the model busy without holding the whole library in memory. Every model batch is
written in one transaction; a run killed at any point resumes from the photos still missing
a vector, and unique keys make a re-written row an update, never a duplicate.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path


from engine.config import Settings
from engine.db import embeddings as embedding_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.indexing.cluster import ClusterHandle
from engine.indexing.scan import ScanReport, scan_library
from engine.indexing.stream import BatchStream
from engine.indexing.tasks import DecodedPhoto, ModelRef
from engine.media.preprocess import Preprocessor
from engine.models.manager import ModelManager
from engine.models.registry import get_spec

log = logging.getLogger(__name__)


class EmbeddingSizeMismatch(RuntimeError):
    pass


@dataclass
class IndexProgress:
    stage: str = "idle"
    done: int = 0
    total: int = 0
    failed: int = 0
    current: str | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def rate(self) -> float:
        elapsed = time.time() - self.started_at
        return self.done / elapsed if elapsed > 0 and self.done else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None


@dataclass(frozen=True)
class IndexReport:
    models: tuple[str, ...]
    scan: ScanReport | None
    indexed: int
    failed: int
    seconds: float
    cancelled: bool = False
    warnings: tuple[str, ...] = ()


ProgressCallback = Callable[[IndexProgress], None]


class Indexer:
    def __init__(self, db: Database, settings: Settings, models: ModelManager, cluster: ClusterHandle) -> None:
        self.db = db
        self.settings = settings
        self.models = models
        self.cluster = cluster

    def run(
        self,
        model_names: Sequence[str],
        *,
        scan: bool = True,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        started = time.time()
        state = IndexProgress(stage="scanning")
        notify = progress or (lambda _p: None)
        notify(state)
        scan_report = scan_library(self.db, self.settings.photos_dir) if scan else None

        refs, geometries = self._model_refs(model_names)
        tables = [get_spec(r.name).table for r in refs]
        with self.db.connection() as conn:
            state.total = photo_rows.count_pending(conn, tables)
        state.stage = "indexing"
        state.started_at = time.time()
        notify(state)

        cancelled = False
        batches = self._batches(refs, geometries).run(self._pending(tables), cancel) if state.total else ()
        for group, batch in batches:
            self._write(batch, group, refs)
            state.done += len(batch)
            state.failed += sum(not d.ok for d in batch)
            state.current = group[batch[-1].photo_id].path if batch else state.current
            notify(state)
        if cancel is not None and cancel.is_set():
            cancelled = True
        state.stage = "cancelled" if cancelled else "done"
        notify(state)
        return IndexReport(
            models=tuple(r.name for r in refs),
            scan=scan_report,
            indexed=state.done - state.failed,
            failed=state.failed,
            seconds=time.time() - started,
            cancelled=cancelled,
        )

    def _model_refs(self, names: Sequence[str]) -> tuple[list[ModelRef], list[Preprocessor]]:
        refs: list[ModelRef] = []
        geometries: dict[str, Preprocessor] = {}
        for name in names:
            spec = get_spec(name)
            model = self.models.get(spec.name)
            if model.embedding_dim != spec.dim:
                raise EmbeddingSizeMismatch(
                    f"the folder {model.model_dir} gives {model.embedding_dim}-d embeddings, "
                    f"but {spec.name} stores {spec.dim}-d vectors ({spec.hf_id})"
                )
            prep = model.preprocessor
            geometries[prep.key()] = prep
            refs.append(ModelRef(spec.name, str(model.model_dir), self.settings.clip_device, prep.key()))
        return refs, list(geometries.values())

    def _batches(self, refs: list[ModelRef], geometries: list[Preprocessor]) -> BatchStream:
        return BatchStream(
            self.cluster.client(),
            self.settings.photos_dir.resolve(),
            refs,
            geometries,
            decode_batch_size=self.settings.decode_batch_size,
            model_batch_size=self.settings.clip_batch_size,
            max_pixels=self.settings.max_image_pixels,
            decode_timeout_s=self.settings.decode_timeout_s,
        )

    def _pending(self, tables: list[str]) -> Iterator[list[photo_rows.PendingPhoto]]:
        after = 0
        while True:
            with self.db.connection() as conn:
                chunk = photo_rows.pending(conn, tables, after_id=after)
            if not chunk:
                return
            yield chunk
            after = chunk[-1].id

    def _write(self, batch: list[DecodedPhoto], group: dict[int, photo_rows.PendingPhoto], refs: list[ModelRef]) -> None:
        by_table: dict[str, list] = {get_spec(r.name).table: [] for r in refs}
        with self.db.connection() as conn:
            for d in batch:
                photo = group[d.photo_id]
                if not d.ok:
                    photo_rows.mark_failed(conn, d.photo_id, d.reason or "unknown error", photo.size, photo.mtime)
                    continue
                assert d.content_hash is not None and d.metadata is not None
                if not photo_rows.apply_update(conn, photo, d.content_hash, d.metadata):
                    continue  # the file changed while it was decoded; the next scan picks it up
                for ref in refs:
                    by_table[get_spec(ref.name).table].append((d.photo_id, d.vectors[ref.name]))
            for table, rows in by_table.items():
                embedding_rows.upsert(conn, table, rows)

