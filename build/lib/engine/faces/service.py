"""Everything about faces behind one object the engine holds: `PhotoIndex.faces`."""
from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.db import faces as face_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.faces.clustering import FaceClusters
from engine.faces.indexing import FaceIndexer, FaceIndexReport, FaceProgressCallback
from engine.faces.model import FaceAnalyzer
from engine.faces.pack import resolve_face_pack
from engine.faces.persons import PersonService
from engine.faces.records import Face
from engine.faces.search import FaceSearch
from engine.indexing.cluster import ClusterHandle
from engine.indexing.pipeline import IndexProgress
from engine.jobs.runner import JobContext, JobRunner, JobStatus
from engine.search.service import PhotoNotFound, SearchService

JOB_KIND = "faces"


class Faces:
    def __init__(self, db: Database, settings: Settings, cluster: ClusterHandle, text_search: SearchService) -> None:
        self.db = db
        self.settings = settings
        self._pack: Path | None = None
        self._analyzer: FaceAnalyzer | None = None
        self._lock = threading.Lock()
        self.indexer = FaceIndexer(db, settings, cluster, self.pack_dir)
        self.persons = PersonService(db, settings.face_assign_threshold)
        self.search = FaceSearch(db, self.analyzer, text_search, settings.face_det_size, settings.face_det_threshold,
                                 settings.max_image_pixels)
        self.clusters = FaceClusters(db, settings.face_cluster_similarity, settings.face_cluster_min_faces)

    def pack_dir(self) -> Path:
        """The model folder (resolved once; `FaceModelNotAvailable` names FACE_MODEL_DIR and the paths tried)."""
        with self._lock:
            if self._pack is None:
                self._pack = resolve_face_pack(self.settings)
            return self._pack

    def analyzer(self) -> FaceAnalyzer:
        """The in-process model, for pictures searched by (indexing runs it on the model worker)."""
        pack = self.pack_dir()
        with self._lock:
            if self._analyzer is None:
                self._analyzer = FaceAnalyzer(pack, self.settings.face_device)
        return self._analyzer.load()

    def close(self) -> None:
        with self._lock:
            if self._analyzer is not None:
                self._analyzer.unload()

    def index(self, *, skip_indexed: bool = True, batch_size: int | None = None,
              progress: FaceProgressCallback | None = None, cancel: threading.Event | None = None) -> FaceIndexReport:
        return self.indexer.run(skip_indexed=skip_indexed, batch_size=batch_size, progress=progress, cancel=cancel)

    def start_index_job(self, jobs: JobRunner, *, skip_indexed: bool = True, batch_size: int | None = None,
                        cluster_after: bool = True) -> JobStatus:
        self.pack_dir()  # a missing model is answered now, not by a failed job later

        def job(ctx: JobContext) -> dict[str, Any]:
            def on_progress(p: IndexProgress) -> None:
                ctx.report(stage=p.stage, done=p.done, total=p.total, failed=p.failed, rate=p.rate,
                           eta_seconds=p.eta_seconds, current=p.current)

            report = asdict(self.index(skip_indexed=skip_indexed, batch_size=batch_size, progress=on_progress,
                                       cancel=ctx.cancel))
            if cluster_after and not ctx.cancel.is_set():
                report["suggestions"] = asdict(self.clusters.update())
            return report

        return jobs.submit(JOB_KIND, job)

    def reindex_photo(self, photo_id: int, *, threshold: float | None = None, hd: bool = False) -> list[Face]:
        self.indexer.reindex_photo(photo_id, threshold=threshold, hd=hd)
        return self.of_photo(photo_id)

    def of_photo(self, photo_id: int) -> list[Face]:
        with self.db.connection() as conn:
            if photo_rows.get(conn, photo_id) is None:
                raise PhotoNotFound(f"no photo with id {photo_id}")
            return [Face.from_row(r) for r in face_rows.of_photo(conn, photo_id)]

    def get(self, face_id: int) -> Face | None:
        with self.db.connection() as conn:
            row = face_rows.get(conn, face_id)
        return Face.from_row(row) if row else None

    def stats(self) -> dict[str, Any]:
        with self.db.connection() as conn:
            result = dict(face_rows.stats(conn))
        try:
            pack = self.pack_dir()
            result.update(model=pack.name, model_dir=str(pack), model_available=True, model_error=None)
        except Exception as exc:  # the stats page must load without a model
            result.update(model=self.settings.face_model, model_dir=None, model_available=False, model_error=str(exc))
        result["model_loaded"] = self._analyzer is not None and self._analyzer.loaded
        return result
