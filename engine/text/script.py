"""Which writing systems a text uses, from the Unicode names of its letters."""
from __future__ import annotations

import unicodedata
from collections import Counter

_GROUPS = {"CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean"}


def script_of(char: str) -> str | None:
    """"Latin", "Cyrillic", "Greek", "Arabic", "Chinese", ... for a letter; None for anything else."""
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return _GROUPS.get(first, first.capitalize()) if first else None


def main_non_latin_script(text: str) -> str | None:
    """The script most of the text's non-Latin letters are in ("Cyrillic" for "закат на море"), or
    None when every letter is Latin (English, French, a digit-only query)."""
    counts = Counter(s for s in map(script_of, text) if s and s != "Latin")
    return counts.most_common(1)[0][0] if counts else None
