"""Engine exceptions -> HTTP answers. Only the transport speaks HTTP."""
from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from engine.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from engine.indexing.scan import LibraryUnavailable
from engine.media.decode import DecodeError
from engine.models.errors import ModelNotAvailable
from engine.models.registry import UnknownModel
from engine.search.service import NoModelIndexed, NotIndexed, PhotoNotFound

_STATUS: dict[type[Exception], int] = {
    ModelNotAvailable: 503,
    LibraryUnavailable: 503,
    UnknownModel: 400,
    DecodeError: 422,
    PhotoNotFound: 404,
    NotIndexed: 409,
    NoModelIndexed: 409,
    psycopg.DataError: 422,  # input the database cannot hold (NUL characters, numbers out of range)
    psycopg.OperationalError: 503,  # the database went away mid-request
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
    Forbidden: 403,
}


def install_error_handlers(app: FastAPI) -> None:
    for exc_type, status in _STATUS.items():
        app.add_exception_handler(exc_type, _handler(status))


def _handler(status: int):
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        detail = str(exc)
        if isinstance(exc, psycopg.OperationalError):
            reason = (detail.strip().splitlines() or ["connection lost"])[0]
            detail = f"The database connection was lost ({reason}); try again once the database is back."
        return JSONResponse({"detail": detail, "error": type(exc).__name__}, status_code=status)

    return handle
