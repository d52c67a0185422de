"""Query translation through the real google-cloud-translate client against a fake server on 127.0.0.1."""
from __future__ import annotations

import socket

from engine.search.translate import Translator
from tests.fakes.servers import serve
from tests.fakes.translate import FakeTranslate


def test_translation_through_the_client_library() -> None:
    fake = FakeTranslate({"кошка на диване": "cat on the sofa"})
    with serve(fake.app()) as url:
        result = Translator("test-key", base_url=url, timeout_s=5).translate("кошка на диване")
    assert (result.text, result.translated, result.source_language) == ("cat on the sofa", True, "ru")
    assert fake.requests[0]["key"] == "test-key" and fake.requests[0]["body"]["target"] == "en"


def test_no_network_falls_back_to_the_original_query_and_says_so() -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    result = Translator("test-key", base_url=dead, timeout_s=2).translate("кошка на диване")
    assert (result.text, result.translated) == ("кошка на диване", False)
    assert result.note and "original" in result.note


def test_without_a_key_nothing_is_sent() -> None:
    result = Translator(None).translate("кошка")
    assert (result.text, result.translated) == ("кошка", False) and "TRANSLATE_API_KEY" in result.note
