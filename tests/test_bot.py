"""The Telegram bot end to end: python-telegram-bot against a fake Bot API server on 127.0.0.1,
talking over HTTP to the real REST app (engine, PostgreSQL, tiny image-text and face models)."""
from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bot.app import UNDERSTOOD, build_application
from bot.config import BotSettings
from dashboard.server import create_app
from engine.app import PhotoIndex
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fakes.servers import serve
from tests.fakes.telegram import FakeBotApi
from tests.fixtures import make_jpeg, make_library
from tests.test_faces_api import index as index_faces

TOKEN = "123456:TEST-token"
ALLOWED, STRANGER = 7, 999


async def _converse(settings: BotSettings, fake: FakeBotApi, expected: int) -> None:
    app = build_application(settings)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.01, timeout=0)
        deadline = time.monotonic() + 120
        while len(fake.sent) + len(fake.refused) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await app.updater.stop()
        await app.stop()


def _captions(params: dict) -> list[str]:
    return [m.get("caption", "") for m in json.loads(params["media"])]


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
    fake.user_says(STRANGER, "red")
    fake.user_says(ALLOWED, "a photo")
    fake.user_says(ALLOWED, "/person anna")
    fake.user_says(ALLOWED, "/person Nobody")
    fake.user_says(ALLOWED, f"/similar {photos['anna0.png']}")
    fake.user_says(ALLOWED, photo=(library / "boris.png").read_bytes())
    fake.user_says(ALLOWED, "/similar 999999")
    with serve(fake.app) as telegram_url, serve(create_app(engine=face_engine)) as api_url:
        settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_base_url=telegram_url,
                               telegram_allowed_users=f"{ALLOWED}, 12", photoindex_api_url=api_url, bot_top_k=6)
        asyncio.run(_converse(settings, fake, expected=7))

    (refusal,) = fake.replies(STRANGER)
    assert refusal[0] == "sendMessage" and "private" in refusal[1]["text"]
    replies = fake.replies(ALLOWED)
    assert [m for m, _ in replies] == ["sendMediaGroup", "sendMediaGroup", "sendMessage", "sendMediaGroup",
                                      "sendMediaGroup", "sendMessage"], replies
    text, person, nobody, similar, by_photo, missing = (p for _, p in replies)
    assert len(_captions(text)) == 4 and all("score" in c for c in _captions(text))
    assert sum(isinstance(v, bytes) and v[:2] == b"\xff\xd8" for v in text.values()) == 4  # four JPEG thumbnails
    assert "Anna" in _captions(person)[0] and {c.rsplit("\n", 1)[-1] for c in _captions(person)} == \
        {"anna0.png", "anna1.png", "both.png"}
    assert "Nobody" in nobody["text"]
    assert len(_captions(similar)) == 3 and all("anna0.png" not in c for c in _captions(similar))
    assert _captions(by_photo)[0].endswith("boris.png")  # the sent picture is in the library: it comes first
    assert "404" in missing["text"] and "999999" in missing["text"]


def test_bot_says_when_the_api_is_down(tmp_path: Path) -> None:
    fake = FakeBotApi(TOKEN)
    fake.user_says(ALLOWED, "sunset")
    with serve(fake.app) as telegram_url:
        settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_base_url=telegram_url,
                               telegram_allowed_users=str(ALLOWED), photoindex_api_url="http://127.0.0.1:9")
        asyncio.run(_converse(settings, fake, expected=1))
    ((method, params),) = fake.replies(ALLOWED)
    assert method == "sendMessage" and "not reachable" in params["text"]


def test_bot_needs_a_token() -> None:
    with pytest.raises(SystemExit):
        build_application(BotSettings(_env_file=None, telegram_bot_token=""))


GROUP, FAMILY = -100500, -200600


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
    with serve(fake.app) as telegram_url, serve(create_app(engine=engine)) as api_url:
        settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_base_url=telegram_url,
                               telegram_allowed_users=str(ALLOWED), telegram_allowed_chats=str(FAMILY),
                               photoindex_api_url=api_url, bot_top_k=10)
        asyncio.run(_converse(settings, fake, expected=8))

    assert not fake.refused, [(m, p.get("text", "")[:80]) for m, p in fake.refused]
    ((method, params),) = fake.replies(GROUP)
    assert method == "sendMessage" and "private chats only" in params["text"]
    (family_answer,) = fake.replies(FAMILY)
    assert family_answer[0] == "sendMediaGroup"
    replies = fake.replies(ALLOWED)
    assert [m for m, _ in replies] == ["sendMessage"] * 3 + ["sendMediaGroup"] * 2 + ["sendMessage"], replies
    sticker, voice, pdf, by_document, emoji, too_long = (p for _, p in replies)
    assert all(p["text"] == UNDERSTOOD for p in (sticker, voice, pdf))
    assert _captions(by_document)[0].endswith(".jpg")  # the picture sent as a file was searched by
    captions = _captions(emoji)
    assert captions[0].startswith("🔎 🌅") and "…" in captions[0]
    assert any("ü" * 120 in c for c in captions)  # the long path is in a caption, cut to fit
    assert "1000 characters" in too_long["text"] and "validation" not in too_long["text"].lower()


def test_validation_errors_reach_the_user_as_one_sentence() -> None:
    import httpx

    from bot.api import _detail

    body = {"detail": [{"type": "string_too_long", "loc": ["body", "query"], "msg": "String should have at most 1000 "
                        "characters", "input": "x" * 1001, "ctx": {"max_length": 1000}}]}
    assert _detail(httpx.Response(422, json=body)) == "String should have at most 1000 characters"
    assert _detail(httpx.Response(404, json={"detail": "no photo with id 5"})) == "no photo with id 5"
    assert _detail(httpx.Response(502, text="")) == "Bad Gateway"
