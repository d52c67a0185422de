"""The translation layer: every string marked for translation has a Russian translation.

A visible string that is not marked at all is caught where it is shown (the dashboard, bot and CLI
tests render Russian and look for English words left in it).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from engine.i18n import load_catalog, negotiate, normalize, translator

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("engine", "dashboard", "bot", "photoindex")


def marked_strings() -> dict[str, str]:
    """msgid -> where it is used, for every `_()`, `gettext`, `ngettext` and `N_` in the product's code."""
    found: dict[str, str] = {}
    for package in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(ROOT / package):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{package}/{filename}:{lineno}")
    return found


def test_every_marked_string_has_a_russian_translation() -> None:
    catalog = load_catalog("ru")
    assert catalog is not None
    missing = []
    for msgid, where in sorted(marked_strings().items(), key=lambda kv: kv[1]):
        message = catalog.get(msgid)
        strings = (message.string if isinstance(message.string, (tuple, list)) else (message.string,)) if message else ()
        if message is None or message.fuzzy or not all(strings):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, "no Russian translation (add it to engine/i18n/locales/ru/LC_MESSAGES/photoindex.po):\n" + "\n".join(missing)


def test_russian_translations_keep_their_placeholders() -> None:
    catalog = load_catalog("ru")
    assert catalog is not None
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        expected = set().union(*(fields(i) for i in ids))
        for translated in strings:
            if translated and fields(translated) - expected:
                wrong.append(f"{message.id!r} -> {translated!r}")
    assert not wrong, "a translation names a placeholder the English has not:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("n", "expected"), [(1, "1 фотография"), (2, "2 фотографии"), (5, "5 фотографий"),
                                             (11, "11 фотографий"), (21, "21 фотография"), (24, "24 фотографии")])
def test_russian_plurals_take_the_right_form(n: int, expected: str) -> None:
    assert translator("ru").ngettext("{n} photo", "{n} photos", n) == expected


def test_english_and_unknown_languages_read_the_code_as_written() -> None:
    assert translator("en")("Search") == "Search"
    assert translator("de")("Search") == "Search"
    assert translator("ru")("A string nobody translated") == "A string nobody translated"
    assert translator("en").ngettext("{n} photo", "{n} photos", 2) == "2 photos"


@pytest.mark.parametrize(("header", "expected"), [
    ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"), ("en-US,en;q=0.9,ru;q=0.8", "en"), ("de-DE,de;q=0.9,ru;q=0.5", "ru"),
    ("fr", "en"), ("", "en"), (None, "en"), ("ru;q=0,en", "en"), ("ru;q=abc", "en")])
def test_the_language_is_negotiated_from_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_language_tags_are_normalized() -> None:
    assert normalize("ru_RU.UTF-8") == normalize("RU") == normalize("ru-RU") == "ru"
    assert normalize("russian") is None and normalize("uk") is None and normalize(None) is None
