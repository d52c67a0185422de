"""Find known names (persons, albums, places) inside free text, in English and Russian (B6).

Russian names decline ("Таня", "Тани", "Таню", "Таней", "с Таней"), so a word matches a name
when it is the name, or the name's stem (the name less a final vowel or soft sign) plus a short
case ending. English possessives ("Tanya's") match too. Multi-word names match as a phrase.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_WORD = re.compile(r"[\w\-]+(?:'s)?", re.UNICODE)
_CYR = re.compile(r"[а-яё]", re.IGNORECASE)
_RU_ENDINGS = ("", "а", "я", "у", "ю", "ы", "и", "е", "ой", "ей", "ою", "ею", "ом", "ем", "ём", "ым", "им", "ы", "ь",
               "ах", "ях", "ами", "ями", "ам", "ям", "ов", "ев", "ии", "ию", "ией", "ие")
_RU_FINAL = "аяйьоеыиу"


def norm(word: str) -> str:
    word = word.lower().replace("ё", "е")
    return word[:-2] if word.endswith("'s") else word


def _stem(word: str) -> str:
    w = norm(word)
    if _CYR.search(w) and len(w) >= 3:
        while w[-1] in _RU_FINAL and len(w) > 2:
            w = w[:-1]
    return w


def word_matches(word: str, name_word: str) -> bool:
    w, n = norm(word), norm(name_word)
    if w == n:
        return True
    if not _CYR.search(n) or len(n) < 3:
        return False
    stem = _stem(n)
    return w.startswith(stem) and w[len(stem):] in _RU_ENDINGS


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


def find_names(text: str, items: Iterable[tuple[T, str]], *, taken: Sequence[tuple[int, int]] = ()) -> list[Match[T]]:
    """Occurrences of the items' names in `text`; longer names first, no overlaps (nor with `taken`)."""
    toks = tokens(text)
    spans = list(taken)
    found: list[Match[T]] = []
    candidates = sorted(((item, name, tokens(name)) for item, name in items if name and name.strip()),
                        key=lambda x: -len(x[1]))
    for item, name, parts in candidates:
        if not parts:
            continue
        n = len(parts)
        for i in range(len(toks) - n + 1):
            window = toks[i:i + n]
            if all(word_matches(t.text, p.text) for t, p in zip(window, parts)):
                span = (window[0].start, window[-1].end)
                if any(span[0] < b and a < span[1] for a, b in spans):
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
