"""The offline assistant (B2): natural language -> structured filters + an image-text prompt.

Knows what the library knows: person names and aliases, album names, camera names and the places
its GPS photos were reverse-geocoded to (in English and Russian, `engine.geo.names`), all matched
in any case form ("с Таней", "в Камбодже", "на айфоне"). A word that reads as a first name of
nobody known is left out of the prompt and said so. Dates come from `engine.assistant.dates`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.assistant.dates import find_dates
from engine.geo import names as place_names
from engine.geo.places import Place
from engine.i18n import N_
from engine.search import names as nm
from engine.search.filters import SearchFilters


@dataclass(frozen=True)
class Named:
    id: int
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def known_as(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class Vocabulary:
    persons: list[Named] = field(default_factory=list)
    albums: list[Named] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)

    def place_names(self) -> list[str]:
        seen: dict[str, str] = {}
        for p in self.places:
            for n in (p.metro, p.city, p.state, p.country):
                if n:
                    seen.setdefault(n.lower(), n)
        return list(seen.values())


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    query: str
    """The image-text part: what is left once names, places and dates are taken out."""
    persons: tuple[Named, ...] = ()
    albums: tuple[Named, ...] = ()
    places: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    formats: tuple[str, ...] = ()
    cameras: tuple[str, ...] = ()
    source: str = "offline"
    notes: tuple[str, ...] = ()
    unknown_persons: tuple[str, ...] = ()
    """Names in the request that are nobody's in the library (nominative: "Аня" for "Ани")."""

    def filters(self) -> SearchFilters:
        return SearchFilters.of(date_from=self.date_from, date_to=self.date_to, cameras=self.cameras,
                                places=self.places, person_ids=[p.id for p in self.persons],
                                album_ids=[a.id for a in self.albums], formats=self.formats)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query, "persons": [{"id": p.id, "name": p.name} for p in self.persons],
            "albums": [{"id": a.id, "name": a.name} for a in self.albums], "places": list(self.places),
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "formats": list(self.formats), "cameras": list(self.cameras), "source": self.source,
            "unknown_persons": list(self.unknown_persons),
        }


# Russian spellings of camera brands -> the word in the camera's EXIF name ("снято на айфон").
RU_CAMERA_WORDS = {
    "Айфон": "iPhone", "Эппл": "Apple", "Кэнон": "Canon", "Канон": "Canon", "Никон": "Nikon", "Сони": "Sony",
    "Самсунг": "Samsung", "Пиксель": "Pixel", "Фуджи": "Fujifilm", "Фуджифильм": "Fujifilm", "Олимпус": "Olympus",
    "Панасоник": "Panasonic", "Лейка": "Leica", "Гоупро": "GoPro", "Сяоми": "Xiaomi", "Хуавей": "Huawei",
}

_FORMAT_WORDS = {"heic": "HEIC", "heif": "HEIC", "raw": "RAW", "png": "PNG", "jpeg": "JPG", "jpg": "JPG",
                 "webp": "WEBP", "dng": "DNG", "nef": "NEF", "cr2": "CR2", "arw": "ARW", "bmp": "BMP"}
_ALBUM_WORD = re.compile(r"(?<!\w)(?:albums?|альбом(?:а|е|ом|ы|ов)?)(?!\w)", re.IGNORECASE)
_FILLER = re.compile(
    r"(?<!\w)(?:find|show|search|search for|get|me|please|shot|on|by|снято|сняты|на|photos?|pictures?|pics?|images?|shots?|taken|with|of|from|"
    r"all|my|найди|найти|покажи|показать|ищи|мне|пожалуйста|все|фото(?:графии|графия|чки)?|снимк(?:и|ов)|"
    r"картинк(?:и|у)|изображени[яе]|сделанные|с|со|и|and)(?!\w)", re.IGNORECASE)
_LEAD_PREP = {"in", "at", "on", "в", "во", "на", "из", "at the", "the", "a"}


def _tidy(text: str) -> str:
    text = re.sub(r"[\"«»“”]", " ", text)
    words = text.split()
    # drop filler only at the edges, keep it inside ("dog with a ball")
    while words and _FILLER.fullmatch(words[0].strip(",.")):
        words.pop(0)
    while words and (_FILLER.fullmatch(words[-1].strip(",.")) or words[-1].lower().strip(",.") in _LEAD_PREP):
        words.pop()
    out = " ".join(words).strip(" ,.;:-")
    return re.sub(r"\s+", " ", out)


def parse(text: str, vocab: Vocabulary, today: date | None = None) -> ParsedQuery:
    today = today or date.today()
    taken: list[tuple[int, int]] = []
    notes: list[str] = []

    dates = find_dates(text, today)
    date_from = min((d.start for d in dates), default=None)
    date_to = max((d.end for d in dates), default=None)
    taken += [d.span for d in dates]

    persons = nm.find_names(text, [(p, n) for p in vocab.persons for n in p.known_as], taken=taken)
    taken += [m.span for m in persons]

    album_keyword = _ALBUM_WORD.search(text)
    album_items = [(a, a.name) for a in vocab.albums
                   if album_keyword or len(nm.tokens(a.name)) > 1 or f'"{a.name}"' in text or f"«{a.name}»" in text]
    albums = nm.find_names(text, album_items, taken=taken)
    taken += [m.span for m in albums]
    if albums and album_keyword and not any(album_keyword.start() < b and a < album_keyword.end() for a, b in taken):
        taken.append(album_keyword.span())

    place_items = [(n, n) for n in vocab.place_names()]
    place_items += list(dict.fromkeys(pair for p in vocab.places for pair in place_names.other_names(p)))
    places = nm.find_names(text, place_items, taken=taken)
    taken += [m.span for m in places]

    formats: list[str] = []
    cameras: list[str] = []
    for tok in nm.tokens(text):
        span = (tok.start, tok.end)
        if any(span[0] < b and a < span[1] for a, b in taken):
            continue
        word = tok.text.lower()
        if word in _FORMAT_WORDS:
            formats.append(_FORMAT_WORDS[word])
            taken.append(span)
    camera_items = [(c, c) for c in vocab.cameras]
    words = {w.lower(): w for c in vocab.cameras for w in c.split() if w.isalpha() and len(w) >= 3}
    camera_items += [(w, w) for w in words.values()]  # "iphone", "nikon", "canon"
    camera_items += [(words[en.lower()], ru) for ru, en in RU_CAMERA_WORDS.items() if en.lower() in words]
    for m in nm.find_names(text, camera_items, taken=taken):
        cameras.append(m.item)
        taken.append(m.span)

    unknown = nm.unknown_names(text, taken=taken, is_place=place_names.is_place)
    taken += [m.span for m in unknown]
    unknown_persons = tuple(dict.fromkeys(m.item for m in unknown))
    notes += [nm.unknown_person_note(name) for name in unknown_persons]

    rest = nm.remove_spans(text, taken)
    query = _tidy(nm.strip_connectors(rest))
    if dates:
        notes.append(N_("dates: {phrases}", phrases="; ".join(d.phrase for d in dates)))
    return ParsedQuery(
        text=text, query=query, persons=tuple(dict.fromkeys(m.item for m in persons)),
        albums=tuple(dict.fromkeys(m.item for m in albums)), places=tuple(dict.fromkeys(m.item for m in places)),
        date_from=date_from, date_to=date_to, formats=tuple(dict.fromkeys(formats)),
        cameras=tuple(dict.fromkeys(cameras)), source="offline", notes=tuple(notes), unknown_persons=unknown_persons,
    )
