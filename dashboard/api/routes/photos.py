"""One photo: /photo/{id}, /image/{id}/thumb, /image/{id}/full."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine, StoredPhoto
from dashboard.api.schemas.photos import PhotoOut

router = APIRouter(tags=["photos"])


@router.get("/photo/{photo_id}", response_model=PhotoOut)
def photo(p: StoredPhoto, engine: Engine) -> PhotoOut:
    out = PhotoOut.model_validate(p)
    out.indexed_models = engine.indexed_models(p.id)
    return out


async def _image(p: StoredPhoto, kind: Literal["thumb", "full"], request: Request, engine: Engine) -> Response:
    etag = f'"{p.id}-{kind}-{p.rotation}-{p.version}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = await run_in_threadpool(engine.thumbnails.get_bytes, p.id, engine.file_of(p), p.format, kind, p.rotation,
                                   p.version)
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get("/image/{photo_id}/thumb", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def thumb(p: StoredPhoto, request: Request, engine: Engine) -> Response:
    return await _image(p, "thumb", request, engine)


@router.get("/image/{photo_id}/full", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def full(p: StoredPhoto, request: Request, engine: Engine) -> Response:
    return await _image(p, "full", request, engine)
