"""The engine assembled: one object a server, the CLI or a notebook opens and passes around."""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from engine.config import Settings, get_settings
from engine.errors import Invalid, PhotoIndexError
from engine.db import embeddings as embedding_rows
from engine.db import photos as photo_rows
from engine.db import revision as revision_rows
from engine.db import unsupported as unsupported_rows
from engine.db.database import Database, open_database
from engine.faces.service import Faces
from engine.i18n import N_
from engine.indexing.pipeline import Indexer, IndexReport
from engine.jobs.queue import IndexQueue
from engine.jobs.runner import JobRunner, JobStatus
from engine.library.paths import FileMissing, resolve_inside
from engine.library.service import Library
from engine.media.pictures import PictureDecoder
from engine.media.thumbcache import LayeredThumbnailCache
from engine.media.thumbnails import ThumbKind
from engine.models.errors import ModelNotAvailable
from engine.models.manager import ModelManager
from engine.models.registry import configure as configure_models, get_spec
from engine.search.service import PhotoNotFound, SearchService
from engine.runtime.cluster import ClusterHandle
from engine.runtime.progress import Progress, ProgressCallback
from engine.runtime.runner import DaskExecutor, StageRunner
from engine.search.translate import Translator
from engine.assistant.service import Assistant
from engine.geo.places import backfill as geocode_backfill

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stats(photo_rows.PhotoCounts):
    embeddings: dict[str, int]
    """Stored vectors per image-text model."""
    unsupported_by_type: dict[str, int]
    """Files the scan lists as unsupported, per extension."""
    unsupported_count: int
    library: str
    database: str
    """"embedded" or "external"."""
    database_problem: str | None
    """Why pgvector does not work on this server, when it does not."""


@dataclass(frozen=True)
class Health:
    """Whether the server can do its work: the database, the library folder, the default model."""
    status: str
    """"ok" or "degraded"."""
    database: str
    """"ok" or "error"."""
    library: str
    library_available: bool
    default_model: str
    default_model_available: bool
    detail: dict[str, str]
    """What is wrong, per part, in one sentence each."""
    search_model: str
    """The model searches use: default_model, or another until the library is indexed with it."""
    search_note: str | None = None


@dataclass(frozen=True)
class EmbeddingSample:
    """Some of the library's image vectors of one model (an embedding map, a notebook)."""
    model: str
    total: int
    """Photos with a vector of `model`; `vectors` holds at most the asked number of them."""
    vectors: list[embedding_rows.StoredVector]


class PhotoIndex:
    def __init__(self, settings: Settings, db: Database, cluster: ClusterHandle | None = None,
                 runner: StageRunner | None = None) -> None:
        """`cluster` lets several engines share one Dask cluster; it is then not closed here.
        `runner` runs the stages elsewhere than on the cluster (`InlineExecutor`: in this process)."""
        self.settings = settings
        self.db = db
        self.models = ModelManager(settings, configure_models(settings))
        self._owns_cluster = cluster is None
        self.cluster = cluster or ClusterHandle(settings)
        self.runner = runner or StageRunner(DaskExecutor(self.cluster.client), settings)
        self.indexer = Indexer(db, settings, self.models, self.runner)
        self.search = SearchService(
            db, self.models, settings.max_image_pixels, default_model=settings.clip_model, rrf_k=settings.rrf_k,
            rrf_weights=settings.rrf_weights, library_root=settings.photos_dir,
            pictures=PictureDecoder(settings.upload_max_pixels, settings.upload_decode_concurrency,
                                    settings.max_image_pixels), translator=Translator(
                settings.translate_api_key, settings.translate_base_url, settings.translate_timeout_s))
        self.thumbnails = LayeredThumbnailCache(settings.resolved_thumb_cache_dir, settings.max_image_pixels,
                                                memory_bytes=settings.thumb_memory_cache_mb << 20,
                                                library_root=settings.photos_dir)
        self.jobs = JobRunner()
        self.library = Library(db, settings, self.runner, self.thumbnails,
                               serving_model=self.search.compared_model)
        self.faces = Faces(db, settings, self.runner, self.search)
        self.queue = IndexQueue(self.jobs, self.start_index_job, {
            "faces": lambda: self.faces.start_index_job(self.jobs),
            "phash": lambda: self.library.start_phash_job(self.jobs),
        }, settings.queue_empty_command)
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
        self.search.pictures.close()
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
        self.search.forget_serving()
        return report

    def start_index_job(self, model: str | None = None) -> JobStatus:
        self.db.require_vectors()
        name = get_spec(model or self.settings.clip_model).name
        return self.jobs.submit_run(f"index:{name}",
                                    lambda progress, cancel: self.index(name, progress=progress, cancel=cancel))

    def start_model_download_job(self, name: str) -> JobStatus:
        """Download an image-text model or a face pack in the background (progress in bytes or files);
        the default image-text model is indexed with right after."""
        from engine.models.download import FACE_PACKS, DownloadProgress, download

        image_text = None if name in FACE_PACKS else get_spec(name).name  # an unknown name fails here, at once

        def run(progress: ProgressCallback, _cancel: threading.Event) -> dict[str, Any]:
            def on_progress(p: DownloadProgress) -> None:
                progress(Progress(stage=N_("downloading {what}", what=p.current or p.name), done=p.done, total=p.total))

            folder = download(name, self.settings, progress=on_progress)
            if image_text is not None and image_text == get_spec(self.settings.clip_model).name:
                self.start_index_job(image_text)
            return {"folder": str(folder)}

        return self.jobs.submit_run(f"download:{name}", run)

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

    def file_of(self, photo: photo_rows.Photo) -> Path:
        """The photo's file: `OutsideLibrary` when its path leads out of PHOTOS_DIR, `FileMissing` when it is gone."""
        source = resolve_inside(self.settings.photos_dir, photo.path)
        if not source.is_file():
            raise FileMissing(f"the file of photo {photo.id} is gone from the library")
        return source

    def photos_at(self, paths: list[str]) -> list[photo_rows.Photo]:
        """The indexed photos at these library-relative paths, in id order (paths not indexed are left out)."""
        with self.db.connection() as conn:
            return photo_rows.find(conn, (), paths)

    def thumbnail(self, photo_id: int, kind: ThumbKind = "thumb") -> bytes:
        """The photo's JPEG rendition (the 400 px thumb or the full view), rendered once and cached."""
        photo = self.photo(photo_id)
        if photo is None:
            raise PhotoNotFound(f"no photo with id {photo_id}")
        return self.thumbnails.get_bytes(photo.id, self.file_of(photo), photo.format, kind, photo.rotation,
                                         photo.version)

    def embedding_sample(self, model: str | None = None, limit: int = 2000, seed: int = 0) -> EmbeddingSample:
        """At most `limit` photos' image vectors of `model` (the serving model by default), the same
        photos for the same `seed`; bounded whatever the library's size."""
        if limit < 1:
            raise Invalid("the sample needs a limit of at least one photo")
        name = get_spec(model).name if model else self.search.serving().name
        with self.db.connection() as conn:
            return EmbeddingSample(name, embedding_rows.count(conn, name), embedding_rows.sample(conn, name, limit, seed))

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

    def indexed_models(self, photo_id: int) -> list[str]:
        """The image-text models that hold a vector of the photo."""
        with self.db.connection() as conn:
            return embedding_rows.indexed_models(conn, photo_id)

    def health(self) -> Health:
        detail: dict[str, str] = {}
        database = "ok"
        try:
            self.db.ping()
        except PhotoIndexError as exc:
            database, detail["database"] = "error", str(exc)
        if not self.db.vector_check.ok:
            database, detail["database"] = "error", self.db.vector_check.message or "pgvector does not work"
        root = self.settings.photos_dir
        library_ok = root.is_dir()
        if not library_ok:
            detail["library"] = f"PHOTOS_DIR {root} is not a readable folder"
        default = get_spec(self.settings.clip_model).name
        model = next(m for m in self.models.status() if m.name == default)
        if not model.available:
            detail["model"] = model.reason or "not available"
        ok = database == "ok" and library_ok and model.available
        serving = self.search.serving() if database == "ok" else None
        return Health("ok" if ok else "degraded", database, str(root), library_ok, default, model.available, detail,
                      serving.name if serving else default, serving.note if serving else None)

    def stats(self) -> Stats:
        with self.db.connection() as conn:
            photos = photo_rows.stats(conn)
            embeddings = embedding_rows.counts(conn)
            unsupported = unsupported_rows.count_by_extension(conn)
        return Stats(**asdict(photos), embeddings=embeddings, unsupported_by_type=unsupported,
                     unsupported_count=sum(unsupported.values()), library=str(self.settings.photos_dir),
                     database=N_("embedded") if self.db.is_embedded else N_("external"),
                     database_problem=self.db.vector_check.message)
