"""The offline assistant (B2), person names as face filters (B6), and the /ai endpoints, against
the real REST app, engine, PostgreSQL and the tiny face and image-text models."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.assistant.dates import find_dates
from engine.assistant.parser import Named, Vocabulary, parse
from engine.geo.places import Place
from engine.search.names import find_names
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.test_faces_api import index as index_faces
from tests.fixtures import build_exif

TODAY = date(2025, 10, 5)
VOCAB = Vocabulary(
    persons=[Named(1, "Саша"), Named(2, "Tanya"), Named(3, "Anna Smith")],
    albums=[Named(7, "Trip to Paris"), Named(8, "Море")],
    places=[Place("Cambodia", "KH", "Phnom Penh", "Phnom Penh"), Place("France", "FR", "Île-de-France", "Vanves", "Paris")],
    cameras=["Apple iPhone 15", "NIKON D750"],
)


@pytest.mark.parametrize("text,start,end", [
    ("sunset last summer", date(2025, 6, 1), date(2025, 8, 31)),
    ("закат прошлым летом", date(2025, 6, 1), date(2025, 8, 31)),
    ("в июле 2023", date(2023, 7, 1), date(2023, 7, 31)),
    ("beach in 2021", date(2021, 1, 1), date(2021, 12, 31)),
    ("с 2019 по 2021", date(2019, 1, 1), date(2021, 12, 31)),
    ("в прошлом году", date(2024, 1, 1), date(2024, 12, 31)),
    ("летом 2023 года", date(2023, 6, 1), date(2023, 8, 31)),
    ("в декабре", date(2024, 12, 1), date(2024, 12, 31)),
    ("March 2020", date(2020, 3, 1), date(2020, 3, 31)),
])
def test_dates_in_english_and_russian(text: str, start: date, end: date) -> None:
    (hit,) = find_dates(text, TODAY)
    assert (hit.start, hit.end) == (start, end)


def test_no_date_in_plain_words() -> None:
    assert find_dates("May I see the red car", TODAY) == []


def test_russian_names_decline() -> None:
    items = [(1, "Таня"), (2, "Саша"), (3, "Boris"), (4, "Аня")]
    found = find_names("фото с Таней и Сашей в горах", items)
    assert [m.item for m in found] == [1, 2]
    assert [m.item for m in find_names("Аню и Бориса", items)] == [4]
    assert [m.item for m in find_names("Boris's car", items)] == [3]
    assert find_names("танец на площади", items) == []


def test_offline_parser_turns_words_into_filters() -> None:
    p = parse("найди Сашу в Камбодже прошлым летом", VOCAB, TODAY)
    assert [x.id for x in p.persons] == [1] and p.places == ("Cambodia",) and p.query == ""
    assert (p.date_from, p.date_to) == (date(2025, 6, 1), date(2025, 8, 31)) and p.source == "offline"
    p = parse("Tanya at the beach in Paris heic", VOCAB, TODAY)
    assert [x.name for x in p.persons] == ["Tanya"] and p.places == ("Paris",) and p.formats == ("HEIC",)
    assert p.query == "at the beach"
    p = parse("photos from Trip to Paris shot on iPhone", VOCAB, TODAY)
    assert [a.id for a in p.albums] == [7] and p.cameras == ("iPhone",) and p.places == ()
    assert parse("альбом Море закат", VOCAB, TODAY).albums == (Named(8, "Море"),)
    assert parse("море закат", VOCAB, TODAY).albums == ()  # a one-word album name needs the word "album"
    p = parse("sunset in Germany", VOCAB, TODAY)  # no photo was taken there: not a filter
    assert p.places == () and "Germany" in p.query
    f = parse("Anna Smith and Саша in France", VOCAB, TODAY).filters()
    assert f.person_ids == (1, 3) and f.places == ("France",)


@pytest.fixture
def client(face_engine: PhotoIndex, library: Path) -> Iterator[TestClient]:
    save_faces(library / "anna0.png", [("anna", 160, 160)])
    save_faces(library / "anna1.png", [("anna", 320, 240)])
    save_faces(library / "boris.png", [("boris", 320, 240)])
    save_faces(library / "both.png", [("anna", 160, 160), ("boris", 480, 320)])
    # a JPEG of Anna with GPS in Phnom Penh, taken in July 2025
    from datetime import datetime

    from PIL import Image

    trip = save_faces(library / "trip.png", [("anna", 320, 240)])
    Image.open(trip).convert("RGB").save(library / "trip.jpg", "JPEG", quality=98, exif=build_exif(
        gps=(11.5625, 104.916), taken_at=datetime(2025, 7, 3, 10)).tobytes())
    trip.unlink()
    with TestClient(create_app(engine=face_engine)) as c:
        yield c


def _assign(client: TestClient, name: str, paths: list[str]) -> int:
    person = client.post("/persons", json={"name": name}).json()["id"]
    photos = {p["path"]: p["id"] for p in client.post("/search/text", json={
        "query": "x", "top_k": 50, "resolve_persons": False}).json()["results"]}
    for path in paths:
        faces = client.get(f"/photo/{photos[path]}/faces").json()["faces"]
        client.post(f"/persons/{person}/auto-assign", json={"threshold": 2.0})  # no-op, proves the route exists
        for face in faces:
            if face["person_id"] is None:
                client.post(f"/faces/{face['id']}/assign", json={"person_id": person})
                break
    return person


def test_person_names_in_queries_and_the_assistant(client: TestClient) -> None:
    index_faces(client)
    anna = _assign(client, "Аня", ["anna0.png", "anna1.png", "trip.jpg"])
    boris = _assign(client, "Boris", ["boris.png"])
    # both.png: Anna's face first (left), Boris's second
    both = next(p for p in client.post("/search/text", json={"query": "x", "top_k": 50, "resolve_persons": False})
                .json()["results"] if p["path"] == "both.png")
    faces = client.get(f"/photo/{both['id']}/faces").json()["faces"]
    client.post(f"/faces/{faces[0]['id']}/assign", json={"person_id": anna})
    client.post(f"/faces/{faces[1]['id']}/assign", json={"person_id": boris})

    # B6: a name inside a text query is a face filter
    body = client.post("/search/text", json={"query": "фото с Аней", "top_k": 50}).json()
    assert {r["path"] for r in body["results"]} == {"anna0.png", "anna1.png", "trip.jpg", "both.png"}
    assert body["persons"] == [{"id": anna, "name": "Аня", "matched": "Аней"}]
    assert body["filters"]["person_ids"] == [anna] and body["translated_query"] is not None
    body = client.post("/search/text", json={"query": "Boris and Аня outdoors", "top_k": 50}).json()
    assert [r["path"] for r in body["results"]] == ["both.png"]
    off = client.post("/search/text", json={"query": "Boris", "top_k": 50, "resolve_persons": False}).json()
    assert len(off["results"]) == 5 and off["persons"] == []

    # B2: the offline assistant, with no Gemini key
    answer = client.post("/ai/search-assistant", json={"query": "Аня в Камбодже прошлым летом",
                                                       "today": "2025-10-05"}).json()
    parsed = answer["parsed"]
    assert parsed["source"] == "offline" and any("GEMINI_API_KEY" in n for n in parsed["notes"])
    assert parsed["persons"] == [{"id": anna, "name": "Аня"}] and parsed["places"] == ["Cambodia"]
    assert (parsed["date_from"], parsed["date_to"]) == ("2025-06-01", "2025-08-31")
    assert [r["path"] for r in answer["search"]["results"]] == ["trip.jpg"]
    answer = client.post("/ai/search-assistant", json={"query": "Boris smiling", "multi_model": True}).json()
    assert answer["parsed"]["query"] == "smiling" and answer["search"]["model"] == "rrf"
    assert {r["path"] for r in answer["search"]["results"]} == {"boris.png", "both.png"}
    since = client.post("/ai/search-assistant", json={"query": "Аня", "date_from": "2025-01-01"}).json()
    assert [r["path"] for r in since["search"]["results"]] == ["trip.jpg"]

    mapped = client.post("/ai/assistant", json={"query": "Аня в Камбодже"}).json()
    assert mapped["total"] == 1 and mapped["points"][0]["latitude"] == pytest.approx(11.5625, abs=1e-3)
    assert mapped["filters"] == {"places": ["Cambodia"], "person_ids": [anna]}
    assert client.post("/ai/assistant", json={"query": "Boris"}).json()["total"] == 0  # no GPS on his photos

    prompt = client.post("/ai/clip-prompt", json={"query": "Boris on a red bicycle last summer"}).json()
    assert prompt["source"] == "offline" and prompt["prompt"] == "a photo of a red bicycle"
