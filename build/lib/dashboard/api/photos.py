"""One photo: /photo/{id}, /image/{id}/thumb, /image/{id}/full."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas import PhotoOut
from engine.db import embeddings as embedding_rows
from engine.db import photos as photo_rows
from engine.library.paths import OutsideLibrary, resolve_inside
from engine.models.registry import MODELS

router = APIRouter(tags=["photos"])


def _photo_or_404(engine: Engine, photo_id: int) -> photo_rows.Photo:
    photo = engine.photo(photo_id)
    if photo is None:
        raise HTTPException(404, f"no photo with id {photo_id}")
    return photo


@router.get("/photo/{photo_id}", response_model=PhotoOut)
def photo(photo_id: int, engine: Engine) -> PhotoOut:
    p = _photo_or_404(engine, photo_id)
    with engine.db.connection() as conn:
        indexed = [name for name, spec in MODELS.items() if embedding_rows.vector_of(conn, spec.table, p.id) is not None]
    return PhotoOut(
        id=p.id, path=p.path, format=p.format, size=p.size, content_hash=p.content_hash, width=p.width,
        height=p.height, taken_at=p.taken_at, camera=p.camera, lens=p.lens, latitude=p.latitude,
        longitude=p.longitude, altitude=p.altitude, rotation=p.rotation, exif_data=p.exif_data,
        index_failed=p.index_failed, fail_reason=p.fail_reason, faces_indexed=p.faces_indexed,
        indexed_models=indexed, thumbnail_url=f"/image/{p.id}/thumb", full_url=f"/image/{p.id}/full",
    )


def photo_version(p: photo_rows.Photo) -> str:
    """What identifies the file's bytes, for cache keys and ETags."""
    return p.content_hash or f"{p.size}-{p.mtime}"


def library_file(engine: Engine, p: photo_rows.Photo) -> Path:
    """The photo's file, refused (403) outside the library and 404 when it is gone."""
    try:
        source = resolve_inside(engine.settings.photos_dir, p.path)
    except OutsideLibrary as exc:
        raise HTTPException(403, str(exc)) from exc
    if not source.is_file():
        raise HTTPException(404, f"the file of photo {p.id} is gone from the library")
    return source


async def _image(photo_id: int, kind: Literal["thumb", "full"], request: Request, engine: Engine) -> Response:
    p = _photo_or_404(engine, photo_id)
    version = photo_version(p)
    etag = f'"{p.id}-{kind}-{p.rotation}-{version}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    source = library_file(engine, p)
    data = await run_in_threadpool(engine.thumbnails.get_bytes, p.id, source, p.format, kind, p.rotation, version)
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get("/image/{photo_id}/thumb", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def thumb(photo_id: int, request: Request, engine: Engine) -> Response:
    return await _image(photo_id, "thumb", request, engine)


@router.get("/image/{photo_id}/full", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def full(photo_id: int, request: Request, engine: Engine) -> Response:
    return await _image(photo_id, "full", request, engine)
