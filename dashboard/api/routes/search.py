"""Image-text search: /search/text and /search/image."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine, read_upload
from dashboard.api.schemas.search import MAX_OFFSET, SearchResponse, TextSearchRequest
from engine.library.paths import FileMissing, resolve_inside
from engine.search.filters import SearchFilters

router = APIRouter(prefix="/search", tags=["search"])


@router.post("/text", response_model=SearchResponse)
async def search_text(body: TextSearchRequest, engine: Engine) -> SearchResponse:
    """Photos matching a description in any language, best first; page with `offset`."""
    result = await run_in_threadpool(
        engine.search.query, body.query, model=body.model, top_k=body.offset + body.top_k + 1,
        threshold=body.threshold, filters=body.to_filters(body.formats), multi_model=body.multi_model,
        models=body.models, translate=body.translate, resolve_persons=body.resolve_persons, k=body.rrf_k,
        weights=body.weights,
    )
    return SearchResponse.page(result, body.offset, body.top_k)


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _ids(value: str | None) -> list[int] | None:
    try:
        return [int(v) for v in _csv(value) or []] or None
    except ValueError as exc:
        raise HTTPException(422, f"expected comma-separated ids, got {value!r}") from exc


@router.post("/image", response_model=SearchResponse)
async def search_image(
    engine: Engine,
    file: Annotated[UploadFile | None, File(description="A picture to search by.")] = None,
    photo_id: Annotated[int | None, Form(description="Find photos like this indexed photo.")] = None,
    path: Annotated[str | None, Form(description="A file inside the library, relative to PHOTOS_DIR.")] = None,
    top_k: Annotated[int, Form(ge=1, le=500, description="Hits per page.")] = 20,
    offset: Annotated[int, Form(ge=0, le=MAX_OFFSET, description="Hits skipped (the previous `next_offset`).")] = 0,
    threshold: Annotated[float | None, Form(ge=-1.0, le=1.0)] = None,
    formats: Annotated[str | None, Form(description="Comma-separated, e.g. JPG,HEIC")] = None,
    model: Annotated[str | None, Form()] = None,
    multi_model: Annotated[bool, Form(description="Fuse every indexed model with RRF.")] = False,
    models: Annotated[str | None, Form(description="With multi_model: comma-separated model names.")] = None,
    rrf_k: Annotated[float | None, Form(gt=0, le=10_000)] = None,
    date_from: Annotated[datetime | date | None, Form()] = None,
    date_to: Annotated[datetime | date | None, Form()] = None,
    cameras: Annotated[str | None, Form(description="Comma-separated parts of camera names.")] = None,
    places: Annotated[str | None, Form(description="Comma-separated countries, regions or cities.")] = None,
    person_ids: Annotated[str | None, Form(description="Comma-separated; all of them in the photo.")] = None,
    album_ids: Annotated[str | None, Form(description="Comma-separated; in any of these albums.")] = None,
) -> SearchResponse:
    given = [x is not None for x in (file, photo_id, path)]
    if sum(given) != 1:
        raise HTTPException(422, "give exactly one of: file, photo_id, path")
    kwargs: dict = {}
    if file is not None:
        kwargs["image_bytes"] = await read_upload(file)
    elif path is not None:
        kwargs["image_path"] = resolve_inside(engine.settings.photos_dir, path)
        if not kwargs["image_path"].is_file():
            raise FileMissing(f"no file {path!r} in the library")
    else:
        kwargs["photo_id"] = photo_id
    filters = SearchFilters.of(date_from=date_from, date_to=date_to, cameras=_csv(cameras), places=_csv(places),
                               person_ids=_ids(person_ids), album_ids=_ids(album_ids), formats=_csv(formats))
    depth = offset + top_k + 1
    if multi_model:
        result = await run_in_threadpool(engine.search.multi_image, models=_csv(models), top_k=depth,
                                         threshold=threshold, filters=filters, k=rrf_k, **kwargs)
    else:
        result = await run_in_threadpool(
            engine.search.image, model=model or engine.search.serving().name, top_k=depth, threshold=threshold,
            filters=filters, **kwargs,
        )
    return SearchResponse.page(result, offset, top_k)
