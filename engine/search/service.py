"""Text and image search over one model's embedding store, or several fused with RRF.

`text` / `image` rank with one model; `multi_text` / `multi_image` rank with every model that has
embeddings (or the ones named) and fuse the rankings with Reciprocal Rank Fusion; `query` is the
full text search of the product: person names become face filters (B6), optional translation,
metadata filters (B3), one model or all of them.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.db import embeddings as embedding_rows
from engine.db import filters as filter_sql
from engine.db import persons as person_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.errors import Conflict, Invalid, NotFound
from engine.i18n import N_
from engine.library.paths import read_inside
from engine.media.pictures import PictureDecoder
from engine.geo import names as place_names
from engine.media.formats import format_of
from engine.models.errors import ModelNotAvailable
from engine.models.manager import ModelManager
from engine.models.registry import ModelSpec, get_spec
from engine.search import names as name_match
from engine.search.filters import SearchFilters
from engine.search.fusion import DEFAULT_K, rrf
from engine.search.language import model_language_note
from engine.search.serving import ServingModel, choose_serving
from engine.search.service_types import DetectedPerson, SearchHit, SearchResult
from engine.search.translate import Translator

__all__ = ["NotIndexed", "PhotoNotFound", "SearchHit", "SearchResult", "SearchService", "NoModelIndexed"]

FUSED = "rrf"
SERVING_REFRESH_S = 30.0
"""How long the choice of the serving model is kept; indexing in this process refreshes it at once."""


class PhotoNotFound(NotFound):
    pass


class NotIndexed(Conflict):
    """The photo exists but has no vector for the requested model yet."""


class NoModelIndexed(Conflict):
    """A fused search found no model with both embeddings and weights to rank with."""


class SearchService:
    def __init__(self, db: Database, models: ModelManager, max_image_pixels: int = 200_000_000, *,
                 default_model: str | None = None, translator: Translator | None = None,
                 rrf_k: float = DEFAULT_K, rrf_weights: Mapping[str, float] | None = None,
                 library_root: Path | None = None, pictures: PictureDecoder | None = None) -> None:
        """A picture under `library_root` is opened with no symbolic link below the root; `pictures`
        decodes the pictures searched by (uploads), under their own pixel cap and concurrency."""
        self.db = db
        self.pictures = pictures or PictureDecoder(header_max_pixels=max_image_pixels)
        self.library_root = library_root.resolve() if library_root is not None else None
        self.models = models
        self.max_image_pixels = max_image_pixels
        self.default_model = default_model or models.settings.clip_model
        self.translator = translator or Translator(None)
        self.rrf_k = rrf_k
        self.rrf_weights = dict(rrf_weights or {})
        self._serving: tuple[float, ServingModel] | None = None

    def serving(self) -> ServingModel:
        """The model searches use when none is named: CLIP_MODEL, or while the library is not yet
        indexed with it, the model with the most vectors (`engine.search.serving`)."""
        cached = self._serving
        if cached is not None and time.monotonic() - cached[0] < SERVING_REFRESH_S:
            return cached[1]
        chosen = self._choose_serving(self._has_weights)
        self._serving = (time.monotonic(), chosen)
        return chosen

    def compared_model(self) -> str:
        """The model whose stored vectors compare photos with one another (duplicates by embedding):
        chosen as `serving` is, CLIP_MODEL once the library is indexed with it, except that
        comparing stored vectors needs no weights."""
        return self._choose_serving(lambda _name: True).name

    def _choose_serving(self, has_weights: Callable[[str], bool]) -> ServingModel:
        with self.db.connection() as conn:
            counts = embedding_rows.counts(conn, self.models.models)
        return choose_serving(get_spec(self.default_model, self.models.models).name, counts, has_weights)

    def forget_serving(self) -> None:
        """Choose the serving model afresh on the next search (after an indexing run)."""
        self._serving = None

    def _has_weights(self, name: str) -> bool:
        try:
            self.models.get(name)
        except ModelNotAvailable:
            return False
        return True

    # --- one model
    def text(
        self,
        query: str,
        *,
        model: str,
        top_k: int = 20,
        threshold: float | None = None,
        formats: Sequence[str] | None = None,
        filters: SearchFilters | None = None,
    ) -> SearchResult:
        spec = get_spec(model)
        vector = self.models.get(spec.name).encode_text([query])[0]
        flt = self._filters(filters, formats)
        return SearchResult(spec.name, self.rank(spec.name, vector, top_k, threshold, flt), query, models=(spec.name,),
                            filters=flt.describe())

    def image(
        self,
        *,
        model: str,
        image_bytes: bytes | None = None,
        image_path: Path | None = None,
        photo_id: int | None = None,
        top_k: int = 20,
        threshold: float | None = None,
        formats: Sequence[str] | None = None,
        filters: SearchFilters | None = None,
    ) -> SearchResult:
        """Photos like a picture: uploaded bytes, a file on this machine, or an indexed photo.

        A photo id reuses its stored vector (no model needed) and leaves the photo itself out.
        """
        spec = get_spec(model)
        flt = self._filters(filters, formats)
        if photo_id is not None:
            self._check_photo(photo_id)
            vector = self._stored_vector(spec, photo_id)
            if vector is None:
                raise NotIndexed(f"photo {photo_id} is not indexed with {spec.name} yet")
            flt = flt.excluding([photo_id])
        else:
            image_bytes, fmt = self._picture(image_bytes, image_path)
            vector = self.embed_picture(spec, image_bytes, fmt)
        hits = self.rank(spec.name, vector, top_k, threshold, flt)
        return SearchResult(spec.name, hits, models=(spec.name,), filters=flt.describe())

    # --- several models, fused
    def indexed_models(self, *, need_weights: bool = True) -> list[str]:
        """Registry models with at least one stored vector (and, with `need_weights`, weights on disk)."""
        names = []
        with self.db.connection() as conn:
            counts = embedding_rows.counts(conn, self.models.models)
        for name, n in counts.items():
            if n == 0:
                continue
            if need_weights:
                try:
                    self.models.get(name)
                except ModelNotAvailable:
                    continue
            names.append(name)
        return names

    def _fusion_models(self, models: Sequence[str] | None, need_weights: bool) -> tuple[list[str], list[str]]:
        notes: list[str] = []
        available = self.indexed_models(need_weights=need_weights)
        if models:
            wanted = list(dict.fromkeys(get_spec(m, self.models.models).name for m in models))
            chosen = [m for m in wanted if m in available]
            left = [m for m in wanted if m not in available]
            if left:
                notes.append(N_("left out (no embeddings or no weights): {models}", models=", ".join(left)) if need_weights
                             else N_("left out (no embeddings): {models}", models=", ".join(left)))
        else:
            chosen = available
        if not chosen:
            raise NoModelIndexed(N_("no image-text model has embeddings to search with yet; index the library first"))
        return chosen, notes

    def _depth(self, top_k: int) -> int:
        return max(top_k * 3, 50)

    def multi_text(self, query: str, *, models: Sequence[str] | None = None, top_k: int = 20,
                   threshold: float | None = None, formats: Sequence[str] | None = None,
                   filters: SearchFilters | None = None, k: float | None = None,
                   weights: Mapping[str, float] | None = None) -> SearchResult:
        chosen, notes = self._fusion_models(models, need_weights=True)
        flt = self._filters(filters, formats)
        rankings = {}
        for name in chosen:
            spec = get_spec(name)
            vector = self.models.get(spec.name).encode_text([query])[0]
            rankings[spec.name] = self.rank(spec.name, vector, self._depth(top_k), threshold, flt)
        return self._fuse(rankings, query, top_k, flt, k, weights, notes)

    def multi_image(self, *, models: Sequence[str] | None = None, image_bytes: bytes | None = None,
                    image_path: Path | None = None, photo_id: int | None = None, top_k: int = 20,
                    threshold: float | None = None, formats: Sequence[str] | None = None,
                    filters: SearchFilters | None = None, k: float | None = None,
                    weights: Mapping[str, float] | None = None) -> SearchResult:
        flt = self._filters(filters, formats)
        if photo_id is not None:
            self._check_photo(photo_id)
            chosen, notes = self._fusion_models(models, need_weights=False)
            vectors = {n: self._stored_vector(get_spec(n), photo_id) for n in chosen}
            missing = [n for n, v in vectors.items() if v is None]
            if missing:
                notes.append(f"photo {photo_id} is not indexed with {', '.join(missing)}; those models were left out")
            vectors = {n: v for n, v in vectors.items() if v is not None}
            if not vectors:
                raise NotIndexed(f"photo {photo_id} is not indexed with any model yet")
            flt = flt.excluding([photo_id])
        else:
            chosen, notes = self._fusion_models(models, need_weights=True)
            data, fmt = self._picture(image_bytes, image_path)
            vectors = {n: self.embed_picture(get_spec(n), data, fmt) for n in chosen}
        rankings = {n: self.rank(n, v, self._depth(top_k), threshold, flt) for n, v in vectors.items()}
        return self._fuse(rankings, None, top_k, flt, k, weights, notes)

    def _fuse(self, rankings: dict[str, list[SearchHit]], query: str | None, top_k: int, flt: SearchFilters,
              k: float | None, weights: Mapping[str, float] | None, notes: list[str]) -> SearchResult:
        k = float(k if k is not None else self.rrf_k)
        merged_weights = {**self.rrf_weights, **{get_spec(m).name: w for m, w in (weights or {}).items()}}
        hits = rrf(rankings, k=k, weights=merged_weights, top_k=top_k)
        return SearchResult(FUSED, hits, query, models=tuple(rankings), notes=tuple(notes), filters=flt.describe(),
                            rrf_k=k)

    # --- the product's text search
    def query(self, text: str, *, model: str | None = None, multi_model: bool = False,
              models: Sequence[str] | None = None, translate: bool | None = None, resolve_persons: bool = True,
              top_k: int = 20, threshold: float | None = None, formats: Sequence[str] | None = None,
              filters: SearchFilters | None = None, k: float | None = None,
              weights: Mapping[str, float] | None = None) -> SearchResult:
        """Text search as people type it: "Таня на море" = photos with Tanya ranked by "на море".

        `translate` defaults to on when a translation key is set. A query left in a script the
        ranking model was not trained on gets a note naming the ways out.
        """
        flt = self._filters(filters, formats)
        notes: list[str] = []
        detected: tuple[DetectedPerson, ...] = ()
        search_text = text.strip()
        if resolve_persons:
            detected, unknown, rest = self.detect_persons(search_text)
            if detected:
                flt = flt.merged(SearchFilters(person_ids=tuple(p.id for p in detected)))
                notes.append(N_("person filter from the query: {names}", names=", ".join(p.name for p in detected)))
            notes += [name_match.unknown_person_note(name) for name in unknown]
            if detected or unknown:
                search_text = rest or "a photo"  # only names: rank the person's photos by a neutral prompt
        if self.translator.configured if translate is None else translate:
            tr = self.translator.translate(search_text)
            if tr.note:
                notes.append(tr.note)
            search_text = tr.text
        if not multi_model and model is None:
            serving = self.serving()
            model = serving.name
            notes += [serving.note] if serving.note else []
        if multi_model:
            result = self.multi_text(search_text, models=models, top_k=top_k, threshold=threshold, filters=flt, k=k,
                                     weights=weights)
        else:
            result = self.text(search_text, model=model, top_k=top_k, threshold=threshold,
                               filters=flt)
        mismatch = self.language_note(search_text, result.models)
        notes += [mismatch] if mismatch else []
        return replace(result, query=text, translated_query=search_text if search_text != text else None,
                       notes=tuple(notes) + result.notes, persons=detected)

    def detect_persons(self, text: str) -> tuple[tuple[DetectedPerson, ...], tuple[str, ...], str]:
        """Known persons named in `text` (by name or alias, in any case form), the first names in it
        that are nobody's, and the text without either."""
        with self.db.connection() as conn:
            people = person_rows.names(conn)
        by_id = {p.id: p for p in people}
        found = name_match.find_names(text, [(p.id, n) for p in people for n in (p.name, *p.aliases)])
        unknown = name_match.unknown_names(text, taken=[m.span for m in found], is_place=place_names.is_place)
        if not found and not unknown:
            return (), (), text
        rest = name_match.strip_connectors(name_match.remove_spans(text, [m.span for m in (*found, *unknown)]))
        detected = {m.item: DetectedPerson(m.item, by_id[m.item].name, text[m.start:m.end]) for m in found}
        return tuple(detected.values()), tuple(dict.fromkeys(m.item for m in unknown)), rest

    def language_note(self, text: str, models: Sequence[str]) -> str | None:
        """Why `text` will rank poorly with these models, when it will (`engine.search.language`)."""
        registry = self.models.models
        return model_language_note(text, [get_spec(m, registry) for m in models], registry)

    # --- helpers
    def embed_picture(self, spec: ModelSpec, data: bytes, fmt: str) -> np.ndarray:
        model = self.models.get(spec.name)
        prep = model.preprocessor
        image = self.pictures.decode(data, fmt, prep.min_source_side)
        return model.encode_images(prep.to_uint8(image)[None])[0]

    @staticmethod
    def _filters(filters: SearchFilters | None, formats: Sequence[str] | None) -> SearchFilters:
        flt = filters or SearchFilters()
        if formats:
            flt = replace(flt, formats=tuple(dict.fromkeys((*flt.formats, *formats))))
        return flt

    def _picture(self, image_bytes: bytes | None, image_path: Path | None) -> tuple[bytes, str]:
        if image_path is not None:
            root = self.library_root
            inside = root is not None and (image_path == root or root in image_path.parents)
            data = read_inside(root, image_path) if inside else image_path.read_bytes()  # else: the CLI's own file
            return data, format_of(image_path.name) or "jpg"
        if image_bytes is None:
            raise Invalid("give image bytes, an image path or a photo id")
        return image_bytes, "jpg"

    def _check_photo(self, photo_id: int) -> None:
        with self.db.connection() as conn:
            if photo_rows.get(conn, photo_id) is None:
                raise PhotoNotFound(f"no photo with id {photo_id}")

    def _stored_vector(self, spec: ModelSpec, photo_id: int) -> np.ndarray | None:
        with self.db.connection() as conn:
            return embedding_rows.vector_of(conn, spec.name, photo_id)

    def rank(self, model: str, vector: np.ndarray, top_k: int, threshold: float | None, filters: SearchFilters,
             *, exact: bool = False) -> list[SearchHit]:
        """The photos passing `filters` nearest to `vector` in `model`'s space (`exact`: every one of them
        ranked, not through the index)."""
        with self.db.connection() as conn:
            rows = embedding_rows.nearest(conn, model, vector, top_k, min_score=threshold,
                                          where=filter_sql.where(filters), exact=exact)
        return [SearchHit(r.id, r.path, float(r.score), r.format, r.taken_at, r.width, r.height) for r in rows]


def browse(db: Database, filters: SearchFilters, top_k: int = 100, offset: int = 0) -> list[SearchHit]:
    """Photos matching the filters alone, newest first (score 0: nothing ranked them)."""
    with db.connection() as conn:
        rows = photo_rows.browse(conn, filter_sql.where(filters), top_k, offset)
    return [SearchHit(r.id, r.path, 0.0, r.format, r.taken_at, r.width, r.height) for r in rows]
