"""Faces: /faces/reindex (+status), /faces/stats, /photo/{id}/faces, /faces/{id}/assign,
/search/face, /search/face/by_id/{id}, /search/person-clip, and suggested people."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine, read_upload
from dashboard.api.schemas.common import JobOut, ReindexStatus
from dashboard.api.schemas.faces import (AssignRequest, FaceByIdRequest, FaceOut, FaceReindexRequest, FaceSearchOut,
                                         PersonClipRequest, PersonOut, PhotoFacesOut, PhotoFacesReindexRequest,
                                         SuggestionListOut, SuggestionNameRequest, SuggestionOut, SuggestionReportOut,
                                         SuggestionUpdateRequest)
from dashboard.api.schemas.search import SearchResponse
from engine.faces.errors import FaceNotFound
from engine.faces.records import Face
from engine.faces.service import JOB_KIND, FaceStats

router = APIRouter(tags=["faces"])


def _photo_faces(engine: Engine, photo_id: int, faces: list[Face]) -> PhotoFacesOut:
    rotation = faces[0].rotation if faces else getattr(engine.photo(photo_id), "rotation", 0)
    return PhotoFacesOut(photo_id=photo_id, rotation=rotation, faces=faces)


@router.post("/faces/reindex", response_model=JobOut, status_code=202)
def faces_reindex(
    engine: Engine,
    body: FaceReindexRequest | None = None,
    skip_indexed: Annotated[bool | None, Query(description="As in the body; the original API's query form.")] = None,
    batch_size: Annotated[int | None, Query(ge=1, le=512, description="As in the body (query form).")] = None,
) -> JobOut:
    """Find faces in the library in the background (resumable); then refresh suggested people.
    The settings come in the JSON body or, as the original's clients send them, in the query string."""
    body = body or FaceReindexRequest()
    query = {k: v for k, v in {"skip_indexed": skip_indexed, "batch_size": batch_size}.items() if v is not None}
    body = body.model_copy(update=query)
    return JobOut.model_validate(engine.faces.start_index_job(engine.jobs, skip_indexed=body.skip_indexed,
                                                              batch_size=body.batch_size, cluster_after=body.suggest))


@router.get("/faces/reindex/status", response_model=ReindexStatus)
def faces_reindex_status(engine: Engine) -> ReindexStatus:
    latest = engine.jobs.latest(JOB_KIND)
    if latest is None:
        return ReindexStatus(running=False, job=None)
    return ReindexStatus(running=latest.active, job=latest)


@router.get("/faces/stats", response_model=FaceStats)
def faces_stats(engine: Engine) -> FaceStats:
    return engine.faces.stats()


@router.get("/photo/{photo_id}/faces", response_model=PhotoFacesOut)
def photo_faces(photo_id: int, engine: Engine) -> PhotoFacesOut:
    return _photo_faces(engine, photo_id, engine.faces.of_photo(photo_id))


@router.post("/photo/{photo_id}/faces/reindex", response_model=PhotoFacesOut)
async def photo_faces_reindex(photo_id: int, engine: Engine, body: PhotoFacesReindexRequest | None = None) -> PhotoFacesOut:
    """Detect this photo's faces again with its own threshold and/or HD input; matching faces keep their person."""
    body = body or PhotoFacesReindexRequest()
    faces = await run_in_threadpool(engine.faces.reindex_photo, photo_id, threshold=body.det_threshold, hd=body.hd)
    return _photo_faces(engine, photo_id, faces)


@router.post("/faces/{face_id}/assign", response_model=FaceOut)
def assign_face(face_id: int, body: AssignRequest, engine: Engine) -> FaceOut:
    """Give the face to `person_id`, or to a new person called `name`."""
    return FaceOut.model_validate(engine.faces.persons.assign(face_id, body.person_id, new_name=body.name,
                                                  description=body.description))


@router.delete("/faces/{face_id}/assign", response_model=FaceOut)
def unassign_face(face_id: int, engine: Engine) -> FaceOut:
    return FaceOut.model_validate(engine.faces.persons.unassign(face_id))


@router.post("/search/face", response_model=FaceSearchOut)
async def search_face(
    engine: Engine,
    file: Annotated[UploadFile, File(description="A picture with a face.")],
    face_index: Annotated[int | None, Form(ge=0, description="Which face, largest first; default the largest.")] = None,
    top_k: Annotated[int, Form(ge=1, le=500)] = 20,
    threshold: Annotated[float | None, Form(ge=-1.0, le=1.0, description="Minimum cosine similarity.")] = None,
) -> FaceSearchOut:
    """Photos with the person whose face is in the uploaded picture (best face per photo)."""
    data = await read_upload(file)
    result = await run_in_threadpool(engine.faces.search.by_picture, data, face_index=face_index, top_k=top_k,
                                     threshold=threshold)
    return FaceSearchOut.model_validate(result)


@router.get("/search/face/by_id/{face_id}", response_model=FaceSearchOut)
def search_face_by_id(
    face_id: int,
    engine: Engine,
    top_k: Annotated[int, Query(ge=1, le=500)] = 20,
    threshold: Annotated[float | None, Query(ge=-1.0, le=1.0)] = None,
) -> FaceSearchOut:
    """Photos with faces like this stored face (its own photo left out)."""
    return FaceSearchOut.model_validate(engine.faces.search.by_face(face_id, top_k=top_k, threshold=threshold))


@router.post("/search/face/by_id/{face_id}", response_model=FaceSearchOut)
def search_face_by_id_post(
    face_id: int,
    engine: Engine,
    body: FaceByIdRequest | None = None,
    top_k: Annotated[int | None, Query(ge=1, le=500)] = None,
    threshold: Annotated[float | None, Query(ge=-1.0, le=1.0)] = None,
) -> FaceSearchOut:
    """The original API's verb for the same search: settings in the JSON body or the query string."""
    body = body or FaceByIdRequest()
    return search_face_by_id(face_id, engine, top_k=top_k or body.top_k,
                             threshold=threshold if threshold is not None else body.threshold)


@router.post("/search/person-clip", response_model=SearchResponse)
async def search_person_clip(body: PersonClipRequest, engine: Engine) -> SearchResponse:
    """Photos containing the person (all `person_ids`), ranked by the image-text query."""
    ids = list(body.person_ids or []) + ([body.person_id] if body.person_id is not None else [])
    result = await run_in_threadpool(engine.faces.search.person_text, ids, body.query,
                                     model=body.model or engine.search.serving().name, top_k=body.top_k,
                                     threshold=body.threshold)
    return SearchResponse.model_validate(result)


@router.get("/faces/suggestions", response_model=SuggestionListOut)
def suggestions(engine: Engine, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0)] = 0) -> SuggestionListOut:
    """Groups of unassigned faces that look like one person, largest first."""
    clusters = engine.faces.clusters
    items = [SuggestionOut.model_validate(s) for s in clusters.suggestions(limit=limit, offset=offset)]
    return SuggestionListOut(items=items, total=clusters.count(), limit=limit, offset=offset)


@router.post("/faces/suggestions/update", response_model=SuggestionReportOut)
async def update_suggestions(engine: Engine, body: SuggestionUpdateRequest | None = None) -> SuggestionReportOut:
    """Group faces that are in no suggestion yet (new ones join the nearest existing group)."""
    body = body or SuggestionUpdateRequest()
    report = await run_in_threadpool(engine.faces.clusters.update, min_similarity=body.min_similarity,
                                     min_faces=body.min_faces)
    return SuggestionReportOut.model_validate(report)


@router.post("/faces/suggestions/recluster", response_model=SuggestionReportOut)
async def recluster_suggestions(engine: Engine, body: SuggestionUpdateRequest | None = None) -> SuggestionReportOut:
    """Start the suggestions over from every unassigned face (dismissed ones stay dismissed); one
    index query per face, so it takes a while on a big library."""
    body = body or SuggestionUpdateRequest()
    report = await run_in_threadpool(engine.faces.clusters.recluster, min_similarity=body.min_similarity,
                                     min_faces=body.min_faces)
    return SuggestionReportOut(**report.__dict__)


@router.post("/faces/suggestions/{suggestion_id}/name", response_model=PersonOut)
def name_suggestion(suggestion_id: int, body: SuggestionNameRequest, engine: Engine) -> PersonOut:
    return PersonOut.model_validate(engine.faces.clusters.name(suggestion_id, name=body.name, person_id=body.person_id))


@router.post("/faces/suggestions/{suggestion_id}/dismiss", status_code=204)
def dismiss_suggestion(suggestion_id: int, engine: Engine) -> None:
    engine.faces.clusters.dismiss(suggestion_id)


# after the fixed /faces/... paths, which this one would otherwise shadow
@router.get("/faces/{face_id}", response_model=FaceOut)
def face(face_id: int, engine: Engine) -> FaceOut:
    found = engine.faces.get(face_id)
    if found is None:
        raise FaceNotFound(f"no face with id {face_id}")
    return FaceOut.model_validate(found)
