"""No other web site can act through the user's browser: Host, Origin and Fetch-Metadata checks.

An ASGI middleware in front of everything (REST, the Panel page, its websocket):

- `Host` must be one of ALLOWED_HOSTS (loopback names by default), HOST when it is not a wildcard,
  or an IP address. A page on evil.example whose name was re-pointed at 127.0.0.1 (DNS rebinding)
  sends `Host: evil.example` and is refused. An IP address cannot be re-pointed, and a page that
  targets one directly is another origin, so IP addresses are always accepted (LAN access by IP).
- A request whose `Origin` names another site is refused (so is `Origin: null`); a state-changing
  one (anything but GET, HEAD, OPTIONS) or a websocket handshake without an `Origin` is judged by
  its `Referer`. Browsers send an `Origin` with every form post, `fetch` and websocket; clients
  that send neither (curl, the bot, scripts) pass.
- A browser's cross-site sub-request (`Sec-Fetch-Site: cross-site` that is not a page navigation:
  an `<img>`, a `<form>`, a `fetch`) is refused whatever its method, so no link or image on
  another site can reach a route. Following a link to the dashboard still works.
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from engine.config import Settings

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def allowed_host_names(settings: Settings) -> set[str]:
    names = {h.strip().strip("[]").lower() for h in settings.allowed_hosts if h.strip()}
    host = (settings.host or "").strip().strip("[]").lower()
    if host not in WILDCARD_HOSTS:
        names.add(host)
    return names


def _split_host(value: str) -> tuple[str, int | None]:
    """`example.org:8000` -> ("example.org", 8000); `[::1]:8000` -> ("::1", 8000)."""
    try:
        parts = urlsplit("//" + value.strip())
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(settings: Settings, host_header: str) -> bool:
    name, _port = _split_host(host_header)
    return bool(name) and (_is_ip(name) or name in allowed_host_names(settings))


def same_origin(url: str, host_header: str, scheme: str) -> bool:
    """Whether `url` (an Origin or Referer) names the host:port this request was sent to."""
    try:
        parts = urlsplit(url.strip())
        origin = ((parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme))
    except ValueError:
        return False
    name, port = _split_host(host_header)
    return bool(origin[0]) and origin == (name, port or DEFAULT_PORTS.get(scheme))


def refusal(scope: Scope, settings: Settings) -> tuple[int, str] | None:
    """(status, sentence) when the request must be refused, else None."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    host = headers.get("host", "")
    if not host_allowed(settings, host):
        names = ", ".join(sorted(allowed_host_names(settings)))
        return 400, (f"this server does not answer to the host name {_split_host(host)[0] or host!r} "
                     f"(it answers to {names} and IP addresses); add it to ALLOWED_HOSTS")
    websocket = scope["type"] == "websocket"
    method = "GET" if websocket else scope.get("method", "GET")
    site, mode = headers.get("sec-fetch-site"), headers.get("sec-fetch-mode")
    if site == "cross-site" and not (method in SAFE_METHODS and mode == "navigate"):
        return 403, "requests from other web sites are refused"
    origin = headers.get("origin")
    if origin is None and (websocket or method not in SAFE_METHODS):
        origin = headers.get("referer")  # a link followed from elsewhere is fine; a form posted from there is not
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    if origin is not None and not same_origin(origin, host, scheme):
        return 403, "requests from other web sites are refused (the Origin is not this server)"
    return None


class SameOriginGuard:
    """The checks above, with the settings of the engine the app serves (`app.state.engine`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            engine = getattr(scope["app"].state, "engine", None)
            refused = refusal(scope, engine.settings) if engine is not None else (503, "the server is starting")
            if refused is not None:
                await _refuse(scope, send, *refused)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send, status: int, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    body = json.dumps({"detail": detail, "error": "Forbidden" if status == 403 else "BadHost"}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
