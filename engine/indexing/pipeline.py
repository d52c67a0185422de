"""Image-text indexing: scan the library, then run the image-text stage (`engine.indexing.stage`)."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from engine.config import Settings
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.errors import Unavailable
from engine.indexing.scan import ScanReport, scan as scan_configured
from engine.indexing.stage import ImageTextStage, ModelRef
from engine.media.preprocess import Preprocessor
from engine.models.manager import ModelManager
from engine.models.registry import get_spec
from engine.runtime.progress import Progress, ProgressCallback, ignore
from engine.runtime.runner import StageRunner


class EmbeddingSizeMismatch(Unavailable):
    """The weights folder of a model gives vectors of another size than its table holds."""


@dataclass(frozen=True)
class IndexReport:
    models: tuple[str, ...]
    scan: ScanReport | None
    indexed: int
    failed: int
    seconds: float
    cancelled: bool = False
    warnings: tuple[str, ...] = ()


class Indexer:
    def __init__(self, db: Database, settings: Settings, models: ModelManager, runner: StageRunner) -> None:
        self.db = db
        self.settings = settings
        self.models = models
        self.runner = runner

    def run(
        self,
        model_names: Sequence[str],
        *,
        scan: bool = True,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        started = time.time()
        (progress or ignore)(Progress(stage="scanning"))
        refs, geometries = self._model_refs(model_names)
        s = self.settings
        stage = ImageTextStage(self.db, s.photos_dir.resolve(), refs, geometries, max_pixels=s.max_image_pixels,
                               decode_batch_size=s.decode_batch_size, model_batch_size=s.clip_batch_size)
        startup = self.runner.start(stage) if scan and self._work_expected(stage) else None
        try:
            scan_report = scan_configured(self.db, self.settings) if scan else None
        except BaseException:
            if startup is not None:
                startup.close()
            raise
        run = self.runner.run(stage, progress=progress, cancel=cancel, startup=startup)
        return IndexReport(
            models=tuple(r.name for r in refs),
            scan=scan_report,
            indexed=run.done - run.failed,
            failed=run.failed,
            seconds=time.time() - started,
            cancelled=run.cancelled,
        )

    def _work_expected(self, stage: ImageTextStage) -> bool:
        """Whether the run will surely have photos to index (some are pending already, or the index
        is empty: a first run), so its start-up (the cluster, the model load) can overlap the scan.
        A re-scan of an indexed library does not pay for a start-up it may not need."""
        if stage.count():
            return True
        with self.db.connection() as conn:
            return photo_rows.is_empty(conn)

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
            refs.append(ModelRef(spec, str(model.model_dir), self.settings.clip_device, prep.key(),
                                 self.settings.clip_runtime))
        return refs, list(geometries.values())
