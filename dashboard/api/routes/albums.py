"""Albums: /albums CRUD, photos in and out, covers."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from dashboard.api.deps import Engine
from dashboard.api.schemas.library import (AlbumCreate, AlbumDetailOut, AlbumListOut, AlbumOut, AlbumPhotosRequest,
                                           AlbumPhotosResponse, AlbumUpdate)

router = APIRouter(prefix="/albums", tags=["albums"])


@router.get("", response_model=AlbumListOut)
def list_albums(engine: Engine, search: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0) -> AlbumListOut:
    """Albums most recently changed first; `search` is part of a name."""
    albums = engine.library.albums
    return AlbumListOut(items=[AlbumOut.model_validate(a) for a in albums.list(search, limit, offset)],
                        total=albums.count(search), limit=limit, offset=offset)


@router.post("", response_model=AlbumOut, status_code=201)
def create_album(body: AlbumCreate, engine: Engine) -> AlbumOut:
    return AlbumOut.model_validate(engine.library.albums.create(body.name, body.description, body.photo_ids))


@router.get("/{album_id}", response_model=AlbumDetailOut)
def get_album(album_id: int, engine: Engine, limit: Annotated[int, Query(ge=1, le=5000)] = 500,
              offset: Annotated[int, Query(ge=0)] = 0) -> AlbumDetailOut:
    album = engine.library.albums.get(album_id)
    return AlbumDetailOut.model_validate({**vars(album), "photos": engine.library.albums.photos(album_id, limit, offset)})


@router.put("/{album_id}", response_model=AlbumOut)
def update_album(album_id: int, body: AlbumUpdate, engine: Engine) -> AlbumOut:
    return AlbumOut.model_validate(engine.library.albums.update(album_id, name=body.name, description=body.description,
                                                  cover_photo_id=body.cover_photo_id, clear_cover=body.clear_cover))


@router.delete("/{album_id}", status_code=204, response_class=Response)
def delete_album(album_id: int, engine: Engine) -> Response:
    """The album goes; its photos stay in the library."""
    engine.library.albums.delete(album_id)
    return Response(status_code=204)


@router.post("/{album_id}/photos", response_model=AlbumPhotosResponse)
def add_photos(album_id: int, body: AlbumPhotosRequest, engine: Engine) -> AlbumPhotosResponse:
    added = engine.library.albums.add(album_id, body.photo_ids)
    return AlbumPhotosResponse(album_id=album_id, changed=added, photo_count=engine.library.albums.get(album_id).photo_count)


@router.delete("/{album_id}/photos", response_model=AlbumPhotosResponse)
def remove_photos(album_id: int, body: AlbumPhotosRequest, engine: Engine) -> AlbumPhotosResponse:
    removed = engine.library.albums.remove(album_id, body.photo_ids)
    return AlbumPhotosResponse(album_id=album_id, changed=removed, photo_count=engine.library.albums.get(album_id).photo_count)
