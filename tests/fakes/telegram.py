"""A fake Telegram Bot API server: the methods the bot uses, over real HTTP, with a queue of
updates to hand out by getUpdates and a record of everything the bot sent."""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "PhotoBot", "username": "photo_test_bot"}


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.refused: list[tuple[str, dict[str, Any]]] = []
        """Sends Telegram would refuse (over its limits); a test expects none."""
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._messages = itertools.count(1000)
        self.app = Starlette(routes=[
            Route(f"/bot{token}/{{method}}", self._method, methods=["GET", "POST"]),
            Route(f"/file/bot{token}/{{path:path}}", self._file, methods=["GET"]),
        ])

    # --- what a test does
    def user_says(self, user_id: int, text: str | None = None, photo: bytes | None = None, *,
                  chat: dict[str, Any] | None = None, **other: Any) -> None:
        """A message from `user_id`: in their private chat, or in `chat` (e.g. {"id": -100, "type": "group"});
        `other` adds any other message field (a sticker, a document, a voice message)."""
        message: dict[str, Any] = {"message_id": next(self._messages), "date": int(time.time()),
                                   "chat": chat or {"id": user_id, "type": "private"},
                                   "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}, **other}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if photo is not None:
            file_id = f"file{len(self.files)}"
            self.files[file_id] = photo
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 320, "height": 240,
                                 "file_size": len(photo)}]
        self.updates.append({"update_id": next(self._ids), "message": message})

    def replies(self, chat_id: int) -> list[tuple[str, dict[str, Any]]]:
        return [(m, p) for m, p in self.sent if str(p.get("chat_id")) == str(chat_id)]

    # --- the Bot API
    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            kind = request.headers.get("content-type", "")
            if kind.startswith("application/json"):
                params.update(await request.json())
            else:
                form = await request.form()
                for key, value in form.multi_items():
                    params[key] = await value.read() if hasattr(value, "read") else value
        return params

    async def _method(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await self._params(request)
        if method == "getMe":
            return self._ok(BOT_USER)
        if method in ("deleteWebhook", "setMyCommands", "sendChatAction"):
            return self._ok(True)
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if not pending:
                await asyncio.sleep(0.05)
            return self._ok(pending)
        if method == "getFile":
            file_id = params["file_id"]
            return self._ok({"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files[file_id]),
                             "file_path": f"photos/{file_id}.jpg"})
        if method in ("sendMessage", "sendPhoto", "sendMediaGroup"):
            too_long = self._over_limits(method, params)
            if too_long:
                self.refused.append((method, params))
                return JSONResponse({"ok": False, "error_code": 400, "description": f"Bad Request: {too_long}"},
                                    status_code=400)
            self.sent.append((method, params))
            chat = {"id": int(params["chat_id"]), "type": "private" if int(params["chat_id"]) > 0 else "group"}
            base = {"date": int(time.time()), "chat": chat, "from": BOT_USER}
            if method == "sendMediaGroup":
                media = json.loads(params["media"])
                return self._ok([{**base, "message_id": next(self._messages), "photo": []} for _ in media])
            return self._ok({**base, "message_id": next(self._messages), "text": params.get("text", "")})
        return JSONResponse({"ok": False, "error_code": 404, "description": f"Not Found: {method}"}, status_code=404)

    async def _file(self, request: Request) -> Response:
        file_id = request.path_params["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        return Response(self.files[file_id], media_type="image/jpeg")

    @staticmethod
    def _over_limits(method: str, params: dict[str, Any]) -> str | None:
        """What Telegram would refuse: a message over 4,096 characters, a caption over 1,024 (UTF-16 units)."""
        def units(text: str) -> int:
            return len(text.encode("utf-16-le")) // 2

        if units(str(params.get("text", ""))) > 4096:
            return "message is too long"
        captions = [m.get("caption", "") for m in json.loads(params["media"])] if method == "sendMediaGroup" \
            else [params.get("caption", "")]
        if any(units(str(c or "")) > 1024 for c in captions):
            return "message caption is too long"
        return None

    @staticmethod
    def _ok(result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})
