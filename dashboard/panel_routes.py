"""Panel's routes, closed to strangers.

- `/components/<module>/<class>/<attr>/<file>`: Panel's own handler imports whatever module the
  URL names, so any web page could make this server import (and so run) any module on its path
  with an `<img src>`. This route answers first, only looks at modules already imported by the
  dashboard (Panel's, Bokeh's and this app's), never imports one, and refuses with a 4xx.
- The page makes its own Bokeh session: a `bokeh_session_id` chosen by the client (empty, or
  another browser's) is a 400, and Bokeh's protocol errors are 400s, not unhandled 500s.
"""
from __future__ import annotations

import sys

import param
from bokeh.protocol.exceptions import ProtocolError
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from panel.io.resources import COMPONENT_PATH
from starlette.requests import HTTPConnection
from panel.io.server import ComponentResourceHandler
from tornado.web import HTTPError

COMPONENT_MODULES = ("panel", "bokeh", "dashboard")
"""Packages whose components the page may ask resources of."""


def _is_component_module(name: str) -> bool:
    return name in sys.modules and any(name == p or name.startswith(p + ".") for p in COMPONENT_MODULES)


def component_file(path: str) -> str:
    """The file a component-resource URL names, or an HTTPException (404 for anything not ours)."""
    module_name, _, rest = path.partition("/")
    class_name = rest.partition("/")[0]
    if not _is_component_module(module_name):
        raise HTTPException(404, "no such component")
    component = getattr(sys.modules[module_name], class_name, None)
    if not (isinstance(component, type) and issubclass(component, param.Parameterized)):
        raise HTTPException(404, "no such component")
    try:
        return ComponentResourceHandler.parse_url_path(ComponentResourceHandler, path)  # type: ignore[arg-type]
    except HTTPError as exc:
        raise HTTPException(exc.status_code if 400 <= exc.status_code < 500 else 404,
                            exc.log_message or "no such resource") from None


def no_client_session_id(conn: HTTPConnection) -> None:
    """An app-wide dependency: Panel's page route reads a session id from the query; never take one."""
    if "bokeh_session_id" in conn.query_params:
        raise HTTPException(400, "the page makes its own session; open it without bokeh_session_id")


def install_panel_routes(app: FastAPI) -> None:
    """Register before Panel's own routes, so these answer."""

    @app.get(f"/{COMPONENT_PATH.rstrip('/')}/{{path:path}}", include_in_schema=False)
    def component_resource(path: str) -> FileResponse:
        return FileResponse(component_file(path))

    @app.exception_handler(ProtocolError)
    async def bad_session(_request: Request, exc: ProtocolError) -> JSONResponse:
        return JSONResponse({"detail": f"bad session: {exc}", "error": "ProtocolError"}, status_code=400)
