"""Pictures the dashboard needs beyond the REST table: a face cropped out of its photo (person
covers), the thumbnail of a trashed photo (the Trash tab)."""
from __future__ import annotations

import io

from fastapi import APIRouter, Request, Response
from PIL import Image
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine, require_photo
from engine.faces.errors import FaceNotFound

router = APIRouter(prefix="/ui", tags=["dashboard"], include_in_schema=False)

CROP_SIDE = 256


def _crop(full: bytes, bbox: tuple[float, float, float, float], shown_w: int, margin: float = 0.35) -> bytes:
    image = Image.open(io.BytesIO(full))
    scale = image.width / shown_w if shown_w else 1.0
    x1, y1, x2, y2 = (v * scale for v in bbox)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    box = (int(max(0, cx - side / 2)), int(max(0, cy - side / 2)),
           int(min(image.width, cx + side / 2)), int(min(image.height, cy + side / 2)))
    crop = image.convert("RGB").crop(box)
    crop.thumbnail((CROP_SIDE, CROP_SIDE))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=88)
    return out.getvalue()


@router.get("/face/{face_id}.jpg", response_class=Response)
async def face_crop(face_id: int, request: Request, engine: Engine) -> Response:
    face = engine.faces.get(face_id)
    if face is None:
        raise FaceNotFound(f"no face with id {face_id}")
    photo = require_photo(engine, face.photo_id)
    version = photo.version
    etag = f'"face-{face.id}-{photo.rotation}-{version}-{",".join(map(str, face.bbox))}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=3600"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    full = await run_in_threadpool(engine.thumbnails.get_bytes, photo.id, engine.file_of(photo), photo.format, "full",
                                   photo.rotation, version)
    data = await run_in_threadpool(_crop, full, face.bbox, face.image_width or 0)
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get("/trash/{trash_id}/thumb", response_class=Response)
async def trash_thumb(trash_id: int, request: Request, engine: Engine) -> Response:
    item = await run_in_threadpool(engine.library.trash.preview, trash_id)  # TrashItemNotFound: 404
    etag = f'"trash-{trash_id}-{item.rotation}-{item.version}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = await run_in_threadpool(engine.thumbnails.get_bytes, item.photo_id, item.path, item.format, "thumb",
                                   item.rotation, item.version, item.root)
    return Response(data, media_type="image/jpeg", headers=headers)
