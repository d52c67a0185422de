"""The one mapping of engine errors to HTTP answers, installed app-wide. Only the transport speaks HTTP.

An error's status is that of the most specific kind it derives from (`engine.errors`); the
body is `{"detail": <its sentence>, "error": <its class name>}`.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from engine.errors import Conflict, Forbidden, Invalid, NotFound, PhotoIndexError, Unavailable, UnknownName

STATUS: dict[type[PhotoIndexError], int] = {
    UnknownName: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
    PhotoIndexError: 400,
}


def status_of(exc: PhotoIndexError) -> int:
    return next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS)


async def _answer(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PhotoIndexError)
    return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=status_of(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PhotoIndexError, _answer)
