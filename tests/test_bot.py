"""The Telegram bot end to end: python-telegram-bot against a fake Bot API server on 127.0.0.1,
talking over HTTP to the real REST app (engine, PostgreSQL, tiny image-text and face models)."""
from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bot.app import HELP, UNDERSTOOD, build_application
from bot.config import BotSettings
from dashboard.server import create_app
from engine.app import PhotoIndex
from engine.i18n import translator
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fakes.servers import serve
from tests.fakes.telegram import FakeBotApi
from tests.fixtures import make_jpeg, make_library
from tests.test_faces_api import index as index_faces


TOKEN = "123456:TEST-token"
ALLOWED, FRIEND, STRANGER = 7, 8, 999
GROUP, FAMILY = -100500, -200600


@asynccontextmanager
async def running(settings: BotSettings) -> AsyncIterator[None]:
    app = build_application(settings)
    async with app:
        if app.post_init:  # as run_polling does
            await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.01, timeout=0)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def until(fake: FakeBotApi, sent: int) -> None:
    """Until the bot has sent (or had refused) `sent` messages in all, or a generous deadline passed
    (then the test's own asserts say what is missing)."""
    deadline = time.monotonic() + 120
    while len(fake.sent) + len(fake.refused) < sent and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def _converse(settings: BotSettings, fake: FakeBotApi, expected: int) -> None:
    async with running(settings):
        await until(fake, expected)


def _settings(telegram_url: str, api_url: str, **extra) -> BotSettings:
    return BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_base_url=telegram_url,
                       photoindex_api_url=api_url, **{"telegram_allowed_users": f"{ALLOWED}, {FRIEND}", **extra})


def answers(replies: list[tuple[str, dict]]) -> list[list[tuple[str, dict]]]:
    """The replies grouped into answers: a page of photos (its first caption starts with the title, the
    others with the photo's #id), or one message."""
    grouped: list[list[tuple[str, dict]]] = []
    for method, params in replies:
        if method == "sendPhoto" and str(params.get("caption", "")).startswith("#") and grouped \
                and grouped[-1][0][0] == "sendPhoto":
            grouped[-1].append((method, params))
        else:
            grouped.append([(method, params)])
    return grouped


def kinds(grouped: list[list[tuple[str, dict]]]) -> list[str]:
    return [f"{a[0][0]}x{len(a)}" if a[0][0] == "sendPhoto" else a[0][0] for a in grouped]


def ids(page: list[tuple[str, dict]]) -> list[int]:
    return [int(re.search(r"^#(\d+)", p["caption"], re.M).group(1)) for _, p in page]


def paths(page: list[tuple[str, dict]]) -> list[str]:
    """The line after each caption's #id line."""
    return [re.search(r"^#\d+.*\n(.*)", p["caption"], re.M).group(1) for _, p in page]


def markup(params: dict) -> dict:
    value = params.get("reply_markup") or {}
    return json.loads(value) if isinstance(value, str) else value


def buttons(params: dict) -> list[tuple[str, str]]:
    """(label, callback data) of a message's inline buttons."""
    return [(b["text"], b.get("callback_data", "")) for row in markup(params).get("inline_keyboard", []) for b in row]


def test_bot_answers_allowed_users_through_the_rest_api(face_engine: PhotoIndex, library: Path) -> None:
    save_faces(library / "anna0.png", [("anna", 160, 160)])
    save_faces(library / "boris.png", [("boris", 320, 240)])
    save_faces(library / "both.png", [("anna", 160, 160), ("boris", 480, 320)])
    save_faces(library / "anna1.png", [("anna", 320, 240)])
    with TestClient(create_app(engine=face_engine)) as client:
        index_faces(client)
        photos = {p["path"]: p["id"] for p in client.post("/search/text", json={"query": "x", "top_k": 50}).json()["results"]}
        (face,) = client.get(f"/photo/{photos['anna0.png']}/faces").json()["faces"]
        anna = client.post(f"/faces/{face['id']}/assign", json={"name": "Anna"}).json()["person_id"]
        client.post(f"/persons/{anna}/auto-assign", json={"threshold": 0.9, "dry_run": False})

    fake = FakeBotApi(TOKEN)
    fake.flood_every = 4  # Telegram refuses every 4th send with 429 "retry after 1": nothing may be lost
    fake.user_says(STRANGER, "red")
    fake.user_says(ALLOWED, "a photo")
    fake.user_says(ALLOWED, "/person anna")
    fake.user_says(ALLOWED, "/person Nobody")
    fake.user_says(ALLOWED, f"/similar {photos['anna0.png']}")
    fake.user_says(ALLOWED, photo=(library / "boris.png").read_bytes())
    fake.user_says(ALLOWED, "/similar 999999")

    async def talk() -> None:
        async with running(settings):
            await until(fake, 1 + 4 + 3 + 1 + 3 + 4 + 1)
            first = fake.replies(ALLOWED)[0][1]
            for _label, data in buttons(first):
                fake.user_presses(ALLOWED, first["message_id"], data)  # similar, then original
            await until(fake, 17 + 3 + 1)

    with serve(fake.app) as telegram_url, serve(create_app(engine=face_engine)) as api_url:
        settings = _settings(telegram_url, api_url, telegram_allowed_users=f"{ALLOWED}, 12", bot_top_k=6)
        asyncio.run(talk())

    assert fake.flooded and not fake.refused
    (refusal,) = fake.replies(STRANGER)
    assert refusal[0] == "sendMessage" and "private" in refusal[1]["text"]
    grouped = answers(fake.replies(ALLOWED))
    assert kinds(grouped) == ["sendPhotox4", "sendPhotox3", "sendMessage", "sendPhotox3", "sendPhotox4",
                              "sendMessage", "sendPhotox3", "sendDocument"], grouped
    text, person, (nobody,), similar, by_photo, (missing,), pressed_similar, (original,) = grouped
    assert all("score" in p["caption"] for _, p in text)
    assert all(p["photo"][:2] == b"\xff\xd8" for _, p in text)  # JPEG thumbnails
    assert "Anna" in person[0][1]["caption"] and set(paths(person)) == {"anna0.png", "anna1.png", "both.png"}
    assert "Nobody" in nobody[1]["text"]
    assert len(similar) == 3 and "anna0.png" not in paths(similar)
    assert paths(by_photo)[0] == "boris.png"  # the sent picture is in the library: it comes first
    assert "404" in missing[1]["text"] and "999999" in missing[1]["text"]

    first_id, first_path = ids(text)[0], paths(text)[0]
    assert buttons(text[0][1]) == [("🔁 Similar", f"like:{first_id}"), ("📄 Original", f"orig:{first_id}")]
    assert f"like #{first_id}" in pressed_similar[0][1]["caption"] and first_path not in paths(pressed_similar)
    assert original[1]["document"] == (library / first_path).read_bytes()
    assert original[1]["document_filename"] == first_path
    actions = [p["action"] for m, p in fake.calls if m == "sendChatAction" and p["chat_id"] == str(ALLOWED)]
    assert {"typing", "upload_photo", "upload_document"} <= set(actions)
    assert all(len(data.encode()) <= 64 and re.fullmatch(r"(more|like|orig|album):[\w-]+", data)
               for _, p in fake.replies(ALLOWED) for _label, data in buttons(p))


def test_bot_pages_maps_albums_and_serves_chats_at_once(engine: PhotoIndex, library: Path) -> None:
    files = make_library(library)
    engine.index()
    with TestClient(create_app(engine=engine)) as client:
        ranked = [h["id"] for h in client.post("/search/text", json={"query": "a photo", "top_k": 50}).json()["results"]]
        by_path = {h["path"]: h["id"] for h in client.post("/search/text", json={"query": "x", "top_k": 50}).json()["results"]}
        summer = client.post("/albums", json={"name": "Summer 2023", "photo_ids": [by_path["2023/summer/beach.jpg"]]})
        client.post("/albums", json={"name": "Scans", "photo_ids": [by_path["scans/old/scan.bmp"]]})
    assert len(ranked) == 6 and summer.status_code == 201
    heic = files["heic"].read_bytes()
    fake = FakeBotApi(TOKEN)
    fake.files["heic"] = heic
    fake.hold_file_until["heic"] = FRIEND  # the HEIC is fetched only once the friend's chat has its answer
    fake.user_says(ALLOWED, document={"file_id": "heic", "file_unique_id": "heic", "file_name": "IMG_0001.heic",
                                      "mime_type": "application/octet-stream", "file_size": len(heic)})
    fake.user_says(FRIEND, "/help")
    fake.user_says(ALLOWED, "a photo")
    fake.user_says(ALLOWED, location={"latitude": 48.8600, "longitude": 2.2950})
    fake.user_says(ALLOWED, "/map Paris")
    fake.user_says(ALLOWED, "/map")
    fake.user_says(ALLOWED, "/album")
    fake.user_says(ALLOWED, "/album summer")

    def last_photo(page_number: int) -> dict:
        return [p for m, p in fake.replies(ALLOWED) if m == "sendPhoto"][page_number]

    async def talk() -> None:
        async with running(settings):
            await until(fake, 10)
            text_page = answers(fake.replies(ALLOWED))[1]
            (more,) = [d for _, d in buttons(text_page[-1][1]) if d.startswith("more:")]
            fake.user_presses(ALLOWED, text_page[-1][1]["message_id"], more)
            await until(fake, 12)
            second = answers(fake.replies(ALLOWED))[-1]
            (more,) = [d for _, d in buttons(second[-1][1]) if d.startswith("more:")]
            fake.user_presses(ALLOWED, second[-1][1]["message_id"], more)
            await until(fake, 14)
            heic_answer = answers(fake.replies(ALLOWED))[0]
            fake.user_presses(ALLOWED, heic_answer[0][1]["message_id"], f"orig:{ids(heic_answer)[0]}")
            albums = next(p for m, p in fake.replies(ALLOWED) if m == "sendMessage" and buttons(p)
                          and buttons(p)[0][1].startswith("album:"))
            fake.user_presses(ALLOWED, albums["message_id"], buttons(albums)[0][1])  # Scans
            fake.user_presses(ALLOWED, albums["message_id"], "more:stale")
            fake.user_presses(ALLOWED, albums["message_id"], "orig:999999")
            await until(fake, 17)

    with serve(fake.app) as telegram_url, serve(create_app(engine=engine)) as api_url:
        settings = _settings(telegram_url, api_url, bot_top_k=2)
        asyncio.run(talk())

    assert not fake.refused
    friend_at = next(i for i, (_, p) in enumerate(fake.sent) if p["chat_id"] == str(FRIEND))
    first_at = next(i for i, (_, p) in enumerate(fake.sent) if p["chat_id"] == str(ALLOWED))
    assert friend_at < first_at, "the friend waited for another chat's search"
    grouped = answers(fake.replies(ALLOWED))
    assert kinds(grouped) == ["sendPhotox2", "sendPhotox2", "sendPhotox1", "sendPhotox1", "sendMessage",
                              "sendMessage", "sendPhotox1", "sendPhotox2", "sendPhotox2", "sendDocument",
                              "sendPhotox1", "sendMessage"], kinds(grouped)
    by_heic, page1, near, in_paris, (ask,), (pick,), summer_page, page2, page3, (original,), scans, (gone,) = grouped

    assert paths(by_heic)[0] == "phone/2024/IMG_0001.heic"  # a HEIC sent as a file is searched by
    assert ids(page1) + ids(page2) + ids(page3) == ranked  # three pages, in the server's order, none twice
    assert "3–4" in page2[0][1]["caption"] and "5–6" in page3[0][1]["caption"]
    assert any(d.startswith("more:") for _, d in buttons(page2[-1][1]))
    assert not any(d.startswith("more:") for _, p in page3 for _, d in buttons(p))  # the last page
    edits = [markup(p) for m, p in fake.calls if m == "editMessageReplyMarkup"]
    assert len(edits) == 2 and all(len(e["inline_keyboard"]) == 1 for e in edits)  # a pressed "more" goes away

    assert paths(near) == paths(in_paris) == ["phone/2024/IMG_0001.heic"]
    assert " km" in near[0][1]["caption"] and "📍 Paris" in in_paris[0][1]["caption"]
    assert "location" in ask[1]["text"].lower() and markup(ask[1])["keyboard"][0][0]["request_location"] is True
    assert [label for label, _ in buttons(pick[1])] == ["Scans (1)", "Summer 2023 (1)"]
    assert "Summer 2023" in summer_page[0][1]["caption"] and paths(summer_page) == ["2023/summer/beach.jpg"]
    assert paths(scans) == ["scans/old/scan.bmp"]
    assert original[1]["document"] == heic and original[1]["document_filename"] == "IMG_0001.heic"
    assert "404" in gone[1]["text"]
    alerts = [p for m, p in fake.calls if m == "answerCallbackQuery" and p.get("show_alert") in (True, "true")]
    assert len(alerts) == 1 and "again" in alerts[0]["text"]


ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
PROPER_NAMES = {"Telegram", "HEIC", "RAW", "JPEG", "PNG", "ID"}


def _english_words(text: str, allowed: list[str]) -> set[str]:
    """English words left in `text` once user data (queries, paths, names), the server's own notes and
    /commands are taken out."""
    for part in sorted(allowed, key=len, reverse=True):
        text = text.replace(part, " ")
    text = re.sub(r"/[a-z]+", " ", text)
    return set(ENGLISH_WORD.findall(text)) - PROPER_NAMES


def test_bot_speaks_the_users_language(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    engine.index()
    query = "закат на море"
    with TestClient(create_app(engine=engine)) as client:
        notes = client.post("/search/text", json={"query": query, "top_k": 2}).json()["notes"]
        user_data = [query, *notes, *(h["path"] for h in client.post(
            "/search/text", json={"query": "x", "top_k": 50}).json()["results"])]
    fake = FakeBotApi(TOKEN)
    ru = {"language_code": "ru"}
    for text in ("/start", query, "/person Никто", "/album", "/map", "/similar abc", "/person", "x" * 1500):
        fake.user_says(ALLOWED, text, sender=ru)
    fake.user_says(ALLOWED, location={"latitude": 0.0, "longitude": -30.0}, sender=ru)
    fake.user_says(ALLOWED, sticker={"file_id": "s1", "file_unique_id": "s1", "width": 512, "height": 512,
                                     "is_animated": False, "is_video": False, "type": "regular"}, sender=ru)
    fake.user_says(ALLOWED, "/help", chat={"id": GROUP, "type": "group", "title": "школа"}, sender=ru)
    fake.user_says(STRANGER, "/help", sender=ru)
    fake.user_says(FRIEND, "/help", sender={"language_code": "de"})

    async def talk() -> None:
        async with running(settings):
            await until(fake, 14)
            photo = next(p for m, p in fake.replies(ALLOWED) if m == "sendPhoto")
            fake.user_presses(ALLOWED, photo["message_id"], buttons(photo)[0][1], sender=ru)
            await until(fake, 16)

    with serve(fake.app) as telegram_url, serve(create_app(engine=engine)) as api_url:
        settings = _settings(telegram_url, api_url, bot_top_k=2)
        asyncio.run(talk())

    assert not fake.refused
    russian = [*fake.replies(ALLOWED), *fake.replies(GROUP), *fake.replies(STRANGER)]
    assert len(russian) == 15, russian
    leftovers = {}
    for method, params in russian:
        shown = " ".join([str(params.get("text", "")), str(params.get("caption", "")),
                          *(label for label, _ in buttons(params)),
                          *(b["text"] for row in markup(params).get("keyboard", []) for b in row)])
        if found := _english_words(shown, user_data):
            leftovers[shown[:120]] = sorted(found)
    assert not leftovers, leftovers
    assert fake.replies(ALLOWED)[0][1]["text"] == translator("ru")(HELP)
    ((_, german),) = fake.replies(FRIEND)
    assert german["text"] == HELP  # a language the product does not speak: English
    menus = {p.get("language_code") for m, p in fake.calls if m == "setMyCommands"}
    assert menus == {None, "ru"}


def test_interface_language_overrides_the_users(tmp_path: Path) -> None:
    fake = FakeBotApi(TOKEN)
    fake.user_says(ALLOWED, "/help", sender={"language_code": "en"})
    fake.user_says(FRIEND, "/help", sender={"language_code": "ru"})
    with serve(fake.app) as telegram_url:
        for language in ("ru", "en"):
            asyncio.run(_converse(_settings(telegram_url, "http://127.0.0.1:9", interface_language=language), fake,
                                  expected=2 if language == "ru" else 4))
            fake.updates.clear()
            fake.user_says(ALLOWED, "/help", sender={"language_code": "en"})
            fake.user_says(FRIEND, "/help", sender={"language_code": "ru"})
    texts = [p["text"] for _, p in fake.sent]
    assert texts == [translator("ru")(HELP)] * 2 + [HELP] * 2


def test_bot_says_when_the_api_is_down(tmp_path: Path) -> None:
    fake = FakeBotApi(TOKEN)
    fake.user_says(ALLOWED, "sunset")
    with serve(fake.app) as telegram_url:
        asyncio.run(_converse(_settings(telegram_url, "http://127.0.0.1:9"), fake, expected=1))
    ((method, params),) = fake.replies(ALLOWED)
    assert method == "sendMessage" and "not reachable" in params["text"]


def test_bot_needs_a_token() -> None:
    with pytest.raises(SystemExit):
        build_application(BotSettings(_env_file=None, telegram_bot_token=""))


def test_bot_answers_in_private_chats_only_and_within_telegram_limits(engine: PhotoIndex, library: Path) -> None:
    make_library(library)
    deep = library.joinpath(*(["ü" * 120] * 6))  # a path longer than a caption
    make_jpeg(deep / ("🌅" * 60 + ".jpg"), (320, 240), (250, 120, 40))
    engine.index()
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (250, 120, 40)).save(picture, "PNG")
    fake = FakeBotApi(TOKEN)
    group, family = {"id": GROUP, "type": "group", "title": "school"}, {"id": FAMILY, "type": "group", "title": "us"}
    fake.user_says(ALLOWED, "sunset", chat=group)  # overheard in a group: silence
    fake.user_says(ALLOWED, "/person anna", chat=group)  # spoken to in a group: one line, no photos
    fake.user_says(STRANGER, "/help", chat=group)
    fake.user_says(ALLOWED, "sunset", chat=family)  # an allowed chat is answered
    fake.user_says(ALLOWED, sticker={"file_id": "s1", "file_unique_id": "s1", "width": 512, "height": 512,
                                     "is_animated": False, "is_video": False, "type": "regular"})
    fake.user_says(ALLOWED, voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3})
    fake.user_says(ALLOWED, document={"file_id": "d1", "file_unique_id": "d1", "mime_type": "application/pdf",
                                      "file_name": "a.pdf"})
    fake.files["img"] = picture.getvalue()
    fake.user_says(ALLOWED, document={"file_id": "img", "file_unique_id": "img", "mime_type": "image/png",
                                      "file_name": "uncompressed.png", "file_size": len(picture.getvalue())})
    fake.user_says(ALLOWED, "🌅" * 1000)  # a caption title of 2,000 UTF-16 units
    fake.user_says(ALLOWED, "x" * 1500)
    fake.user_says(ALLOWED, "/person " + "Я" * 3000)
    with serve(fake.app) as telegram_url, serve(create_app(engine=engine)) as api_url:
        settings = _settings(telegram_url, api_url, telegram_allowed_users=str(ALLOWED),
                             telegram_allowed_chats=str(FAMILY), bot_top_k=10)
        asyncio.run(_converse(settings, fake, expected=1 + 7 + 3 + 7 + 7 + 1 + 1))

    assert not fake.refused, [(m, p.get("text", "")[:80]) for m, p in fake.refused]
    ((method, params),) = fake.replies(GROUP)
    assert method == "sendMessage" and "private chats only" in params["text"]
    assert kinds(answers(fake.replies(FAMILY))) == ["sendPhotox7"]
    grouped = answers(fake.replies(ALLOWED))
    assert kinds(grouped) == ["sendMessage"] * 3 + ["sendPhotox7"] * 2 + ["sendMessage"] * 2, kinds(grouped)
    (sticker,), (voice,), (pdf,), by_document, emoji, (too_long,), (long_name,) = grouped
    assert all(p[1]["text"] == UNDERSTOOD for p in (sticker, voice, pdf))
    assert paths(by_document)[0].endswith(".jpg")  # the picture sent as a file was searched by
    assert emoji[0][1]["caption"].startswith("🔎 🌅") and "…" in emoji[0][1]["caption"]
    assert any("ü" * 120 in p["caption"] for _, p in emoji)  # the long path is in a caption, cut to fit
    assert "1000 characters" in too_long[1]["text"] and "validation" not in too_long[1]["text"].lower()
    assert long_name[1]["text"].startswith("No person called") and "…" in long_name[1]["text"]


def test_validation_errors_reach_the_user_as_one_sentence() -> None:
    import httpx

    from bot.api import _detail

    body = {"detail": [{"type": "string_too_long", "loc": ["body", "query"], "msg": "String should have at most 1000 "
                        "characters", "input": "x" * 1001, "ctx": {"max_length": 1000}}]}
    assert _detail(httpx.Response(422, json=body)) == "String should have at most 1000 characters"
    assert _detail(httpx.Response(404, json={"detail": "no photo with id 5"})) == "no photo with id 5"
    assert _detail(httpx.Response(502, text="")) == "Bad Gateway"
