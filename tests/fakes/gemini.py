"""A fake Gemini API (the `generateContent` call of the Generative Language REST API) on 127.0.0.1."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class FakeGemini:
    """Answers each request with the next queued reply: a dict (sent as the JSON text), a string, or an HTTP status."""

    replies: list[Any] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{version}/models/{call:path}")
        async def generate(version: str, call: str, request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append({"version": version, "call": call, "key": request.headers.get("x-goog-api-key"),
                                  "body": body})
            reply = self.replies.pop(0) if self.replies else 500
            if isinstance(reply, int):
                return JSONResponse({"error": {"code": reply, "message": "fake failure", "status": "INTERNAL"}},
                                    status_code=reply)
            text = reply if isinstance(reply, str) else json.dumps(reply)
            return JSONResponse({
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP",
                                "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 20},
                "modelVersion": call.split(":")[0],
            })

        return app
