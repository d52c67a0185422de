"""FastAPI dependencies: the engine instance the server opened at start."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, UploadFile

from engine.app import PhotoIndex


def get_engine(request: Request) -> PhotoIndex:
    return request.app.state.engine


Engine = Annotated[PhotoIndex, Depends(get_engine)]

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


async def read_upload(file: UploadFile) -> bytes:
    """The uploaded picture's bytes: 413 past MAX_UPLOAD_BYTES, 422 when empty."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"upload larger than {MAX_UPLOAD_BYTES} bytes")
    if not data:
        raise HTTPException(422, "the uploaded file is empty")
    return data
