"""The engine assembled: one object a server, the CLI or a notebook opens and passes around."""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict, replace
from typing import Any

from engine.config import Settings, get_settings
from engine.db import embeddings as embedding_rows
from engine.db import photos as photo_rows
from engine.db import revision as revision_rows
from engine.db import unsupported as unsupported_rows
from engine.db.database import Database, open_database
from engine.faces.service import Faces
from engine.indexing.cluster import ClusterHandle
from engine.indexing.pipeline import Indexer, IndexProgress, IndexReport, ProgressCallback
from engine.jobs.runner import JobContext, JobRunner, JobStatus
from engine.jobs.queue import IndexQueue
from engine.library.service import Library, wire_stages
from engine.media.thumbcache import LayeredThumbnailCache
from engine.models.errors import ModelNotAvailable
from engine.models.manager import ModelManager
from engine.models.registry import MODELS, get_spec
from engine.search.service import SearchService
from engine.search.translate import Translator
from engine.assistant.service import Assistant
from engine.geo.places import backfill as geocode_backfill

log = logging.getLogger(__name__)


class PhotoIndex:
    def __init__(self, settings: Settings, db: Database, cluster: ClusterHandle | None = None) -> None:
        """`cluster` lets several engines share one Dask cluster; it is then not closed here."""
        self.settings = settings
        self.db = db
        self.models = ModelManager(settings)
        self._owns_cluster = cluster is None
        self.cluster = cluster or ClusterHandle(settings)
        self.indexer = Indexer(db, settings, self.models, self.cluster)
        self.search = SearchService(
            db, self.models, settings.max_image_pixels, default_model=settings.clip_model, rrf_k=settings.rrf_k,
            rrf_weights=settings.rrf_weights, translator=Translator(
                settings.translate_api_key, settings.translate_base_url, settings.translate_timeout_s))
        self.thumbnails = LayeredThumbnailCache(settings.resolved_thumb_cache_dir, settings.max_image_pixels,
                                                memory_bytes=settings.thumb_memory_cache_mb << 20)
        self.jobs = JobRunner()
        self.library = Library(db, settings, self.cluster, self.thumbnails)
        self.queue = IndexQueue(self.jobs, settings.queue_empty_command)
        wire_stages(self)
        self.faces = Faces(db, settings, self.cluster, self.search)
        self.assistant = Assistant(db, settings, self.search)

    @classmethod
    def open(cls, settings: Settings | None = None) -> "PhotoIndex":
        settings = settings or get_settings()
        return cls(settings, open_database(settings))

    def close(self) -> None:
        if self._owns_cluster:
            self.cluster.close()
        self.models.unload_all()
        self.faces.close()
        self.search.translator.close()
        self.db.close()

    def __enter__(self) -> "PhotoIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def index(
        self,
        model: str | None = None,
        *,
        scan: bool = True,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """Scan and index the library now, in this thread.

        Without the image-text model the photos are still scanned and their metadata read (the
        map, albums and duplicates by hash keep working); the report says what is missing.
        """
        self.db.require_vectors()
        name = get_spec(model or self.settings.clip_model).name
        try:
            self.models.get(name)
        except ModelNotAvailable as exc:
            report = self.indexer.run([], scan=scan, progress=progress, cancel=cancel)
            report = replace(report, warnings=(*report.warnings, str(exc)))
        else:
            report = self.indexer.run([name], scan=scan, progress=progress, cancel=cancel)
        geocode_backfill(self.db)  # places of photos with GPS, offline (the place filter)
        return report

    def start_index_job(self, model: str | None = None) -> JobStatus:
        self.db.require_vectors()
        name = get_spec(model or self.settings.clip_model).name

        def job(ctx: JobContext) -> dict[str, Any]:
            def on_progress(p: IndexProgress) -> None:
                ctx.report(stage=p.stage, done=p.done, total=p.total, failed=p.failed, rate=p.rate,
                           eta_seconds=p.eta_seconds, current=p.current)

            return asdict(self.index(name, progress=on_progress, cancel=ctx.cancel))

        return self.jobs.submit(f"index:{name}", job)

    def start_model_download_job(self, name: str) -> JobStatus:
        """Download an image-text model or a face pack in the background (progress in bytes or files);
        the default image-text model is indexed with right after."""
        from engine.models.download import FACE_PACKS, download

        image_text = None if name in FACE_PACKS else get_spec(name).name  # an unknown name fails here, at once

        def job(ctx: JobContext) -> dict[str, Any]:
            def on_progress(p) -> None:
                ctx.report(stage=f"downloading {p.current or p.name}", done=p.done, total=p.total)

            folder = download(name, self.settings, progress=on_progress)
            if image_text is not None and image_text == get_spec(self.settings.clip_model).name:
                self.start_index_job(image_text)
            return {"folder": str(folder)}

        return self.jobs.submit(f"download:{name}", job)

    def warm_in_background(self, model: str | None = None) -> threading.Thread | None:
        """Load the image-text model in a background thread, so the first search does not wait for
        it; None when its weights are missing (search then says how to get them)."""
        try:
            instance = self.models.get(get_spec(model or self.settings.clip_model).name)
        except ModelNotAvailable:
            return None

        def load() -> None:
            try:
                instance.load()
            except Exception:  # the first search reports the same problem to the user
                log.exception("warming %s failed", instance.spec.name)

        thread = threading.Thread(target=load, name="photoindex-warm", daemon=True)
        thread.start()
        return thread

    def revision(self) -> int:
        """A number that moves whenever photos, faces, persons, albums or the trash change."""
        with self.db.connection() as conn:
            return revision_rows.current(conn)

    def photo(self, photo_id: int) -> photo_rows.Photo | None:
        with self.db.connection() as conn:
            return photo_rows.get(conn, photo_id)

    def failed_files(self, limit: int = 100, offset: int = 0) -> list[photo_rows.Photo]:
        """Files indexing could not read, with `fail_reason`, oldest first."""
        with self.db.connection() as conn:
            return photo_rows.failed(conn, limit=limit, offset=offset)

    def unsupported_files(self, limit: int = 100, offset: int = 0) -> list[unsupported_rows.UnsupportedFile]:
        """Files the scan found but does not index (videos, Photoshop documents, ...), with the reason."""
        with self.db.connection() as conn:
            return unsupported_rows.listed(conn, limit=limit, offset=offset)

    def reset_failed(self, ids: list[int] | None = None) -> int:
        """Clear the failed flag (of every file, or of `ids`) so the next indexing run retries them."""
        with self.db.connection() as conn:
            return photo_rows.reset_failed(conn, ids)

    def stats(self) -> dict[str, Any]:
        with self.db.connection() as conn:
            result = photo_rows.stats(conn)
            result["embeddings"] = {name: embedding_rows.count(conn, spec.table) for name, spec in MODELS.items()}
            result["unsupported_by_type"] = unsupported_rows.count_by_extension(conn)
        result["unsupported_count"] = sum(result["unsupported_by_type"].values())
        result["library"] = str(self.settings.photos_dir)
        result["database"] = "embedded" if self.db.is_embedded else "external"
        result["database_problem"] = self.db.vector_check.message
        return result
