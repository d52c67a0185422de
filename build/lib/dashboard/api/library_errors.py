"""Library/admin exceptions -> HTTP answers, for the routers of this layer only (a route class)."""
from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from engine.jobs.queue import NoQueueCommand, StageUnavailable
from engine.library.albums import AlbumNotFound
from engine.library.paths import OutsideLibrary
from engine.models.registry import UnknownModel
from engine.library.trash import PhotosNotFound, RestoreConflict, TrashError, TrashItemNotFound, TrashUnavailable

STATUS: list[tuple[type[Exception], int]] = [
    (OutsideLibrary, 403),
    (PhotosNotFound, 404),
    (TrashItemNotFound, 404),
    (AlbumNotFound, 404),
    (RestoreConflict, 409),
    (TrashUnavailable, 503),
    (TrashError, 409),
    (NoQueueCommand, 409),
    (StageUnavailable, 400),
    (UnknownModel, 400),
    (ValueError, 422),
]


def status_of(exc: Exception) -> int | None:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), None)


class LibraryRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                code = status_of(exc)
                if code is None:
                    raise
                return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)

        return handle
