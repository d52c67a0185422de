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
from engine.db.database import Database
from engine.geo.places import known_places
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
class MapPoint:
    id: int
    latitude: float
    longitude: float
    taken_at: Any
    place: str | None

    @property
    def thumbnail_url(self) -> str:
        return f"/image/{self.id}/thumb"


@dataclass(frozen=True)
class MapAnswer:
    parsed: ParsedQuery
    points: list[MapPoint]
    total: int


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
            persons = [Named(r["id"], r["name"]) for r in conn.execute("SELECT id, name FROM persons ORDER BY id")]
            albums = [Named(r["id"], r["name"]) for r in conn.execute("SELECT id, name FROM albums ORDER BY id")]
            cameras = [r["camera"] for r in conn.execute(
                "SELECT DISTINCT camera FROM photos WHERE camera IS NOT NULL ORDER BY camera LIMIT 500")]
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
        """A prompt for the image-text models: the visual part of the request, in English when possible."""
        notes: list[str] = []
        if self.gemini_enabled:
            try:
                return ClipPrompt(text, self._client().clip_prompt(text), "gemini")
            except GeminiError as exc:
                notes.append(f"Gemini failed ({exc}); the offline parser answered")
        else:
            notes.append("offline parser: GEMINI_API_KEY is not set")
        parsed = offline_parse(text, self.vocabulary())
        prompt = parsed.query or text.strip()
        if translate:
            tr = self.search.translator.translate(prompt)
            if tr.note:
                notes.append(tr.note)
            prompt = tr.text
        if prompt and prompt.isascii() and not prompt.lower().startswith(("a photo", "a picture", "photo of")):
            prompt = f"a photo of {prompt}"
        return ClipPrompt(text, prompt, "offline", tuple(notes))

    def run(self, text: str, *, top_k: int = 20, threshold: float | None = None, multi_model: bool = True,
            model: str | None = None, models: list[str] | None = None, translate: bool = True,
            extra: SearchFilters | None = None, today: date | None = None,
            use_gemini: bool | None = None) -> AssistantAnswer:
        """Understand the request, then search: fused over every indexed model by default."""
        parsed = self.understand(text, today=today, use_gemini=use_gemini)
        filters = parsed.filters() if extra is None else parsed.filters().merged(extra)
        notes = list(parsed.notes)
        if not parsed.query:
            hits = browse(self.db, filters, top_k)
            notes.append("nothing left to rank by after the filters: newest first")
            result = SearchResult("filters", hits, text, filters=filters.describe())
        else:
            try:
                result = self.search.query(parsed.query, model=model, multi_model=multi_model, models=models,
                                           translate=translate, resolve_persons=False, top_k=top_k,
                                           threshold=threshold, filters=filters)
            except NoModelIndexed as exc:
                hits = browse(self.db, filters, top_k)
                notes.append(f"{exc}; showing the filters' matches, newest first")
                result = SearchResult("filters", hits, parsed.query, filters=filters.describe())
        return AssistantAnswer(parsed, replace(result, notes=tuple(notes) + result.notes))

    def map_filters(self, text: str, *, limit: int = 2000, today: date | None = None,
                    use_gemini: bool | None = None) -> MapAnswer:
        """The map's points for a request: photos with GPS that pass its filters (the prompt is not ranked)."""
        parsed = self.understand(text, today=today, use_gemini=use_gemini)
        conditions, params = parsed.filters().where("p")
        conditions.append("p.latitude IS NOT NULL AND p.longitude IS NOT NULL")
        where = " AND ".join(conditions)
        with self.db.connection() as conn:
            total = conn.execute(f"SELECT count(*) AS n FROM photos p WHERE {where}", params).fetchone()["n"]
            rows = conn.execute(
                f"SELECT p.id, p.latitude, p.longitude, p.taken_at, concat_ws(', ', coalesce(p.place_metro, p.place_city), p.place_country)"
                f" AS place FROM photos p WHERE {where} ORDER BY p.taken_at DESC NULLS LAST, p.id LIMIT %s",
                (*params, limit)).fetchall()
        points = [MapPoint(r["id"], r["latitude"], r["longitude"], r["taken_at"], r["place"] or None) for r in rows]
        return MapAnswer(parsed, points, total)


__all__ = ["Assistant", "AssistantAnswer", "ClipPrompt", "MapAnswer", "MapPoint", "SearchHit"]
