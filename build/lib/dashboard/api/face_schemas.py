"""Request and response models of the faces and persons endpoints."""
from __future__ import annotations

from datetime import datetime
from pydantic import BaseModel, Field

from engine.faces.model import DetectedFace
from engine.faces.records import Face, Person


class FaceOut(BaseModel):
    id: int
    photo_id: int
    path: str
    bbox: list[float] = Field(description="x1, y1, x2, y2 in the photo as displayed (user rotation applied).")
    landmarks: list[list[float]] = Field(description="Five points (eyes, nose, mouth corners), as displayed.")
    bbox_original: list[float] = Field(description="As stored: the photo before the user rotation.")
    image_width: int | None
    image_height: int | None
    rotation: int
    det_score: float
    age: int | None
    gender: str | None = Field(description='"M", "F", or null when the model pack has no genderage model.')
    person_id: int | None
    person_name: str | None
    assigned_by: str | None
    suggestion_id: int | None
    thumbnail_url: str

    @classmethod
    def of(cls, f: Face) -> "FaceOut":
        return cls(id=f.id, photo_id=f.photo_id, path=f.path, bbox=list(f.bbox), landmarks=f.landmarks,
                   bbox_original=list(f.bbox_original), image_width=f.image_width, image_height=f.image_height,
                   rotation=f.rotation, det_score=round(f.det_score, 4), age=f.age, gender=f.gender,
                   person_id=f.person_id, person_name=f.person_name, assigned_by=f.assigned_by,
                   suggestion_id=f.cluster_id, thumbnail_url=f"/image/{f.photo_id}/thumb")


class PhotoFacesOut(BaseModel):
    photo_id: int
    rotation: int
    count: int
    faces: list[FaceOut]


class PhotoFacesReindexRequest(BaseModel):
    det_threshold: float | None = Field(None, gt=0.0, lt=1.0, description="This photo's detection threshold; default FACE_DET_THRESHOLD.")
    hd: bool = Field(False, description="Detector input FACE_DET_SIZE_HD (1280) instead of FACE_DET_SIZE (640), for small faces.")


class FaceStatsOut(BaseModel):
    total_faces: int
    assigned_faces: int
    unassigned_faces: int
    photos_with_faces: int
    photos_indexed: int
    photos_pending: int
    persons: int
    suggestions: int
    model: str
    model_dir: str | None
    model_available: bool
    model_loaded: bool
    model_error: str | None


class AssignRequest(BaseModel):
    person_id: int | None = Field(None, description="An existing person; or give `name` to create one.")
    name: str | None = Field(None, min_length=1, max_length=200, description="Name of a new person for this face.")
    description: str | None = Field(None, max_length=2000)


class QueryFaceOut(BaseModel):
    index: int
    bbox: list[float]
    det_score: float
    age: int | None
    gender: str | None

    @classmethod
    def of(cls, index: int, f: DetectedFace) -> "QueryFaceOut":
        return cls(index=index, bbox=[round(v, 2) for v in f.bbox], det_score=round(f.det_score, 4), age=f.age,
                   gender=f.gender)


class FaceHitOut(BaseModel):
    score: float
    face: FaceOut
    photo_id: int
    path: str
    thumbnail_url: str
    full_url: str


class FaceSearchOut(BaseModel):
    query_faces: list[QueryFaceOut]
    chosen: int | None
    count: int
    results: list[FaceHitOut]


class PersonClipRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000, description='e.g. "in the mountains"')
    person_id: int | None = Field(None, description="One person; or `person_ids` for photos with all of them.")
    person_ids: list[int] | None = None
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0)
    model: str | None = Field(None, description="Image-text registry name; default CLIP_MODEL.")


class PersonCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class PersonUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000, description="null clears it; leave out to keep it.")
    cover_face_id: int | None = Field(None, description="One of the person's faces; null = the best-scored face.")


class PersonOut(BaseModel):
    id: int
    name: str
    description: str | None
    cover_face_id: int | None
    face_count: int
    photo_count: int
    created_at: datetime
    updated_at: datetime
    cover_url: str | None

    @classmethod
    def of(cls, p: Person) -> "PersonOut":
        return cls(id=p.id, name=p.name, description=p.description, cover_face_id=p.cover_face_id,
                   face_count=p.face_count, photo_count=p.photo_count, created_at=p.created_at,
                   updated_at=p.updated_at, cover_url=None)


class PersonDetailOut(PersonOut):
    cover_face: FaceOut | None
    faces: list[FaceOut] = Field(description="The best-scored faces (at most `faces_limit`).")


class PersonListOut(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[PersonOut]


class PersonPhotoOut(BaseModel):
    id: int
    path: str
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None
    face_ids: list[int]
    thumbnail_url: str
    full_url: str


class PersonPhotosOut(BaseModel):
    person_ids: list[int]
    total: int
    limit: int
    offset: int
    items: list[PersonPhotoOut]


class AutoAssignRequest(BaseModel):
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="Cosine similarity; default FACE_ASSIGN_THRESHOLD.")
    dry_run: bool = Field(True, description="Only report what would be assigned.")


class AutoAssignCandidateOut(BaseModel):
    face_id: int
    photo_id: int
    similarity: float


class AutoAssignOut(BaseModel):
    person_id: int
    threshold: float
    dry_run: bool
    count: int
    assigned: int
    candidates: list[AutoAssignCandidateOut]


class SuggestionOut(BaseModel):
    id: int
    face_count: int
    sample_faces: list[FaceOut]


class SuggestionUpdateRequest(BaseModel):
    min_similarity: float | None = Field(None, gt=0.0, lt=1.0)
    min_faces: int | None = Field(None, ge=2)


class SuggestionNameRequest(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200, description="A new person; or `person_id`.")
    person_id: int | None = None


class SuggestionReportOut(BaseModel):
    considered: int
    joined_existing: int
    new_suggestions: int
    clustered: int


class FaceReindexRequest(BaseModel):
    skip_indexed: bool = Field(True, description="Only photos not yet searched for faces; false re-detects all.")
    batch_size: int | None = Field(None, ge=1, le=512, description="Photos per model batch; default FACE_BATCH_SIZE.")
    suggest: bool = Field(True, description="Group unassigned faces into suggested people afterwards.")
