"""Face search: by an uploaded picture's face, by a stored face; a person's photos; several
persons together; and person + text ("Tanya in the mountains": the person's photos ranked by the
image-text query)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.db import faces as face_rows
from engine.db import persons as person_rows
from engine.db.database import Database
from engine.faces.errors import FaceNotFound, InvalidRequest, NoFaceFound, PersonNotFound
from engine.models.face import DetectedFace, FaceAnalyzer
from engine.faces.records import Face
from engine.faces.stage import decode_side, to_face_array
from engine.models.registry import get_spec
from engine.search.filters import SearchFilters
from engine.search.service import SearchResult, SearchService


@dataclass(frozen=True)
class FaceHit:
    face: Face
    score: float


@dataclass(frozen=True)
class FaceSearchResult:
    query_faces: list[DetectedFace]
    """Faces found in the uploaded picture, largest first (empty for a search by face id)."""
    chosen: int | None
    hits: list[FaceHit]


class FaceSearch:
    def __init__(self, db: Database, analyzer: Callable[[], FaceAnalyzer], text_search: SearchService,
                 det_size: int = 640, threshold: float = 0.5) -> None:
        """Pictures searched by are decoded by `text_search.pictures` (their own pixel cap and concurrency)."""
        self.db = db
        self._analyzer = analyzer
        self.text_search = text_search
        self.det_size = det_size
        self.threshold = threshold

    def faces_in_picture(self, data: bytes, fmt: str = "jpg") -> list[DetectedFace]:
        """Faces of a picture that is not in the library, in its own (oriented) pixels, largest first."""
        side = decode_side(self.det_size)
        image = self.text_search.pictures.decode(data, fmt, side)
        array, (sx, sy) = to_face_array(image, side)
        (faces,) = self._analyzer().analyze([array], det_size=self.det_size, threshold=self.threshold)
        return [f.scaled(sx, sy) for f in faces]

    def by_picture(self, data: bytes, *, face_index: int | None = None, top_k: int = 20,
                   threshold: float | None = None, fmt: str = "jpg") -> FaceSearchResult:
        """Photos with the largest face of the picture (or its `face_index`-th, largest first)."""
        faces = self.faces_in_picture(data, fmt)
        if not faces:
            raise NoFaceFound("no face found in the picture")
        index = face_index or 0
        if not 0 <= index < len(faces):
            raise NoFaceFound(f"the picture has {len(faces)} faces; face_index {index} is out of range")
        return FaceSearchResult(faces, index, self._nearest(faces[index].embedding, top_k, threshold))

    def by_face(self, face_id: int, *, top_k: int = 20, threshold: float | None = None) -> FaceSearchResult:
        with self.db.connection() as conn:
            vector = face_rows.embedding_of(conn, face_id)
            own = face_rows.get(conn, face_id)
        if vector is None or own is None:
            raise FaceNotFound(f"no face with id {face_id}")
        return FaceSearchResult([], None, self._nearest(vector, top_k, threshold, exclude_photo=own.photo_id))

    def _nearest(self, vector: np.ndarray, top_k: int, threshold: float | None,
                 exclude_photo: int | None = None) -> list[FaceHit]:
        """Best face per photo, top_k photos."""
        with self.db.connection() as conn:
            found = face_rows.nearest(conn, vector, top_k * 4 + 8, min_score=threshold)
            hits: list[FaceHit] = []
            seen: set[int] = set()
            for n in found:
                if n.photo_id in seen or n.photo_id == exclude_photo:
                    continue
                seen.add(n.photo_id)
                row = face_rows.get(conn, n.face_id)
                if row is not None:
                    hits.append(FaceHit(Face.from_row(row), float(n.score)))
                if len(hits) >= top_k:
                    break
        return hits

    def photos_with(self, person_ids: Sequence[int], *, limit: int = 100, offset: int = 0) -> tuple[list[person_rows.PersonPhoto], int]:
        """Photos showing every one of `person_ids`, newest first."""
        ids = self._check_persons(person_ids)
        with self.db.connection() as conn:
            return person_rows.photos_showing(conn, ids, limit, offset)

    def person_text(self, person_ids: Sequence[int], query: str, *, model: str, top_k: int = 20,
                    threshold: float | None = None) -> SearchResult:
        """Photos showing every one of `person_ids`, ranked by the image-text query (exact scan of that set)."""
        ids = self._check_persons(person_ids)
        if not query.strip():
            raise InvalidRequest("the text query is empty")
        spec = get_spec(model)
        vector = self.text_search.models.get(spec.name).encode_text([query])[0]
        hits = self.text_search.rank(spec.name, vector, top_k, threshold, SearchFilters(person_ids=tuple(ids)),
                                     exact=True)
        return SearchResult(spec.name, hits, query)

    def _check_persons(self, person_ids: Sequence[int]) -> list[int]:
        ids = sorted({int(i) for i in person_ids})
        if not ids:
            raise InvalidRequest("give at least one person id")
        with self.db.connection() as conn:
            found = {p.id for p in person_rows.get_many(conn, ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise PersonNotFound(f"no person with id {missing[0]}")
        return ids
