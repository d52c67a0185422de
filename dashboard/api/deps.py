"""FastAPI dependencies: the engine instance the server opened at start, a stored photo, an upload."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, UploadFile

from engine.app import PhotoIndex
from engine.db.photos import Photo
from engine.search.service import PhotoNotFound


def get_engine(request: Request) -> PhotoIndex:
    return request.app.state.engine


Engine = Annotated[PhotoIndex, Depends(get_engine)]


def require_photo(engine: PhotoIndex, photo_id: int) -> Photo:
    photo = engine.photo(photo_id)
    if photo is None:
        raise PhotoNotFound(f"no photo with id {photo_id}")
    return photo


def _stored_photo(photo_id: int, engine: Engine) -> Photo:
    return require_photo(engine, photo_id)


StoredPhoto = Annotated[Photo, Depends(_stored_photo)]
"""The photo of the path's `photo_id` (404 when there is none)."""

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


async def read_upload(file: UploadFile) -> bytes:
    """The uploaded picture's bytes: 413 past MAX_UPLOAD_BYTES, 422 when empty."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"upload larger than {MAX_UPLOAD_BYTES} bytes")
    if not data:
        raise HTTPException(422, "the uploaded file is empty")
    return data
