"""Library operations as one service: trash, rotation, duplicates, albums, pHash and cache warming.

Plain data in, plain data out; the REST layer, the CLI and notebooks call these methods.
"""
from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any

from engine.config import Settings
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.indexing.cluster import ClusterHandle
from engine.indexing.pipeline import IndexProgress
from engine.jobs.runner import JobContext, JobRunner, JobStatus
from engine.library import rotation
from engine.library.albums import Albums
from engine.library.duplicates import DuplicateReport, Method, find_duplicates
from engine.library.phash import PhashIndexer, PhashReport
from engine.library.trash import Trash, TrashReport
from engine.media.thumbcache import LayeredThumbnailCache, WarmReport, warm_cache
from engine.search.filters import SearchFilters

PHASH_JOB = "phash"
WARM_JOB = "cache-warm"


class Library:
    def __init__(self, db: Database, settings: Settings, cluster: ClusterHandle, thumbnails: LayeredThumbnailCache) -> None:
        self.db = db
        self.settings = settings
        self.cluster = cluster
        self.thumbnails = thumbnails
        self.trash = Trash(db, settings.photos_dir, settings.resolved_trash_dir, on_removed=thumbnails.invalidate)
        self.albums = Albums(db)
        self.phash = PhashIndexer(db, cluster, settings.photos_dir, batch_size=settings.decode_batch_size,
                                  max_pixels=settings.max_image_pixels)

    # --- rotation
    def geotagged(self, ids: list[int] | None = None, limit: int = 100_000,
                  filters: SearchFilters | None = None) -> list[dict[str, Any]]:
        """Photos with GPS, for the map (of `ids`, passing `filters`): id, path, latitude, longitude, taken_at."""
        with self.db.connection() as conn:
            return photo_rows.geotagged(conn, ids, limit, filters.where("p") if filters else ((), ()))

    def rotate(self, photo_id: int, degrees: int, *, relative: bool = True) -> int:
        with self.db.connection() as conn:
            angle = rotation.rotate(conn, photo_id, degrees, relative=relative)
        self.thumbnails.invalidate(photo_id)
        return angle

    # --- duplicates
    def duplicates(self, method: Method = "phash", *, max_distance: int = 24, threshold: float = 0.95,
                   model: str | None = None, neighbours: int = 20, limit: int | None = None) -> DuplicateReport:
        with self.db.connection() as conn:
            return find_duplicates(conn, method, max_distance=max_distance, threshold=threshold,
                                   model=model or self.settings.clip_model, neighbours=neighbours, limit=limit)

    def delete_duplicates(self, method: Method = "phash", *, dry_run: bool = True, **params: Any) -> tuple[DuplicateReport, TrashReport | None]:
        """Every group's extras to the trash, the best copy kept. `dry_run` only reports what would go."""
        params.pop("limit", None)
        report = self.duplicates(method, **params)
        if dry_run or not report.extra_ids:
            return report, None
        return report, self.trash.move_to_trash(report.extra_ids, reason=f"duplicate ({method})")

    # --- background stages
    def index_phash(self, *, progress=None, cancel: threading.Event | None = None) -> PhashReport:
        return self.phash.run(progress=progress, cancel=cancel)

    def start_phash_job(self, jobs: JobRunner) -> JobStatus:
        def job(ctx: JobContext) -> dict[str, Any]:
            def on_progress(p: IndexProgress) -> None:
                ctx.report(stage=p.stage, done=p.done, total=p.total, failed=p.failed, rate=p.rate,
                           eta_seconds=p.eta_seconds, current=p.current)

            return asdict(self.index_phash(progress=on_progress, cancel=ctx.cancel))

        return jobs.submit(PHASH_JOB, job)

    def warm_thumbnails(self, *, kinds: tuple[str, ...] = ("thumb",), progress=None,
                        cancel: threading.Event | None = None) -> WarmReport:
        with self.db.connection() as conn:
            photos = conn.execute(
                "SELECT id, path, format, exif_data, content_hash, size, mtime FROM photos WHERE NOT index_failed"
            ).fetchall()
        return warm_cache(self.thumbnails, self.cluster.client(), photos, self.settings.photos_dir.resolve(),
                          kinds=kinds, batch_size=self.settings.decode_batch_size, progress=progress,  # type: ignore[arg-type]
                          cancel=cancel)

    def start_warm_job(self, jobs: JobRunner, kinds: tuple[str, ...] = ("thumb",)) -> JobStatus:
        def job(ctx: JobContext) -> dict[str, Any]:
            state = IndexProgress(stage="warming")

            def on_progress(done: int, total: int, failed: int, current: str | None) -> None:
                state.done, state.total, state.failed, state.current = done, total, failed, current
                ctx.report(stage="warming", done=done, total=total, failed=failed, rate=state.rate,
                           eta_seconds=state.eta_seconds, current=current)

            return asdict(self.warm_thumbnails(kinds=kinds, progress=on_progress, cancel=ctx.cancel))

        return jobs.submit(WARM_JOB, job)


def wire_stages(engine: Any) -> None:
    """Index-All's stages for an engine (`PhotoIndex`): image-text per model, faces when the
    engine has a face service with `start_index_job`, then pHash. Resolved when queued, so a
    part attached after this call (faces) is still picked up."""
    engine.queue.model_stage = engine.start_index_job

    def faces() -> JobStatus:
        service = getattr(engine, "faces", None)
        if service is None or not hasattr(service, "start_index_job"):
            raise RuntimeError("no face indexing in this engine")
        return service.start_index_job(engine.jobs)

    engine.queue.register_stage("faces", faces)
    engine.queue.register_stage("phash", lambda: engine.library.start_phash_job(engine.jobs))
