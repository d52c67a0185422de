"""The Telegram bot end to end: python-telegram-bot against a fake Bot API server on 127.0.0.1,
talking over HTTP to the real REST app (engine, PostgreSQL, tiny image-text and face models)."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import build_application
from bot.config import BotSettings
from dashboard.server import create_app
from engine.app import PhotoIndex
from tests.face_fixtures import face_engine, face_settings, save_faces, tiny_face_pack  # noqa: F401
from tests.fakes.servers import serve
from tests.fakes.telegram import FakeBotApi
from tests.test_faces_api import index as index_faces

TOKEN = "123456:TEST-token"
ALLOWED, STRANGER = 7, 999


async def _converse(settings: BotSettings, fake: FakeBotApi, expected: int) -> None:
    app = build_application(settings)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.01, timeout=0)
        deadline = time.monotonic() + 120
        while len(fake.sent) < expected and time.monotonic() < deadline:
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
