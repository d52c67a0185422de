"""Albums: /albums CRUD, photos in and out, covers."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from dashboard.api.deps import Engine
from dashboard.api.library_errors import LibraryRoute
from dashboard.api.library_schemas import (AlbumCreate, AlbumDetailOut, AlbumOut, AlbumPhotoOut, AlbumPhotosRequest,
                                           AlbumPhotosResponse, AlbumUpdate)
from engine.library.albums import Album

router = APIRouter(prefix="/albums", tags=["albums"], route_class=LibraryRoute)


def album_out(a: Album) -> AlbumOut:
    return AlbumOut(id=a.id, name=a.name, description=a.description, photo_count=a.photo_count,
                    cover_photo_id=a.cover_photo_id,
                    cover_url=f"/image/{a.cover_photo_id}/thumb" if a.cover_photo_id else None,
                    created_at=a.created_at, updated_at=a.updated_at)


@router.get("", response_model=list[AlbumOut])
def list_albums(engine: Engine, search: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0) -> list[AlbumOut]:
    return [album_out(a) for a in engine.library.albums.list(search, limit, offset)]


@router.post("", response_model=AlbumOut, status_code=201)
def create_album(body: AlbumCreate, engine: Engine) -> AlbumOut:
    return album_out(engine.library.albums.create(body.name, body.description, body.photo_ids))


@router.get("/{album_id}", response_model=AlbumDetailOut)
def get_album(album_id: int, engine: Engine, limit: Annotated[int, Query(ge=1, le=5000)] = 500,
              offset: Annotated[int, Query(ge=0)] = 0) -> AlbumDetailOut:
    album = engine.library.albums.get(album_id)
    photos = engine.library.albums.photos(album_id, limit, offset)
    return AlbumDetailOut(**album_out(album).model_dump(), photos=[
        AlbumPhotoOut(id=p.id, path=p.path, format=p.format, width=p.width, height=p.height, taken_at=p.taken_at,
                      added_at=p.added_at, thumbnail_url=f"/image/{p.id}/thumb") for p in photos])


@router.put("/{album_id}", response_model=AlbumOut)
def update_album(album_id: int, body: AlbumUpdate, engine: Engine) -> AlbumOut:
    return album_out(engine.library.albums.update(album_id, name=body.name, description=body.description,
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
