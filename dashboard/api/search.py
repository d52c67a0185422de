"""Image-text search: /search/text and /search/image."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas import SearchHitOut, SearchResponse, TextSearchRequest
from engine.library.paths import OutsideLibrary, resolve_inside
from engine.search.service import SearchResult

router = APIRouter(prefix="/search", tags=["search"])

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def to_response(result: SearchResult) -> SearchResponse:
    hits = [
        SearchHitOut(id=h.id, path=h.path, score=round(h.score, 6), format=h.format, taken_at=h.taken_at,
                     width=h.width, height=h.height, thumbnail_url=h.thumbnail_url, full_url=f"/image/{h.id}/full")
        for h in result.hits
    ]
    return SearchResponse(model=result.model, query=result.query, count=len(hits), results=hits)


@router.post("/text", response_model=SearchResponse)
async def search_text(body: TextSearchRequest, engine: Engine) -> SearchResponse:
    result = await run_in_threadpool(
        engine.search.text, body.query, model=body.model or engine.settings.clip_model, top_k=body.top_k,
        threshold=body.threshold, formats=body.formats,
    )
    return to_response(result)


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
    format_list = [f.strip() for f in formats.split(",") if f.strip()] if formats else None
    result = await run_in_threadpool(
        engine.search.image, model=model or engine.settings.clip_model, top_k=top_k, threshold=threshold,
        formats=format_list, **kwargs,
    )
    return to_response(result)
