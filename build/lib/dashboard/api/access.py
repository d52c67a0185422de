"""Access control: a token for everything but /health and the API docs, unless the server
only listens on loopback.

- HOST is loopback (127.0.0.1, ::1, localhost) and API_TOKEN is empty: open (the default).
- API_TOKEN is set: every request must carry it (`Authorization: Bearer <token>`, an
  `X-API-Token` header, a `photoindex_token` cookie, or `?token=` for a browser page or <img>).
- HOST is anything else and API_TOKEN is empty: locked; requests are refused with 403 and a
  message saying to set API_TOKEN. A server reachable from the network is never open by accident.
"""
from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from engine.config import Settings

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
OPEN_PATHS = {"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
COOKIE = "photoindex_token"

AccessMode = Literal["open", "token", "locked"]

_bearer = HTTPBearer(auto_error=False, description="API_TOKEN, required unless the server listens on loopback only.")
_header = APIKeyHeader(name="X-API-Token", auto_error=False)


def access_mode(settings: Settings) -> AccessMode:
    if (settings.api_token or "").strip():
        return "token"
    host = (settings.host or "").strip().strip("[]").lower()
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return "open"
    return "locked"


def check_token(settings: Settings, supplied: str | None) -> None:
    """Raise 401/403 unless `supplied` passes in the server's access mode."""
    mode = access_mode(settings)
    if mode == "open":
        return
    if mode == "locked":
        raise HTTPException(403, f"this server listens on {settings.host}; set API_TOKEN to allow access from the network")
    expected = (settings.api_token or "").strip()
    if not supplied or not secrets.compare_digest(supplied.encode(), expected.encode()):
        raise HTTPException(401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"})


def require_access(
    conn: HTTPConnection,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> None:
    if conn.url.path in OPEN_PATHS:
        return
    settings: Settings = conn.app.state.engine.settings
    supplied = (bearer.credentials if bearer else None) or header or conn.cookies.get(COOKIE) or conn.query_params.get("token")
    check_token(settings, supplied)


def install_token_cookie(app) -> None:
    """A page opened with a valid `?token=` gets the token as an HttpOnly cookie, so the
    dashboard's own <img> and API requests carry it without putting it in every URL."""

    @app.middleware("http")
    async def remember_token(request, call_next):
        response = await call_next(request)
        token = request.query_params.get("token")
        settings: Settings = request.app.state.engine.settings
        if token and access_mode(settings) == "token" and response.status_code < 400 \
                and secrets.compare_digest(token.encode(), settings.api_token.strip().encode()):
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response
