"""Photos: /photo/{id}, /image/{id}/thumb, /image/{id}/full, /image/{id}/original, /photos/near."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine, StoredPhoto
from dashboard.api.schemas.photos import NearPhotosOut, PhotoOut
from engine.geo.names import LANGUAGES, place_label
from engine.geo.places import Place
from engine.search.filters import SearchFilters

router = APIRouter(tags=["photos"])


@router.get("/photo/{photo_id}", response_model=PhotoOut)
def photo(p: StoredPhoto, engine: Engine) -> PhotoOut:
    out = PhotoOut.model_validate(p)
    out.indexed_models = engine.indexed_models(p.id)
    out.place_names = {lang: label for lang in LANGUAGES if (label := place_label(Place.of(p), lang))}
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


@router.get("/image/{photo_id}/original", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "No such photo or file."}})
def original(p: StoredPhoto, engine: Engine) -> FileResponse:
    """The photo's file as it is in the library (HEIC, RAW...), named as it is there."""
    return FileResponse(engine.file_of(p), filename=p.path.rsplit("/", 1)[-1], media_type="application/octet-stream")


@router.get("/photos/near", response_model=NearPhotosOut)
def photos_near(
    engine: Engine,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="With lon: photos taken near this point.")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float, Query(gt=0, le=20_000)] = 5.0,
    place: Annotated[str | None, Query(min_length=1, max_length=200,
                                       description="Or a country, region or city (any language the place filter "
                                                   "knows), e.g. Paris, Париж.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> NearPhotosOut:
    """Geotagged photos near a point (nearest first) or in a named place (newest first)."""
    if (lat is None) != (lon is None) or (lat is None) == (place is None):
        raise HTTPException(422, "give either lat and lon, or place")
    point = (lat, lon) if lat is not None and lon is not None else None
    filters = SearchFilters.of(places=[place]) if place else None
    items, total = engine.library.near(point, radius_km, filters, limit, offset)
    return NearPhotosOut(total=total, limit=limit, offset=offset, items=items)
