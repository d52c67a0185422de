"""Persons: /persons (get, post), /persons/{id} (get, put, delete), /persons/{id}/merge/{target},
/persons/{id}/photos, /persons/{id}/auto-assign, /persons/together."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from dashboard.api.deps import Engine
from dashboard.api.schemas.faces import (AutoAssignOut, AutoAssignRequest, PersonCreate, PersonDetailOut,
                                         PersonListOut, PersonOut, PersonPhotosOut, PersonUpdate)

router = APIRouter(prefix="/persons", tags=["persons"])


def _photos(engine: Engine, ids: list[int], limit: int, offset: int) -> PersonPhotosOut:
    photos, total = engine.faces.search.photos_with(ids, limit=limit, offset=offset)
    return PersonPhotosOut(person_ids=sorted(set(ids)), total=total, limit=limit, offset=offset, items=photos)


@router.get("", response_model=PersonListOut)
def list_persons(
    engine: Engine,
    search: Annotated[str | None, Query(max_length=200, description="Part of a name, an alias or the description.")] = None,
    name: Annotated[str | None, Query(max_length=200, description=(
        'A whole name or alias in any case form: "Тане" and "Таней" find Таня (overrides `search`).'))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PersonListOut:
    if name is not None:
        found = engine.faces.persons.find(name)
        items, total = found[offset:offset + limit], len(found)
    else:
        items, total = engine.faces.persons.list(search, limit, offset)
    return PersonListOut(total=total, limit=limit, offset=offset, items=items)


@router.post("", response_model=PersonOut, status_code=201)
def create_person(body: PersonCreate, engine: Engine) -> PersonOut:
    return PersonOut.model_validate(engine.faces.persons.create(body.name, body.description, body.aliases))


@router.get("/together", response_model=PersonPhotosOut)
def persons_together(
    engine: Engine,
    ids: Annotated[list[int], Query(description="Person ids; photos showing all of them.")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PersonPhotosOut:
    return _photos(engine, ids, limit, offset)


@router.get("/{person_id}", response_model=PersonDetailOut)
def person(person_id: int, engine: Engine, faces_limit: Annotated[int, Query(ge=0, le=500)] = 24) -> PersonDetailOut:
    p = engine.faces.persons.get(person_id)
    faces = engine.faces.persons.faces(person_id, limit=faces_limit) if faces_limit else []
    cover = engine.faces.get(p.cover_face_id) if p.cover_face_id is not None else None
    return PersonDetailOut.model_validate({**vars(p), "cover_face": cover, "faces": faces})


@router.put("/{person_id}", response_model=PersonOut)
def update_person(person_id: int, body: PersonUpdate, engine: Engine) -> PersonOut:
    """Rename, describe, set the aliases, or choose the cover face; fields left out are kept."""
    given = {k: getattr(body, k) for k in body.model_fields_set}
    return PersonOut.model_validate(engine.faces.persons.update(person_id, **given))


@router.delete("/{person_id}", status_code=204, response_class=Response)
def delete_person(person_id: int, engine: Engine) -> Response:
    """The person is deleted; their faces stay, unassigned."""
    engine.faces.persons.delete(person_id)
    return Response(status_code=204)


@router.post("/{person_id}/merge/{target_id}", response_model=PersonOut)
def merge_persons(person_id: int, target_id: int, engine: Engine) -> PersonOut:
    """Move every face of `person_id` to `target_id` and delete `person_id`."""
    return PersonOut.model_validate(engine.faces.persons.merge(person_id, target_id))


@router.get("/{person_id}/photos", response_model=PersonPhotosOut)
def person_photos(
    person_id: int,
    engine: Engine,
    with_: Annotated[list[int] | None, Query(alias="with", description="Other persons who must also be in the photo.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PersonPhotosOut:
    return _photos(engine, [person_id, *(with_ or [])], limit, offset)


@router.post("/{person_id}/auto-assign", response_model=AutoAssignOut)
def auto_assign(
    person_id: int,
    engine: Engine,
    body: AutoAssignRequest | None = None,
    threshold: Annotated[float | None, Query(ge=-1.0, le=1.0, description="As in the body (query form).")] = None,
    dry_run: Annotated[bool | None, Query(description="As in the body (query form).")] = None,
) -> AutoAssignOut:
    """Give the person the unassigned faces similar to theirs; `dry_run` (default) only reports them."""
    body = (body or AutoAssignRequest()).model_copy(
        update={k: v for k, v in {"threshold": threshold, "dry_run": dry_run}.items() if v is not None})
    report = engine.faces.persons.auto_assign(person_id, body.threshold, dry_run=body.dry_run)
    return AutoAssignOut.model_validate(report)
