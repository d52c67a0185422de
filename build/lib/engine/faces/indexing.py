"""Face indexing: decode on CPU workers -> detect + embed on the model worker -> write faces.

The same bounded, crash-isolating stream as image-text indexing (`BatchStream`), with the face
decoder and the face model plugged in. A photo's faces and its `faces_indexed` flag are written
in one transaction, so a killed run resumes from the photos still unflagged. Re-detecting a
photo keeps the person (and suggestion) of every face that matches an old one by place or look.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from distributed import Client, Future

from engine.config import Settings
from engine.db import faces as face_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.faces.errors import InvalidRequest
from engine.faces.geometry import match_faces
from engine.faces.model import DetectedFace
from engine.faces.tasks import FaceDecoded, FaceRef, analyze_batch, decode_for_faces, decode_side
from engine.indexing.cluster import DECODE, MODEL, ClusterHandle
from engine.indexing.pipeline import IndexProgress
from engine.indexing.stream import BatchStream
from engine.indexing.tasks import DecodedPhoto, DecodeItem
from engine.search.service import PhotoNotFound

log = logging.getLogger(__name__)

FaceProgressCallback = Callable[[IndexProgress], None]


@dataclass(frozen=True)
class FaceIndexReport:
    model: str
    photos: int
    faces: int
    failed: int
    seconds: float
    cancelled: bool = False


class FaceStream(BatchStream):
    """`BatchStream` whose decode stage keeps pixels for faces and whose model stage finds them."""

    def __init__(self, client: Client, root: Path, ref: FaceRef, *, decode_batch_size: int, model_batch_size: int,
                 max_pixels: int, decode_timeout_s: float) -> None:
        super().__init__(client, root, [], [], decode_batch_size=decode_batch_size, model_batch_size=model_batch_size,
                         max_pixels=max_pixels, decode_timeout_s=decode_timeout_s)
        self.face_ref = ref
        self.group_size = self.decode_size * max(1, model_batch_size // self.decode_size)
        self.max_side = decode_side(ref.det_size)

    @property
    def has_model_stage(self) -> bool:
        return True

    def _submit_decode(self, items: list[DecodeItem]) -> Future:
        return self.client.submit(decode_for_faces, items, self.max_side, self.max_pixels, resources=DECODE, pure=False)

    def _submit_model(self, decodes: list) -> Future:
        return self.client.submit(analyze_batch, decodes, self.face_ref, resources=MODEL, pure=False)


class FaceIndexer:
    def __init__(self, db: Database, settings: Settings, cluster: ClusterHandle, pack_dir: Callable[[], Path]) -> None:
        """`pack_dir` resolves the model folder when a run starts (a missing model fails the run, not the engine)."""
        self.db = db
        self.settings = settings
        self.cluster = cluster
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
        progress: FaceProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> FaceIndexReport:
        """Find faces in every photo not yet done (every photo with `skip_indexed=False`)."""
        started = time.time()
        ref = self.ref()
        notify = progress or (lambda _p: None)
        state = IndexProgress(stage="faces")
        with self.db.connection() as conn:
            if not skip_indexed:
                face_rows.reset_indexed(conn)
        with self.db.connection() as conn:
            state.total = face_rows.count_pending(conn)
        notify(state)
        faces = 0
        stream = self._stream(ref, batch_size)
        for group, batch in stream.run(self._pending(), cancel) if state.total else ():
            faces += self._write(batch, group, ref)
            state.done += len(batch)
            state.failed += sum(not d.ok for d in batch)
            state.current = group[batch[-1].photo_id].path if batch else state.current
            notify(state)
        cancelled = cancel is not None and cancel.is_set()
        state.stage = "cancelled" if cancelled else "done"
        notify(state)
        return FaceIndexReport(Path(ref.pack_dir).name, state.done - state.failed, faces, state.failed,
                               time.time() - started, cancelled)

    def reindex_photo(self, photo_id: int, *, threshold: float | None = None, hd: bool = False) -> int:
        """Detect one photo's faces again with its own threshold / HD input; returns the face count."""
        ref = self.ref(threshold=threshold, hd=hd)
        with self.db.connection() as conn:
            photo = photo_rows.get(conn, photo_id)
        if photo is None:
            raise PhotoNotFound(f"no photo with id {photo_id}")
        pending = photo_rows.PendingPhoto(photo.id, photo.path, photo.format, photo.size, photo.mtime)
        stream = self._stream(ref, 1)
        count = 0
        for group, batch in stream.run([[pending]]):
            count += self._write(batch, group, ref)
            if not batch[0].ok:
                raise PhotoNotFound(f"photo {photo_id} could not be read: {batch[0].reason}")
        return count

    def _stream(self, ref: FaceRef, batch_size: int | None) -> FaceStream:
        return FaceStream(
            self.cluster.client(), self.settings.photos_dir.resolve(), ref,
            decode_batch_size=min(self.settings.decode_batch_size, batch_size or self.settings.face_batch_size),
            model_batch_size=batch_size or self.settings.face_batch_size,
            max_pixels=self.settings.max_image_pixels, decode_timeout_s=self.settings.decode_timeout_s,
        )

    def _pending(self) -> Iterator[list[photo_rows.PendingPhoto]]:
        after = 0
        while True:
            with self.db.connection() as conn:
                chunk = face_rows.pending(conn, after_id=after)
            if not chunk:
                return
            yield chunk
            after = chunk[-1].id

    def _write(self, batch: list[DecodedPhoto], group: dict[int, photo_rows.PendingPhoto], ref: FaceRef) -> int:
        written = 0
        model = Path(ref.pack_dir).name
        with self.db.connection() as conn:
            for d in batch:
                photo = group[d.photo_id]
                if not d.ok:
                    photo_rows.mark_failed(conn, d.photo_id, d.reason or "unknown error", photo.size, photo.mtime)
                    continue
                assert d.content_hash is not None and d.metadata is not None
                if not photo_rows.apply_update(conn, photo, d.content_hash, d.metadata):
                    continue  # the file changed while it was read; the next scan resets it
                faces = d.faces if isinstance(d, FaceDecoded) else []
                replace_faces(conn, d.photo_id, faces, model)
                face_rows.mark_indexed(conn, d.photo_id)
                written += len(faces)
        return written


def replace_faces(conn, photo_id: int, faces: list[DetectedFace], model: str) -> None:
    """Make the photo's faces `faces`; a new face matching an old one (place or look) keeps the
    old row: its id, person, and suggestion."""
    old = face_rows.vectors_of_photo(conn, photo_id)
    new = [face_rows.NewFace(f.bbox, f.landmarks, f.det_score, f.embedding, f.age, f.gender) for f in faces]
    matched = match_faces([o["bbox"] for o in old], [o["embedding"].to_numpy() for o in old],
                          [n.bbox for n in new], [n.embedding for n in new])
    for j, face in enumerate(new):
        if j in matched:
            face_rows.update_detection(conn, old[matched[j]]["id"], face, model)
        else:
            face_rows.insert(conn, photo_id, face, model)
    kept = {old[i]["id"] for i in matched.values()}
    face_rows.delete(conn, [o["id"] for o in old if o["id"] not in kept])
