"""Every route's error answers, in the OpenAPI schema: one body shape for them all.

Each error is `{"detail": ..., "error": ...}`: `detail` is one sentence, or for a request the
schema rejects FastAPI's list of what is wrong (loc, msg, type). The schema documents, per
operation, the statuses it can answer with besides its own: the access and Host/Origin guards'
(400, 401, 403), a request that is not valid (422), a missing resource when the request names
one (404), a clash with the current state for a change (409), an upload too large (413), and
something the server needs being down (503).
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

REF = "#/components/schemas/ErrorOut"


class ErrorOut(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="One sentence saying what went wrong and what to do; for a malformed request, "
                    "the list of what is wrong (each with loc, msg, type).")
    error: str | None = Field(None, description="The kind of error, e.g. PhotoNotFound.")


ALWAYS = {
    400: "The Host is not one this server answers to (ALLOWED_HOSTS), or the request is malformed.",
    401: "A valid API token is required (Authorization: Bearer, X-API-Token, the cookie or ?token=).",
    403: "Refused: the server listens on the network without API_TOKEN, the request came from another web site, "
         "or a path leads outside the library.",
    422: "The request is not valid; `detail` says what is wrong.",
    503: "Something the request needs is unavailable: the database, the library folder or a model.",
}
NAMING = {404: "A photo, person, album, face, job or file the request names does not exist."}
CHANGING = {409: "The request clashes with the current state (e.g. the trash or a restore target)."}
UPLOADING = {413: "The upload is larger than the server takes."}


def _codes(path: str, method: str, operation: dict[str, Any]) -> dict[int, str]:
    codes = dict(ALWAYS)
    if "{" in path or operation.get("parameters") or "requestBody" in operation:
        codes.update(NAMING)
    if method not in ("get", "head", "options"):
        codes.update(CHANGING)
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        codes.update(UPLOADING)
    return codes


def document_errors(app: FastAPI) -> None:
    """Generate the app's schema with the error answers added to every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for code, text in _codes(path, method, operation).items():
                    if code == 422 or str(code) not in responses:
                        responses[str(code)] = {"description": text,
                                                "content": {"application/json": {"schema": {"$ref": REF}}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
