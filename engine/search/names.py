"""Find known names (persons, albums, places, cameras) inside free text, in English and Russian (B6).

Russian names decline ("Таня", "Тани", "Таню", "Таней", "с Таней"), so a word matches a word of a
name when both can be forms of one lemma (pymorphy3, `engine.text.morph`). English possessives
("Tanya's") match too. Multi-word names match as a phrase, word by word.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from engine.i18n import N_
from engine.text import morph

T = TypeVar("T")

_WORD = re.compile(r"[\w\-]+(?:'s)?", re.UNICODE)


def _overlaps(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in spans)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class Match(Generic[T]):
    item: T
    name: str
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def same_name(text: str, name: str) -> bool:
    """Is the whole `text` this name, in any case form ("Сашей" / "Саша", "Южной Кореи" / "Южная Корея")?"""
    words, parts = tokens(text), tokens(name)
    return bool(parts) and len(words) == len(parts) and all(morph.same_word(w.text, p.text)
                                                            for w, p in zip(words, parts))


@lru_cache(maxsize=16384)
def _name_lemmas(name: str) -> tuple[frozenset[str], ...]:
    return tuple(morph.lemmas(t.text) for t in tokens(name))


def find_names(text: str, items: Iterable[tuple[T, str]], *, taken: Sequence[tuple[int, int]] = ()) -> list[Match[T]]:
    """Occurrences of the items' names in `text`; longer names first, no overlaps (nor with `taken`)."""
    toks = tokens(text)
    words = [morph.lemmas(t.text) for t in toks]
    anywhere = frozenset().union(*words)
    spans = list(taken)
    found: list[Match[T]] = []
    for item, name in sorted((x for x in items if x[1] and x[1].strip()), key=lambda x: -len(x[1])):
        parts = _name_lemmas(name)
        if not parts or parts[0].isdisjoint(anywhere):
            continue
        n = len(parts)
        for i in range(len(toks) - n + 1):
            if all(not w.isdisjoint(p) for w, p in zip(words[i:i + n], parts)):
                span = (toks[i].start, toks[i + n - 1].end)
                if _overlaps(span, spans):
                    continue
                spans.append(span)
                found.append(Match(item, name, *span))
    return sorted(found, key=lambda m: m.start)


_CONNECTORS = {"and", "with", "и", "с", "со", "&", ",", "of", "на", "in", "в", "во", "at", "from", "из", "photos",
               "photo", "фото", "фотографии", "снимки", "find", "show", "найди", "покажи", "me", "мне", "all", "все"}


def remove_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with the spans cut out and the whitespace tidied."""
    out, pos = [], 0
    for a, b in sorted(spans):
        out.append(text[pos:a])
        pos = max(pos, b)
    out.append(text[pos:])
    cleaned = re.sub(r"\s+", " ", " ".join(out)).strip(" ,;.")
    return cleaned


def strip_connectors(text: str) -> str:
    """Leading/trailing function words left after names were cut ("with and at the sea" -> "at the sea")."""
    words = text.split()
    while words and words[0].lower().strip(",") in _CONNECTORS - {"at", "in", "на", "в", "во"}:
        words.pop(0)
    while words and words[-1].lower().strip(",") in _CONNECTORS:
        words.pop()
    return " ".join(words)


_NAME_BEFORE = {"with", "and", "&"}


def unknown_names(text: str, *, taken: Sequence[tuple[int, int]] = (),
                  is_place: Callable[[str], bool] | None = None) -> list[Match[str]]:
    """Words outside `taken` that read as a person's first name, each with its nominative.

    Russian: pymorphy3's dictionary of first names ("Ани" -> "Аня"). English has no such
    dictionary here, so only a capitalised word after "with"/"and", or with a possessive
    ("Tanya's"), counts. Words `is_place` knows ("Paris and London") are not names.
    """
    found: list[Match[str]] = []
    toks = tokens(text)
    for i, tok in enumerate(toks):
        span = (tok.start, tok.end)
        if _overlaps(span, taken):
            continue
        capitalised = tok.text[:1].isupper()
        if morph.is_cyrillic(tok.text):
            name = morph.first_name(tok.text, capitalised_inside=capitalised and i > 0)
        else:
            word = tok.text[:-2] if tok.text.endswith("'s") else tok.text
            cue = tok.text.endswith("'s") or (i > 0 and toks[i - 1].text.lower() in _NAME_BEFORE)
            name = word if cue and capitalised and word.isalpha() and not word.isupper() else None
        if name and not (is_place and is_place(tok.text)):
            found.append(Match(name, name, *span))
    return found


def unknown_person_note(name: str) -> str:
    return N_("no person named “{name}” is known, so the name was left out of the search: name their face "
              "in Persons, or add “{name}” to a person's aliases", name=name)
