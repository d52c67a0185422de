"""Faces-layer exceptions -> HTTP answers, for the routers of faces and persons only.

A route class rather than app-wide handlers keeps these routers self-contained."""
from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from engine.faces.errors import (FaceError, FaceModelNotAvailable, FaceNotFound, InvalidRequest, NoFaceFound,
                                 PersonNotFound, SuggestionNotFound)

STATUS: dict[type[FaceError], int] = {
    FaceModelNotAvailable: 503,
    FaceNotFound: 404,
    PersonNotFound: 404,
    SuggestionNotFound: 404,
    NoFaceFound: 422,
    InvalidRequest: 422,
}


def status_of(exc: FaceError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)


class FaceRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except FaceError as exc:
                return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=status_of(exc))

        return handle
