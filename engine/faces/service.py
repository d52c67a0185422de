"""Everything about faces behind one object the engine holds: `PhotoIndex.faces`."""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.db import faces as face_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.errors import PhotoIndexError
from engine.faces.clustering import FaceClusters
from engine.faces.indexing import FaceIndexer, FaceIndexReport
from engine.faces.persons import PersonService
from engine.faces.records import Face
from engine.faces.search import FaceSearch
from engine.jobs.runner import JobRunner, JobStatus
from engine.models import cache as model_cache
from engine.models.face import FaceAnalyzer
from engine.models.face_pack import resolve_face_pack
from engine.runtime.progress import Progress, ProgressCallback
from engine.runtime.runner import StageRunner
from engine.search.service import PhotoNotFound, SearchService

JOB_KIND = "faces"


@dataclass(frozen=True)
class FaceStats(face_rows.FaceCounts):
    model: str
    """The pack's name (FACE_MODEL when it is not available)."""
    model_dir: str | None
    model_available: bool
    model_error: str | None
    model_loaded: bool


class Faces:
    def __init__(self, db: Database, settings: Settings, runner: StageRunner, text_search: SearchService) -> None:
        self.db = db
        self.settings = settings
        self._pack: Path | None = None
        self._analyzer: FaceAnalyzer | None = None
        self._lock = threading.Lock()
        self.indexer = FaceIndexer(db, settings, runner, self.pack_dir)
        self.persons = PersonService(db, settings.face_assign_threshold)
        self.search = FaceSearch(db, self.analyzer, text_search, settings.face_det_size, settings.face_det_threshold)
        self.clusters = FaceClusters(db, settings.face_cluster_similarity, settings.face_cluster_min_faces)

    def pack_dir(self) -> Path:
        """The model folder (resolved once; `FaceModelNotAvailable` names FACE_MODEL_DIR and the paths tried)."""
        with self._lock:
            if self._pack is None:
                self._pack = resolve_face_pack(self.settings)
            return self._pack

    def analyzer(self) -> FaceAnalyzer:
        """This process's face model, for pictures searched by (indexing runs it on the model worker)."""
        analyzer = model_cache.face_analyzer(self.pack_dir(), self.settings.face_device)
        with self._lock:
            self._analyzer = analyzer
        return analyzer.load()

    def close(self) -> None:
        with self._lock:
            if self._analyzer is not None:
                self._analyzer.unload()

    def index(self, *, skip_indexed: bool = True, batch_size: int | None = None,
              progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> FaceIndexReport:
        return self.indexer.run(skip_indexed=skip_indexed, batch_size=batch_size, progress=progress, cancel=cancel)

    def start_index_job(self, jobs: JobRunner, *, skip_indexed: bool = True, batch_size: int | None = None,
                        cluster_after: bool = True) -> JobStatus:
        self.pack_dir()  # a missing model is answered now, not by a failed job later

        def run(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
            indexed = Progress()

            def indexing(p: Progress) -> None:
                nonlocal indexed
                indexed = p
                progress(p)

            report = asdict(self.index(skip_indexed=skip_indexed, batch_size=batch_size, progress=indexing,
                                       cancel=cancel))
            if cluster_after and not cancel.is_set():
                report["suggestions"] = asdict(self.clusters.update(progress=progress, cancel=cancel))
                progress(replace(indexed))  # the finished job counts its photos again, not the faces grouped
            return report

        return jobs.submit_run(JOB_KIND, run)

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

    def stats(self) -> FaceStats:
        with self.db.connection() as conn:
            counts = face_rows.stats(conn, self.clusters.min_faces)
        try:
            pack = self.pack_dir()
            model = dict(model=pack.name, model_dir=str(pack), model_available=True, model_error=None)
        except PhotoIndexError as exc:  # the stats page must load without a model
            model = dict(model=self.settings.face_model, model_dir=None, model_available=False, model_error=str(exc))
        return FaceStats(**asdict(counts), **model, model_loaded=self._analyzer is not None and self._analyzer.loaded)
