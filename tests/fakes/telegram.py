"""A fake Telegram Bot API server: the methods the bot uses, over real HTTP, with a queue of
updates to hand out by getUpdates and a record of everything the bot sent.

Like Telegram it can refuse a send with 429 "retry after N" (`flood_every`), and it can hold a
file download back until something reaches another chat (`hold_file_until`), which shows whether
one chat's slow work holds up the others."""
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
        self.calls: list[tuple[str, dict[str, Any]]] = []
        """Every other method called: chat actions, edits, button answers, the command menu."""
        self.messages: dict[int, dict[str, Any]] = {}
        """What the bot sent, by message id, as Telegram hands it back (with its reply_markup)."""
        self.flood_every: int | None = None
        """Refuse every n-th send with 429 retry_after=1, as Telegram does past its rate limits."""
        self.flooded: list[tuple[str, dict[str, Any]]] = []
        self.hold_file_until: dict[str, int] = {}
        """file_id -> chat id: that file is served only once a message has reached that chat."""
        self._sends = 0
        self._ids = itertools.count(1)
        self._messages = itertools.count(1000)
        self.app = Starlette(routes=[
            Route(f"/bot{token}/{{method}}", self._method, methods=["GET", "POST"]),
            Route(f"/file/bot{token}/{{path:path}}", self._file, methods=["GET"]),
        ])

    # --- what a test does
    def user_says(self, user_id: int, text: str | None = None, photo: bytes | None = None, *,
                  chat: dict[str, Any] | None = None, sender: dict[str, Any] | None = None, **other: Any) -> None:
        """A message from `user_id`: in their private chat, or in `chat` (e.g. {"id": -100, "type": "group"});
        `sender` adds fields of the user (e.g. {"language_code": "ru"}); `other` adds any other message
        field (a sticker, a document, a voice message, a location)."""
        message: dict[str, Any] = {"message_id": next(self._messages), "date": int(time.time()),
                                   "chat": chat or {"id": user_id, "type": "private"},
                                   "from": self._user(user_id, sender), **other}
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

    def user_presses(self, user_id: int, message_id: int, data: str, *, sender: dict[str, Any] | None = None) -> None:
        """`user_id` presses the inline button with callback `data` under the bot's message `message_id`."""
        self.updates.append({"update_id": next(self._ids), "callback_query": {
            "id": str(next(self._ids)), "from": self._user(user_id, sender), "chat_instance": "1",
            "message": self.messages[message_id], "data": data}})

    @staticmethod
    def _user(user_id: int, sender: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}", **(sender or {})}

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
                    if hasattr(value, "read"):
                        params[key], params[f"{key}_filename"] = await value.read(), value.filename
                    else:
                        params[key] = value
        return params

    async def _method(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await self._params(request)
        if method == "getMe":
            return self._ok(BOT_USER)
        if method in ("deleteWebhook", "setMyCommands", "sendChatAction", "answerCallbackQuery",
                      "editMessageReplyMarkup"):
            self.calls.append((method, params))
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
        if method in ("sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument"):
            self._sends += 1
            if self.flood_every and self._sends % self.flood_every == 0:
                self.flooded.append((method, params))
                return JSONResponse({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                     "parameters": {"retry_after": 1}}, status_code=429)
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
            message = {**base, "message_id": next(self._messages)}
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            else:
                message["caption"] = params.get("caption", "")
            markup = params.get("reply_markup") or {}
            markup = json.loads(markup) if isinstance(markup, str) else markup
            if "inline_keyboard" in markup:  # a message carries only inline buttons; a reply keyboard is the chat's
                message["reply_markup"] = markup
            params["message_id"] = message["message_id"]
            self.messages[message["message_id"]] = message
            return self._ok(message)
        return JSONResponse({"ok": False, "error_code": 404, "description": f"Not Found: {method}"}, status_code=404)

    async def _file(self, request: Request) -> Response:
        file_id = request.path_params["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        if file_id in self.hold_file_until:
            deadline = time.monotonic() + 60  # a bot that handles one update at a time would wait forever
            while not self.replies(self.hold_file_until[file_id]) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return Response(self.files[file_id], media_type="image/jpeg")

    @staticmethod
    def _over_limits(method: str, params: dict[str, Any]) -> str | None:
        """What Telegram would refuse: a message over 4,096 characters, a caption over 1,024 (UTF-16 units),
        a button's callback data over 64 bytes."""
        def units(text: str) -> int:
            return len(text.encode("utf-16-le")) // 2

        if units(str(params.get("text", ""))) > 4096:
            return "message is too long"
        captions = [m.get("caption", "") for m in json.loads(params["media"])] if method == "sendMediaGroup" \
            else [params.get("caption", "")]
        if any(units(str(c or "")) > 1024 for c in captions):
            return "message caption is too long"
        markup = params.get("reply_markup") or {}
        markup = json.loads(markup) if isinstance(markup, str) else markup
        buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
        if any(len(b.get("callback_data", "").encode()) > 64 for b in buttons):
            return "BUTTON_DATA_INVALID"
        return None

    @staticmethod
    def _ok(result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})
