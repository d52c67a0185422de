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
from urllib.parse import urlencode

from fastapi import Depends, HTTPException
from fastapi.responses import RedirectResponse
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


def authorized(conn: HTTPConnection) -> bool:
    """Whether the request would pass `require_access` (an open route that tells more to those who may know)."""
    scheme, _, credentials = conn.headers.get("authorization", "").partition(" ")
    supplied = (credentials.strip() if scheme.lower() == "bearer" else None) or conn.headers.get("x-api-token") \
        or conn.cookies.get(COOKIE) or conn.query_params.get("token")
    try:
        check_token(conn.app.state.engine.settings, supplied)
    except HTTPException:
        return False
    return True


def install_token_cookie(app) -> None:
    """A page opened with a valid `?token=` gets the token as an HttpOnly, SameSite=Strict cookie
    and is sent on to the same URL without it, so the token leaves the address bar, the history
    and the links the page makes; the dashboard's own <img> and API requests carry the cookie."""

    @app.middleware("http")
    async def remember_token(request, call_next):
        token = request.query_params.get("token")
        settings: Settings = request.app.state.engine.settings
        valid = bool(token) and access_mode(settings) == "token" \
            and secrets.compare_digest(token.encode(), settings.api_token.strip().encode())
        if valid and request.method in ("GET", "HEAD") and _is_navigation(request):
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), status_code=303)
        else:
            response = await call_next(request)
        if valid and response.status_code < 400:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response


def _is_navigation(request) -> bool:
    """A browser opening a page (not an <img> or a script's request)."""
    mode = request.headers.get("sec-fetch-mode")
    return mode == "navigate" if mode else "text/html" in request.headers.get("accept", "")
