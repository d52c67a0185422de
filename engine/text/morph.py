"""Russian morphology with pymorphy3 and its OpenCorpora dictionary (offline, ~15 MB, loaded once).

A Russian word is matched by its lemmas, every dictionary form it can be a case of ("Тане" is
Таня, тана or тан), so "с Таней", "Камбодже", "из Парижа" meet "Таня", "Камбоджа", "Париж".
Words in other scripts are their own lemma (lowercased, without an English possessive "'s").
"""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_lock = threading.Lock()
_analyzer = None

NAME_LIKELIHOOD = 0.5
"""A word is taken for a first name when pymorphy gives its name readings at least this much
weight; a capitalised word inside a query needs only CAPITALISED_NAME_LIKELIHOOD ("Маши" is
also махать's imperative, "Вера" also faith)."""
CAPITALISED_NAME_LIKELIHOOD = 0.2


def _morph():
    global _analyzer
    with _lock:
        if _analyzer is None:
            import pymorphy3

            _analyzer = pymorphy3.MorphAnalyzer(lang="ru")
        return _analyzer


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The form words are compared in: lowercase, ё as е, no English possessive, and Latin letters
    without accents ("Zürich" = "zurich"; Cyrillic keeps й)."""
    word = word.lower().replace("ё", "е")
    if word.endswith("'s"):
        word = word[:-2]
    if word.isascii() or is_cyrillic(word):
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


@lru_cache(maxsize=65536)
def lemmas(word: str) -> frozenset[str]:
    """The folded word and, for a Russian word, every lemma pymorphy3 reads it as."""
    folded = fold(word)
    if not is_cyrillic(folded):
        return frozenset((folded,))
    return frozenset({folded, *(fold(p.normal_form) for p in _morph().parse(folded))})


def same_word(word: str, other: str) -> bool:
    """Could these be forms of one word ("Таню" / "Таня", "Камбодже" / "Камбоджа")? (Each word's
    lemmas hold the word itself, so equal words always are.)"""
    return not lemmas(word).isdisjoint(lemmas(other))


@lru_cache(maxsize=16384)
def _name_reading(folded: str) -> tuple[float, str | None]:
    """How likely a known word is a first name, and that name's nominative."""
    weight, best, best_score = 0.0, None, -1.0
    for p in _morph().parse(folded):
        if "Name" not in p.tag or not p.is_known:
            continue
        weight += p.score
        score = p.score - (0.001 if "Fixd" in p.tag else 0.0)  # a declinable reading first: "Ани" is Аня
        if score > best_score:
            best, best_score = p.normal_form, score
    return weight, best


def first_name(word: str, *, capitalised_inside: bool = False) -> str | None:
    """The nominative of a Russian first name this word likely is ("Ани" -> "Аня"), else None.

    `capitalised_inside`: the word is capitalised and not the query's first word, which makes a
    name more likely than pymorphy's corpus counts say.
    """
    if not is_cyrillic(word) or len(word) < 2:
        return None
    weight, name = _name_reading(fold(word))
    need = CAPITALISED_NAME_LIKELIHOOD if capitalised_inside else NAME_LIKELIHOOD
    return name.capitalize() if name and weight >= need else None
