"""A fake Google Cloud Translation v2 REST API (`POST /language/translate/v2`) on 127.0.0.1."""
from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class FakeTranslate:
    dictionary: dict[str, str]
    requests: list[dict] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/language/translate/v2")
        async def translate(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append({"key": request.query_params.get("key"), "body": body})
            texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
            return JSONResponse({"data": {"translations": [
                {"translatedText": self.dictionary.get(t, t), "detectedSourceLanguage": "ru"} for t in texts]}})

        return app
