"""Gemini (through the official `google-genai` SDK) as the natural-language -> filters step.

Asked for JSON only; names it returns are mapped back to the library's persons, albums and
places (an unknown name is dropped and noted). Any failure is the caller's cue to fall back to
the offline parser.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from engine.assistant.parser import Named, ParsedQuery, Vocabulary, parse as offline_parse
from engine.i18n import N_
from engine.search.names import unknown_person_note
from engine.errors import Unavailable

_SCHEMA_HINT = {
    "query": "the visual content to search for, in English, as a short image-text prompt ('' if none)",
    "persons": ["names exactly as in the known persons list"],
    "albums": ["names exactly as in the known albums list"],
    "places": ["countries or cities exactly as in the known places list"],
    "date_from": "YYYY-MM-DD or null", "date_to": "YYYY-MM-DD or null (inclusive)",
    "formats": ["JPG|PNG|HEIC|RAW|WEBP|BMP|DNG|NEF|CR2|ARW"], "cameras": ["camera names or brands"],
}


class GeminiError(Unavailable):
    pass


class Gemini:
    def __init__(self, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 20.0) -> None:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(base_url=base_url or None, timeout=int(timeout_s * 1000))
        self._client = genai.Client(api_key=api_key, http_options=options)
        self._types = types
        self.model = model

    def generate_json(self, prompt: str) -> Any:
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=prompt,
                config=self._types.GenerateContentConfig(response_mime_type="application/json", temperature=0.0),
            )
            text = response.text or ""
        except Exception as exc:  # network, auth, quota: the caller falls back
            raise GeminiError(f"{type(exc).__name__}: {exc}") from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise GeminiError(f"Gemini answered with something that is not JSON: {text[:200]!r}") from exc

    def generate_text(self, prompt: str) -> str:
        try:
            response = self._client.models.generate_content(model=self.model, contents=prompt)
        except Exception as exc:
            raise GeminiError(f"{type(exc).__name__}: {exc}") from exc
        return (response.text or "").strip()

    # --- the assistant's two questions
    def parse(self, text: str, vocab: Vocabulary, today: date) -> ParsedQuery:
        prompt = (
            "You turn a photo-search request (Russian or English) into JSON filters for a home photo library.\n"
            f"Today is {today.isoformat()}.\n"
            f"Known persons (names and aliases): {json.dumps([n for p in vocab.persons for n in p.known_as], ensure_ascii=False)}\n"
            f"Known albums: {json.dumps([a.name for a in vocab.albums], ensure_ascii=False)}\n"
            f"Known places: {json.dumps(vocab.place_names(), ensure_ascii=False)}\n"
            f"Answer with one JSON object shaped like {json.dumps(_SCHEMA_HINT)}.\n"
            f"Request: {text}"
        )
        data = self.generate_json(prompt)
        if not isinstance(data, dict):
            raise GeminiError("Gemini's answer is not a JSON object")
        return _to_parsed(text, data, vocab, today)

    def clip_prompt(self, text: str) -> str:
        prompt = ("Rewrite this photo-search request as one short English prompt for an image-text model "
                  "(CLIP/SigLIP): describe only what is visible, no names, no dates, no places unless visible. "
                  f"Answer with the prompt only.\nRequest: {text}")
        answer = self.generate_text(prompt).strip().strip('"')
        if not answer:
            raise GeminiError("Gemini answered with an empty prompt")
        return answer


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _names(values: Any) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [str(v).strip() for v in values or [] if str(v).strip()]


def _to_parsed(text: str, data: dict, vocab: Vocabulary, today: date) -> ParsedQuery:
    notes: list[str] = []
    by_name = {n.lower(): p for p in vocab.persons for n in reversed(p.known_as)}
    persons: list[Named] = []
    unknown: list[str] = []
    for name in _names(data.get("persons")):
        match = by_name.get(name.lower())
        if match is None:  # Gemini may decline a name; the offline matcher knows the case endings
            found = offline_parse(name, Vocabulary(persons=vocab.persons), today).persons
            match = found[0] if found else None
        if match is None:
            unknown.append(name)
            notes.append(unknown_person_note(name))
        elif match not in persons:
            persons.append(match)
    albums_by = {a.name.lower(): a for a in vocab.albums}
    albums = []
    for name in _names(data.get("albums")):
        if name.lower() in albums_by:
            albums.append(albums_by[name.lower()])
        else:
            notes.append(N_("unknown album {name} ignored", name=repr(name)))
    known_places = {n.lower(): n for n in vocab.place_names()}
    places = []
    for name in _names(data.get("places")):
        if name.lower() in known_places:
            places.append(known_places[name.lower()])
        else:
            notes.append(N_("no photos are geotagged in {name}; place ignored", name=repr(name)))
    return ParsedQuery(
        text=text, query=str(data.get("query") or "").strip(), persons=tuple(persons), albums=tuple(albums),
        places=tuple(places), date_from=_date(data.get("date_from")), date_to=_date(data.get("date_to")),
        formats=tuple(f.upper() for f in _names(data.get("formats"))), cameras=tuple(_names(data.get("cameras"))),
        source="gemini", notes=tuple(notes), unknown_persons=tuple(unknown),
    )
