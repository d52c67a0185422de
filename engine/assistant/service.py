"""The AI assistant (F15, B2): natural language -> filters + an image-text prompt -> a search.

Gemini answers when GEMINI_API_KEY is set; otherwise, or when Gemini fails, the offline parser
does, and the answer says which one did and why.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from engine.assistant.gemini import Gemini, GeminiError
from engine.assistant.parser import Named, ParsedQuery, Vocabulary, parse as offline_parse
from engine.config import Settings
from engine.db import albums as album_rows
from engine.db import filters as filter_sql
from engine.db import persons as person_rows
from engine.db import photos as photo_rows
from engine.db.database import Database
from engine.db.photos import GeoPhoto
from engine.geo.places import known_places
from engine.i18n import N_
from engine.search.filters import SearchFilters
from engine.search.service import NoModelIndexed, SearchResult, SearchService, browse
from engine.search.service_types import SearchHit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipPrompt:
    text: str
    prompt: str
    source: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssistantAnswer:
    parsed: ParsedQuery
    result: SearchResult


@dataclass(frozen=True)
class MapAnswer:
    parsed: ParsedQuery
    points: list[GeoPhoto]
    total: int

    @property
    def filters(self) -> dict[str, Any]:
        """The filters applied, JSON-ready."""
        return self.parsed.filters().describe()


class Assistant:
    def __init__(self, db: Database, settings: Settings, search: SearchService) -> None:
        self.db = db
        self.settings = settings
        self.search = search
        self._gemini: Gemini | None = None
        self._lock = threading.Lock()

    @property
    def gemini_enabled(self) -> bool:
        return bool((self.settings.gemini_api_key or "").strip())

    def _client(self) -> Gemini:
        with self._lock:
            if self._gemini is None:
                self._gemini = Gemini(self.settings.gemini_api_key or "", self.settings.gemini_model,
                                      self.settings.gemini_base_url, self.settings.gemini_timeout_s)
            return self._gemini

    def vocabulary(self) -> Vocabulary:
        with self.db.connection() as conn:
            persons = [Named(p.id, p.name, p.aliases) for p in person_rows.names(conn)]
            albums = [Named(i, name) for i, name in album_rows.names(conn)]
            cameras = photo_rows.cameras(conn)
        return Vocabulary(persons, albums, known_places(self.db), cameras)

    def understand(self, text: str, *, today: date | None = None, use_gemini: bool | None = None) -> ParsedQuery:
        """Filters and the image-text prompt of a request, by Gemini or the offline parser."""
        today = today or date.today()
        vocab = self.vocabulary()
        if use_gemini is None:
            use_gemini = True
        if use_gemini and self.gemini_enabled:
            try:
                return self._client().parse(text, vocab, today)
            except GeminiError as exc:
                log.info("Gemini failed, offline parser answers: %s", exc)
                parsed = offline_parse(text, vocab, today)
                return replace(parsed, notes=(f"Gemini failed ({exc}); the offline parser answered", *parsed.notes))
        parsed = offline_parse(text, vocab, today)
        if use_gemini:
            parsed = replace(parsed, notes=("offline parser: GEMINI_API_KEY is not set", *parsed.notes))
        return parsed

    def clip_prompt(self, text: str, *, translate: bool = True) -> ClipPrompt:
        """A prompt for the image-text models: the visual part of the request, in English when possible;
        when it cannot be English, the notes say why and whether the default model can read it."""
        notes: list[str] = []
        if self.gemini_enabled:
            try:
                return ClipPrompt(text, self._client().clip_prompt(text), "gemini")
            except GeminiError as exc:
                notes.append(N_("Gemini failed ({error}); the offline parser answered", error=str(exc)))
        else:
            notes.append(N_("offline parser: GEMINI_API_KEY is not set"))
        parsed = offline_parse(text, self.vocabulary())
        prompt = parsed.query or text.strip()
        if translate:
            tr = self.search.translator.translate(prompt)
            if tr.note:
                notes.append(tr.note)
            prompt = tr.text
        if prompt and prompt.isascii() and not prompt.lower().startswith(("a photo", "a picture", "photo of")):
            prompt = f"a photo of {prompt}"
        mismatch = self.search.language_note(prompt, [self.search.serving().name])
        if mismatch:
            notes.append(mismatch)
        return ClipPrompt(text, prompt, "offline", tuple(notes + list(parsed.notes)))

    def run(self, text: str, *, top_k: int = 20, threshold: float | None = None, multi_model: bool = True,
            model: str | None = None, models: list[str] | None = None, translate: bool | None = None,
            extra: SearchFilters | None = None, today: date | None = None,
            use_gemini: bool | None = None) -> AssistantAnswer:
        """Understand the request, then search: fused over every indexed model by default; what is
        left to rank by is translated when `translate` (default: when TRANSLATE_API_KEY is set)."""
        parsed = self.understand(text, today=today, use_gemini=use_gemini)
        filters = parsed.filters() if extra is None else parsed.filters().merged(extra)
        notes = list(parsed.notes)
        if not parsed.query:
            hits = browse(self.db, filters, top_k)
            notes.append(N_("nothing left to rank by after the filters: newest first"))
            result = SearchResult("filters", hits, text, filters=filters.describe())
        else:
            try:
                result = self.search.query(parsed.query, model=model, multi_model=multi_model, models=models,
                                           translate=translate, resolve_persons=False, top_k=top_k,
                                           threshold=threshold, filters=filters)
            except NoModelIndexed as exc:
                hits = browse(self.db, filters, top_k)
                notes.append(N_("{reason}; showing the filters' matches, newest first",
                                reason=exc.args[0] if exc.args else str(exc)))
                result = SearchResult("filters", hits, parsed.query, filters=filters.describe())
        return AssistantAnswer(parsed, replace(result, notes=tuple(notes) + result.notes))

    def map_filters(self, text: str, *, limit: int = 2000, today: date | None = None,
                    use_gemini: bool | None = None) -> MapAnswer:
        """The map's points for a request: photos with GPS that pass its filters (the prompt is not ranked)."""
        parsed = self.understand(text, today=today, use_gemini=use_gemini)
        with self.db.connection() as conn:
            points, total = photo_rows.geotagged(conn, filter_sql.where(parsed.filters()), limit=limit,
                                                 newest_first=True)
        return MapAnswer(parsed, points, total)


__all__ = ["Assistant", "AssistantAnswer", "ClipPrompt", "MapAnswer", "SearchHit"]
