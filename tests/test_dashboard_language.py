"""The dashboard's interface language per browser session, and engine sentences shown translated."""
from __future__ import annotations

import json
import pickle

import pytest

from dashboard.language import session_language
from engine.i18n import N_, Message, translator
from engine.search.names import unknown_person_note
from engine.search.serving import ServingModel


@pytest.mark.parametrize(("setting", "headers", "cookies", "args", "expected"), [
    ("auto", {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}, {}, {}, "ru"),
    ("auto", {"accept-language": "en-US,en;q=0.9"}, {}, {}, "en"),
    ("auto", {}, {}, {}, "en"),
    ("ru", {"Accept-Language": "en-US"}, {}, {}, "ru"),           # INTERFACE_LANGUAGE names one: it wins over the browser
    ("en", {"Accept-Language": "ru"}, {}, {}, "en"),
    ("en", {"Accept-Language": "ru"}, {"photoindex_lang": "ru"}, {}, "ru"),  # the switch's cookie wins over both
    ("auto", {"Accept-Language": "ru"}, {"photoindex_lang": "en"}, {}, "en"),
    ("auto", {"Accept-Language": "en"}, {"photoindex_lang": "en"}, {"lang": [b"ru"]}, "ru"),  # ?lang= first
    ("auto", {"Accept-Language": "ru"}, {"photoindex_lang": "xx"}, {"lang": [b"de"]}, "ru"),  # unknown: ignored
])
def test_the_session_language_follows_switch_setting_then_browser(setting, headers, cookies, args, expected) -> None:
    assert session_language(setting, headers, cookies, args) == expected


def test_an_engine_sentence_is_english_for_api_clients_and_translated_where_shown() -> None:
    note = unknown_person_note("Аня")
    assert isinstance(note, Message) and note.startswith("no person named “Аня” is known")
    assert json.dumps({"notes": [note]}) == json.dumps({"notes": [str(note)]})  # REST sends the English as before
    assert pickle.loads(pickle.dumps(note)).params == {"name": "Аня"}
    russian = translator("ru")(note)
    assert russian.startswith("человек по имени «Аня» неизвестен") and "Аня" in russian
    assert translator("en")(note) == note


def test_nested_sentences_and_plain_marked_words_are_translated_too() -> None:
    serving = ServingModel("SigLIP", "SigLIP2", 10, 3)
    assert translator("ru")(serving.note).startswith("поиск идёт моделью SigLIP, пока библиотека")
    outer = N_("{reason}; showing the filters' matches, newest first", reason=N_("MAP_TILES_URL is empty"))
    assert translator("ru")(outer) == "MAP_TILES_URL не задан; показаны подходящие под фильтры, сначала новые"
    assert translator("ru")(N_("scanning")) == "сканирование"
    assert translator("ru")("") == ""  # the catalogue's header is never a message
