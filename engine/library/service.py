"""Library operations as one service: timeline, trash, rotation, duplicates, albums, offline photos, pHash and cache warming.

Plain data in, plain data out; the REST layer, the CLI and notebooks call these methods.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.config import Settings
from engine.db import duplicates as duplicate_rows
from engine.db import filters as filter_sql
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.jobs.runner import JobRunner, JobStatus
from engine.errors import Invalid, NotFound
from engine.library.albums import Albums
from engine.library.comparer import CompareReport, DuplicateComparer
from engine.library.duplicates import DuplicateReport, Method, find_duplicates
from engine.library.offline import OfflinePhotos
from engine.library.phash import PhashReport, PhashStage
from engine.library.timeline import Timeline
from engine.library.trash import Trash, TrashReport
from engine.media.thumbcache import LayeredThumbnailCache
from engine.media.thumbnails import ThumbKind, normalize_rotation
from engine.media.warm import WarmReport, warm_cache
from engine.runtime.progress import ProgressCallback
from engine.runtime.runner import StageRunner
from engine.search.filters import SearchFilters
from engine.search.service import PhotoNotFound

PHASH_JOB = "phash"
WARM_JOB = "cache-warm"


class Library:
    def __init__(self, db: Database, settings: Settings, runner: StageRunner, thumbnails: LayeredThumbnailCache,
                 serving_model: Callable[[], str] | None = None) -> None:
        """`serving_model` names the model whose vectors duplicates by embedding compare
        (`SearchService.compared_model`: the one serving search, not CLIP_MODEL while the library
        is not indexed with it)."""
        self.db = db
        self.settings = settings
        self.serving_model = serving_model or (lambda: settings.clip_model)
        self.runner = runner
        self.thumbnails = thumbnails
        self.trash = Trash(db, settings.photos_dir, settings.resolved_trash_dir, on_removed=thumbnails.invalidate)
        self.albums = Albums(db)
        self.timeline = Timeline(db)
        self.offline = OfflinePhotos(db, on_removed=thumbnails.invalidate)
        self.comparer = DuplicateComparer(db)
        self._comparing = threading.Lock()

    def geotagged(self, ids: list[int] | None = None, limit: int = 100_000,
                  filters: SearchFilters | None = None) -> list[photo_rows.GeoPhoto]:
        """Photos with GPS, for the map (of `ids`, passing `filters`), oldest first."""
        with self.db.connection() as conn:
            return photo_rows.geotagged(conn, filter_sql.where(filters), ids, limit)[0]

    # --- rotation
    def rotate(self, photo_id: int, degrees: int, *, relative: bool = True) -> int:
        """Non-destructive rotation: the angle lives in `exif_data["UserRotation"]`, the file is never written.

        Angles are clockwise, 0/90/180/270. `relative=True` adds to the current angle (the lightbox's
        ↻ = +90, ↺ = -90); `relative=False` sets it. Thumbnails and full views are rendered with it
        (their cache key carries the angle), and re-reading a file's EXIF keeps it. Returns the new angle.
        """
        step = normalize_rotation(degrees)
        with self.db.connection() as conn:
            angle = photo_rows.rotate(conn, photo_id, step, relative=relative)
        if angle is None:
            raise PhotoNotFound(f"no photo with id {photo_id}")
        self.thumbnails.invalidate(photo_id)
        return angle

    # --- duplicates
    def duplicates(self, method: Method = "all", *, max_distance: int | None = None, threshold: float | None = None,
                   model: str | None = None, neighbours: int = 20, limit: int | None = None,
                   compare: bool = True) -> DuplicateReport:
        """Duplicate groups (see `find_duplicates`); hashed photos not yet compared are compared
        first unless `compare` is False (then the report says how many wait)."""
        if compare and method != "clip":
            self.compare_duplicates()
        with self.db.connection() as conn:
            return find_duplicates(conn, method, max_distance=max_distance, threshold=threshold,
                                   model=model or self.serving_model(), neighbours=neighbours,
                                   review_size=self.settings.duplicate_review_size, limit=limit)

    def compare_duplicates(self, *, progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> CompareReport:
        """Compare the hashed photos not yet compared (one run at a time in this process)."""
        with self._comparing:
            return self.comparer.run(progress=progress, cancel=cancel)

    def delete_duplicates(self, method: Method = "all", *, dry_run: bool = True, **params: Any) -> tuple[DuplicateReport, TrashReport | None]:
        """Every group's extras to the trash, the kept copy staying; groups flagged for review are
        left alone. `dry_run` only reports what would go."""
        params.pop("limit", None)
        report = self.duplicates(method, **params)
        if dry_run or not report.extra_ids:
            return report, None
        return report, self.trash.move_to_trash(report.extra_ids, reason=f"duplicate ({method})")

    def choose_keeper(self, photo_id: int, group: list[int]) -> None:
        """Keep `photo_id` in the duplicate group of `group` (its members' ids) instead of the rule's choice."""
        if photo_id not in group:
            raise Invalid(f"photo {photo_id} is not one of the group's photos {sorted(group)}")
        with self.db.connection() as conn:
            if photo_rows.get(conn, photo_id) is None:
                raise NotFound(f"no photo with id {photo_id}")
            duplicate_rows.choose_keeper(conn, photo_id, group)

    def clear_keeper(self, group: list[int]) -> int:
        """Back to the keeper rule for the group of these ids."""
        with self.db.connection() as conn:
            return duplicate_rows.clear_keepers(conn, group)

    # --- background stages
    def hash_photos(self, *, progress: ProgressCallback | None = None,
                    cancel: threading.Event | None = None) -> PhashReport:
        """The pHash stage alone: hash and sign the photos not hashed yet."""
        s = self.settings
        stage = PhashStage(self.db, s.photos_dir.resolve(), max_pixels=s.max_image_pixels,
                           batch_size=s.decode_batch_size)
        run = self.runner.run(stage, progress=progress, cancel=cancel)
        return PhashReport(run.done - run.failed, run.failed, run.seconds, run.cancelled)

    def index_phash(self, *, progress: ProgressCallback | None = None,
                    cancel: threading.Event | None = None) -> PhashReport:
        """Hash the photos not hashed yet, then compare them with the others (duplicate pairs)."""
        report = self.hash_photos(progress=progress, cancel=cancel)
        if not report.cancelled:
            self.compare_duplicates(progress=progress, cancel=cancel)
        return report

    def start_phash_job(self, jobs: JobRunner) -> JobStatus:
        return jobs.submit_run(PHASH_JOB, lambda progress, cancel: self.index_phash(progress=progress, cancel=cancel))

    def warm_thumbnails(self, *, kinds: tuple[ThumbKind, ...] = ("thumb",), progress: ProgressCallback | None = None,
                        cancel: threading.Event | None = None) -> WarmReport:
        with self.db.connection() as conn:
            photos = photo_rows.readable(conn)
        return warm_cache(self.thumbnails, self.runner, photos, self.settings.photos_dir.resolve(), kinds=kinds,
                          batch_size=self.settings.decode_batch_size, progress=progress, cancel=cancel)

    def start_warm_job(self, jobs: JobRunner, kinds: tuple[ThumbKind, ...] = ("thumb",)) -> JobStatus:
        return jobs.submit_run(WARM_JOB, lambda progress, cancel: self.warm_thumbnails(kinds=kinds, progress=progress,
                                                                                       cancel=cancel))
