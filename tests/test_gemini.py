"""The assistant through the real google-genai SDK against a fake Gemini server on 127.0.0.1."""
from __future__ import annotations

from datetime import date

from engine.app import PhotoIndex
from tests.fakes.gemini import FakeGemini
from tests.fakes.servers import serve


def test_gemini_turns_a_request_into_filters_and_failures_fall_back(engine: PhotoIndex) -> None:
    anna = engine.faces.persons.create("Аня")
    fake = FakeGemini(replies=[
        {"query": "a beach at sunset", "persons": ["Аня"], "albums": ["Nope"], "places": [],
         "date_from": "2023-06-01", "date_to": "2023-08-31", "formats": ["HEIC"], "cameras": []},
        "a beach at sunset, warm light",
        503,
    ])
    with serve(fake.app()) as url:
        engine.settings.gemini_api_key = "test-key"
        engine.settings.gemini_base_url = url
        engine.settings.gemini_timeout_s = 10

        parsed = engine.assistant.understand("Аню на пляже прошлым летом", today=date(2024, 3, 1))
        prompt = engine.assistant.clip_prompt("Аня на пляже на закате")
        fallback = engine.assistant.understand("Аню на пляже прошлым летом", today=date(2024, 3, 1))

    assert parsed.source == "gemini" and parsed.query == "a beach at sunset"
    assert [p.id for p in parsed.persons] == [anna.id]
    assert (parsed.date_from, parsed.date_to) == (date(2023, 6, 1), date(2023, 8, 31))
    assert any("Nope" in n for n in parsed.notes)
    assert prompt.prompt == "a beach at sunset, warm light"

    assert fallback.source == "offline" and any("Gemini failed" in n for n in fallback.notes)
    assert [p.id for p in fallback.persons] == [anna.id]  # the offline parser knows the Russian case ending
    assert (fallback.date_from, fallback.date_to) == (date(2023, 6, 1), date(2023, 8, 31))

    assert len(fake.requests) == 3 and all(r["key"] == "test-key" for r in fake.requests)
    first = fake.requests[0]
    assert first["call"] == f"{engine.settings.gemini_model}:generateContent"
    assert "Аня" in first["body"]["contents"][0]["parts"][0]["text"]  # the known persons are in the prompt
