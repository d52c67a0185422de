"""Face indexing: the face stage (`engine.faces.stage`) over the library, or over one photo again."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.config import Settings
from engine.db import faces as face_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.faces.errors import InvalidRequest
from engine.faces.stage import FaceRef, FaceStage
from engine.runtime.progress import ProgressCallback
from engine.runtime.runner import StageRunner
from engine.search.service import PhotoNotFound


@dataclass(frozen=True)
class FaceIndexReport:
    model: str
    photos: int
    faces: int
    failed: int
    seconds: float
    cancelled: bool = False


class FaceIndexer:
    def __init__(self, db: Database, settings: Settings, runner: StageRunner, pack_dir: Callable[[], Path]) -> None:
        """`pack_dir` resolves the model folder when a run starts (a missing model fails the run, not the engine)."""
        self.db = db
        self.settings = settings
        self.runner = runner
        self._pack_dir = pack_dir

    def ref(self, *, threshold: float | None = None, hd: bool = False) -> FaceRef:
        s = self.settings
        det_threshold = s.face_det_threshold if threshold is None else float(threshold)
        if not 0.0 < det_threshold < 1.0:
            raise InvalidRequest(f"a detection threshold must be between 0 and 1, got {det_threshold}")
        return FaceRef(str(self._pack_dir()), s.face_device, s.face_det_size_hd if hd else s.face_det_size,
                       det_threshold, s.face_min_size)

    def run(
        self,
        *,
        skip_indexed: bool = True,
        batch_size: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> FaceIndexReport:
        """Find faces in every photo not yet done (every photo with `skip_indexed=False`)."""
        started = time.time()
        ref = self.ref()
        if not skip_indexed:
            with self.db.connection() as conn:
                face_rows.reset_indexed(conn)
        stage = self._stage(ref, batch_size)
        run = self.runner.run(stage, progress=progress, cancel=cancel)
        return FaceIndexReport(stage.model_name, run.done - run.failed, stage.faces_written, run.failed,
                               time.time() - started, run.cancelled)

    def reindex_photo(self, photo_id: int, *, threshold: float | None = None, hd: bool = False) -> int:
        """Detect one photo's faces again with its own threshold / HD input; returns the face count."""
        ref = self.ref(threshold=threshold, hd=hd)
        with self.db.connection() as conn:
            photo = photo_rows.get(conn, photo_id)
        if photo is None:
            raise PhotoNotFound(f"no photo with id {photo_id}")
        pending = photo_rows.PendingPhoto(photo.id, photo.path, photo.format, photo.size, photo.mtime)
        stage = self._stage(ref, 1, photos=[pending])
        self.runner.run(stage)
        if stage.failures:
            raise PhotoNotFound(f"photo {photo_id} could not be read: {stage.failures[0][1]}")
        return stage.faces_written

    def _stage(self, ref: FaceRef, batch_size: int | None, photos: list[photo_rows.PendingPhoto] | None = None
               ) -> FaceStage:
        s = self.settings
        return FaceStage(self.db, s.photos_dir.resolve(), ref, max_pixels=s.max_image_pixels,
                         decode_batch_size=min(s.decode_batch_size, batch_size or s.face_batch_size),
                         model_batch_size=batch_size or s.face_batch_size, photos=photos)
