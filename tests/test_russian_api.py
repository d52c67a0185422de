"""Russian as a first language end to end: the REST API, the assistant, the dashboard and the bot
(python-telegram-bot against the fake Bot API) on the real engine, PostgreSQL, pymorphy3 and the
tiny English-only image-text model (so Russian queries get the language note)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bot.config import BotSettings
from dashboard.server import create_app
from dashboard.views.common import Context
from dashboard.views.persons import PersonsView
from dashboard.views.search import SearchView
from engine.app import PhotoIndex
from engine.search.translate import Translator
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fakes.servers import serve
from tests.fakes.telegram import FakeBotApi
from tests.fakes.translate import FakeTranslate
from tests.fixtures import build_exif
from tests.test_assistant import _assign
from tests.test_bot import ALLOWED, TOKEN, _converse, answers, kinds, paths
from tests.test_faces_api import index as index_faces


def _notes(body: dict) -> str:
    return "\n".join(body["notes"])


@pytest.fixture
def client(face_engine: PhotoIndex, library: Path) -> Iterator[TestClient]:
    save_faces(library / "tanya0.png", [("anna", 160, 160)])
    save_faces(library / "tanya1.png", [("anna", 320, 240)])
    save_faces(library / "sasha.png", [("boris", 320, 240)])
    trip = save_faces(library / "trip.png", [("boris", 320, 240)])  # Sasha in Phnom Penh, July 2023
    Image.open(trip).convert("RGB").save(library / "trip.jpg", "JPEG", quality=98, exif=build_exif(
        gps=(11.5625, 104.916), taken_at=datetime(2023, 7, 3, 10)).tobytes())
    trip.unlink()
    with TestClient(create_app(engine=face_engine)) as c:
        yield c


def test_names_places_and_languages_through_rest_the_assistant_and_the_bot(
        client: TestClient, face_engine: PhotoIndex, library: Path) -> None:
    index_faces(client)
    tanya = _assign(client, "Таня", ["tanya0.png", "tanya1.png"])
    sasha = _assign(client, "Александр", ["sasha.png", "trip.jpg"])
    assert client.put(f"/persons/{sasha}", json={"aliases": [" Саша ", "саша", "Sasha", "Александр"]}).json()[
        "aliases"] == ["Саша", "Sasha"]  # stripped, once each, not the name itself

    # the persons list resolves a name in any case form, or an alias
    def named(name: str) -> list[int]:
        return [p["id"] for p in client.get("/persons", params={"name": name}).json()["items"]]

    assert named("Тане") == named("Таней") == named("таню") == [tanya]
    assert named("Сашей") == named("Александра") == [sasha] and named("Маша") == []
    assert [p["id"] for p in client.get("/persons", params={"search": "Sas"}).json()["items"]] == [sasha]

    # search: declined names and aliases are face filters; a name nobody has is said
    body = client.post("/search/text", json={"query": "фото с Таней", "top_k": 50}).json()
    assert {r["path"] for r in body["results"]} == {"tanya0.png", "tanya1.png"}
    assert body["persons"] == [{"id": tanya, "name": "Таня", "matched": "Таней"}]
    body = client.post("/search/text", json={"query": "Сашу", "top_k": 50}).json()
    assert {r["path"] for r in body["results"]} == {"sasha.png", "trip.jpg"} and body["persons"][0]["id"] == sasha
    body = client.post("/search/text", json={"query": "фото Ани", "top_k": 50}).json()
    assert body["persons"] == [] and "no person named “Аня” is known" in _notes(body)
    assert body["translated_query"] == "a photo" and len(body["results"]) == 4

    # the language note: Cyrillic left for an English-only model, with no translation key
    body = client.post("/search/text", json={"query": "в горах", "top_k": 5}).json()
    assert "Cyrillic" in _notes(body) and "SigLIP2" in _notes(body) and "TRANSLATE_API_KEY" in _notes(body)
    assert "Cyrillic" not in _notes(client.post("/search/text", json={"query": "mountains", "top_k": 5}).json())

    # places in either language, in any case form, and shown in both
    body = client.post("/search/text", json={"query": "x", "places": ["Камбоджа"], "top_k": 50}).json()
    assert [r["path"] for r in body["results"]] == ["trip.jpg"]
    assert [r["path"] for r in client.post("/search/text", json={
        "query": "x", "places": ["Пномпене"], "top_k": 50}).json()["results"]] == ["trip.jpg"]
    trip_id = body["results"][0]["id"]
    assert client.get(f"/photo/{trip_id}").json()["place_names"] == {
        "en": "Phnom Penh, Cambodia", "ru": "Пномпень, Камбоджа"}

    # the assistant, offline: the README's example, the issue's, and an unknown name
    answer = client.post("/ai/search-assistant", json={"query": "найди Сашу в Камбодже"}).json()
    assert answer["parsed"]["persons"] == [{"id": sasha, "name": "Александр"}]
    assert answer["parsed"]["places"] == ["Cambodia"] and [r["path"] for r in answer["search"]["results"]] == ["trip.jpg"]
    answer = client.post("/ai/search-assistant", json={"query": "Таня в горах"}).json()
    assert answer["parsed"]["query"] == "в горах"
    assert {r["path"] for r in answer["search"]["results"]} == {"tanya0.png", "tanya1.png"}
    assert "SigLIP2" in _notes(answer["search"])
    answer = client.post("/ai/search-assistant", json={"query": "фото Саши летом 2023"}).json()
    assert [r["path"] for r in answer["search"]["results"]] == ["trip.jpg"]
    answer = client.post("/ai/search-assistant", json={"query": "фото Ани летом 2023"}).json()
    assert answer["parsed"]["unknown_persons"] == ["Аня"] and answer["parsed"]["persons"] == []
    assert "“Аня”" in _notes(answer["search"]) and [r["path"] for r in answer["search"]["results"]] == ["trip.jpg"]

    # /ai/clip-prompt: says why the prompt stayed Russian, and what to do
    prompt = client.post("/ai/clip-prompt", json={"query": "Таня в горах"}).json()
    assert prompt["prompt"] == "в горах" and "TRANSLATE_API_KEY" in "\n".join(prompt["notes"])
    assert any("SigLIP2" in n for n in prompt["notes"])

    # merging a person keeps their name as an alias
    shura = client.post("/persons", json={"name": "Шура", "aliases": ["Шурик"]}).json()["id"]
    merged = client.post(f"/persons/{shura}/merge/{sasha}").json()
    assert merged["aliases"] == ["Саша", "Sasha", "Шура", "Шурик"] and named("Шурика") == [sasha]

    # the bot: /person resolves through the REST route; notes come with the photos
    fake = FakeBotApi(TOKEN)
    fake.user_says(ALLOWED, "/person Тане")
    fake.user_says(ALLOWED, "/person Сашей")
    fake.user_says(ALLOWED, "/person Маше")
    fake.user_says(ALLOWED, "фото Ани на море")
    with serve(fake.app) as telegram_url, serve(create_app(engine=face_engine)) as api_url:
        settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_base_url=telegram_url,
                               telegram_allowed_users=str(ALLOWED), photoindex_api_url=api_url, bot_top_k=6)
        asyncio.run(_converse(settings, fake, expected=2 + 2 + 1 + 4))
    grouped = answers(fake.replies(ALLOWED))
    assert kinds(grouped) == ["sendPhotox2", "sendPhotox2", "sendMessage", "sendPhotox4"], grouped
    to_tanya, to_sasha, (nobody,), text = grouped
    assert to_tanya[0][1]["caption"].startswith("👤 Таня") and set(paths(to_tanya)) == {"tanya0.png", "tanya1.png"}
    assert to_sasha[0][1]["caption"].startswith("👤 Александр") and "Маше" in nobody[1]["text"]
    first = text[0][1]["caption"]
    assert "ℹ️ no person named “Аня” is known" in first and "SigLIP2" in first


def test_translation_is_on_by_default_with_a_key(engine: PhotoIndex) -> None:
    view = SearchView(Context(engine))
    assert view.translate is False  # no key: off, and the search message says why Russian ranks poorly
    view.query = "кошка на диване"
    view.search()
    message = view.message.replace("\\", "")  # Markdown-escaped
    assert "Cyrillic" in message and "SigLIP2" in message and "TRANSLATE_API_KEY" in message
    fake = FakeTranslate({"кошка на диване": "a cat on the sofa"})
    telegram = FakeBotApi(TOKEN)
    telegram.user_says(ALLOWED, "кошка на диване")
    with serve(fake.app()) as url:
        engine.search.translator = Translator("test-key", base_url=url, timeout_s=5)
        with TestClient(create_app(engine=engine)) as client:
            body = client.post("/search/text", json={"query": "кошка на диване", "top_k": 3}).json()
            assert body["translated_query"] == "a cat on the sofa" and "Cyrillic" not in _notes(body)
            off = client.post("/search/text", json={"query": "кошка на диване", "translate": False, "top_k": 3}).json()
            assert off["translated_query"] is None and "Cyrillic" in _notes(off)
            prompt = client.post("/ai/clip-prompt", json={"query": "кошка на диване"}).json()
            assert prompt["prompt"] == "a photo of a cat on the sofa" and not any("Cyrillic" in n for n in prompt["notes"])
        view = SearchView(Context(engine))
        assert view.translate is True
        view.query = "кошка на диване"
        view.search()
        assert "translated: “a cat on the sofa”" in view.message and "Cyrillic" not in view.message
        assert len(fake.requests) == 3
        # the bot leaves `translate` to the server (BOT_TRANSLATE empty): the server has a key, so it translates
        with serve(telegram.app) as telegram_url, serve(create_app(engine=engine)) as api_url:
            settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_base_url=telegram_url,
                                   telegram_allowed_users=str(ALLOWED), photoindex_api_url=api_url)
            asyncio.run(_converse(settings, telegram, expected=1))
        first = telegram.replies(ALLOWED)[0][1]
        assert len(fake.requests) == 4 and "Cyrillic" not in (first.get("text") or first["caption"])
        engine.search.translator.close()


def test_persons_view_edits_aliases(face_engine: PhotoIndex) -> None:
    person = face_engine.faces.persons.create("Александра")
    view = PersonsView(Context(face_engine))
    view.refresh()
    view.open_person(person.id)
    assert view.aliases_text == ""
    view.save_aliases("Саша, Sasha , , саша")
    assert view.aliases_text == "Саша, Sasha" and face_engine.faces.persons.get(person.id).aliases == ["Саша", "Sasha"]
    assert [p.id for p in face_engine.faces.persons.find("Сашей")] == [person.id]
    assert [p.id for p in face_engine.faces.persons.list("sash")[0]] == [person.id]
    view.save_aliases(", ".join(f"name{i}" for i in range(25)))
    assert "at most 20" in view.message and face_engine.faces.persons.get(person.id).aliases == ["Саша", "Sasha"]
    view.save_aliases("")
    assert face_engine.faces.persons.get(person.id).aliases == [] and view.message == "No other names"
