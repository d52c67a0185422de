"""Image-text search: /search/text and /search/image."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas import DetectedPersonOut, SearchHitOut, SearchResponse, TextSearchRequest
from engine.library.paths import OutsideLibrary, resolve_inside
from engine.search.filters import SearchFilters
from engine.search.service import FUSED, SearchResult

router = APIRouter(prefix="/search", tags=["search"])

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def to_response(result: SearchResult) -> SearchResponse:
    hits = [
        SearchHitOut(id=h.id, path=h.path, score=round(h.score, 6), format=h.format, taken_at=h.taken_at,
                     width=h.width, height=h.height, thumbnail_url=h.thumbnail_url, full_url=f"/image/{h.id}/full",
                     model_scores={k: round(v, 6) for k, v in h.model_scores.items()} if h.model_scores else None,
                     model_ranks=h.model_ranks)
        for h in result.hits
    ]
    return SearchResponse(
        model=result.model, query=result.query, count=len(hits), results=hits, models=list(result.models),
        multi_model=result.model == FUSED, rrf_k=result.rrf_k, translated_query=result.translated_query,
        notes=list(result.notes), persons=[DetectedPersonOut(id=p.id, name=p.name, matched=p.matched)
                                           for p in result.persons], filters=result.filters,
    )


@router.post("/text", response_model=SearchResponse)
async def search_text(body: TextSearchRequest, engine: Engine) -> SearchResponse:
    result = await run_in_threadpool(
        engine.search.query, body.query, model=body.model or engine.settings.clip_model, top_k=body.top_k,
        threshold=body.threshold, filters=body.to_filters(body.formats), multi_model=body.multi_model,
        models=body.models, translate=body.translate, resolve_persons=body.resolve_persons, k=body.rrf_k,
        weights=body.weights,
    )
    return to_response(result)


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
    top_k: Annotated[int, Form(ge=1, le=500)] = 20,
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
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"upload larger than {MAX_UPLOAD_BYTES} bytes")
        if not data:
            raise HTTPException(422, "the uploaded file is empty")
        kwargs["image_bytes"] = data
    elif path is not None:
        try:
            kwargs["image_path"] = resolve_inside(engine.settings.photos_dir, path)
        except OutsideLibrary as exc:
            raise HTTPException(403, str(exc)) from exc
        if not kwargs["image_path"].is_file():
            raise HTTPException(404, f"no file {path!r} in the library")
    else:
        kwargs["photo_id"] = photo_id
    filters = SearchFilters.of(date_from=date_from, date_to=date_to, cameras=_csv(cameras), places=_csv(places),
                               person_ids=_ids(person_ids), album_ids=_ids(album_ids), formats=_csv(formats))
    if multi_model:
        result = await run_in_threadpool(engine.search.multi_image, models=_csv(models), top_k=top_k,
                                         threshold=threshold, filters=filters, k=rrf_k, **kwargs)
    else:
        result = await run_in_threadpool(
            engine.search.image, model=model or engine.settings.clip_model, top_k=top_k, threshold=threshold,
            filters=filters, **kwargs,
        )
    return to_response(result)
