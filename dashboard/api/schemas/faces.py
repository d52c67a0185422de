"""Faces and persons: detected faces, search by face, persons and their photos, suggested people."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, computed_field, field_validator, model_validator

from dashboard.api.schemas.common import Out, Page, PhotoLinks, example, photo_url, renamed


class FaceOut(Out):
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
    suggestion_id: int | None = Field(validation_alias=renamed("suggestion_id", "cluster_id"))

    @field_validator("det_score")
    @classmethod
    def _score(cls, value: float) -> float:
        return round(value, 4)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str:
        return photo_url(self.photo_id)


class PhotoFacesOut(BaseModel):
    photo_id: int
    rotation: int
    faces: list[FaceOut]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.faces)


class PhotoFacesReindexRequest(BaseModel):
    model_config = example({"det_threshold": 0.3, "hd": True})
    det_threshold: float | None = Field(None, gt=0.0, lt=1.0, description="This photo's detection threshold; default FACE_DET_THRESHOLD.")
    hd: bool = Field(False, description="Detector input FACE_DET_SIZE_HD (1280) instead of FACE_DET_SIZE (640), for small faces.")


class AssignRequest(BaseModel):
    model_config = example({"person_id": 3}, {"name": "Таня", "description": "Моя сестра"})
    person_id: int | None = Field(None, description="An existing person; or give `name` to create one.")
    name: str | None = Field(None, min_length=1, max_length=200, description="Name of a new person for this face.")
    description: str | None = Field(None, max_length=2000)


class QueryFaceOut(Out):
    index: int = Field(0, description="Which face of the picture, largest first.")
    bbox: list[float]
    det_score: float
    age: int | None
    gender: str | None

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: list[float]) -> list[float]:
        return [round(v, 2) for v in value]

    @field_validator("det_score")
    @classmethod
    def _score(cls, value: float) -> float:
        return round(value, 4)


class FaceHitOut(PhotoLinks):
    id: int = Field(validation_alias=renamed("id", "face", "photo_id"), exclude=True)
    score: float
    face: FaceOut
    photo_id: int = Field(validation_alias=renamed("photo_id", "face", "photo_id"))
    path: str = Field(validation_alias=renamed("path", "face", "path"))

    @field_validator("score")
    @classmethod
    def _score(cls, value: float) -> float:
        return round(value, 6)


class FaceSearchOut(Out):
    query_faces: list[QueryFaceOut]
    chosen: int | None
    results: list[FaceHitOut] = Field(validation_alias=renamed("results", "hits"))

    @model_validator(mode="after")
    def _number_faces(self) -> "FaceSearchOut":
        for i, face in enumerate(self.query_faces):
            face.index = i
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.results)


class PersonClipRequest(BaseModel):
    model_config = example({"person_id": 1, "query": "в горах", "top_k": 20})
    query: str = Field(min_length=1, max_length=1000, description='e.g. "in the mountains"')
    person_id: int | None = Field(None, description="One person; or `person_ids` for photos with all of them.")
    person_ids: list[int] | None = None
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0)
    model: str | None = Field(None, description="Image-text registry name; default CLIP_MODEL.")


ALIASES_DOC = 'Other names the person is found by: diminutives, full names, other spellings ("Саша", "Sasha").'


class PersonCreate(BaseModel):
    model_config = example({"name": "Таня", "description": "Моя сестра", "aliases": ["Танечка", "Tanya"]})
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    aliases: list[str] | None = Field(None, max_length=20, description=ALIASES_DOC)


class PersonUpdate(BaseModel):
    model_config = example({"name": "Татьяна", "aliases": ["Таня"]})
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000, description="null clears it; leave out to keep it.")
    aliases: list[str] | None = Field(None, max_length=20, description=ALIASES_DOC + " A list replaces them; [] clears.")
    cover_face_id: int | None = Field(None, description="One of the person's faces; null = the best-scored face.")


class PersonOut(Out):
    id: int
    name: str
    aliases: list[str] = Field(description=ALIASES_DOC)
    description: str | None
    cover_face_id: int | None
    face_count: int
    photo_count: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cover_url(self) -> str | None:
        return None if self.cover_face_id is None else f"/faces/{self.cover_face_id}"


class PersonDetailOut(PersonOut):
    cover_face: FaceOut | None
    faces: list[FaceOut] = Field(description="The best-scored faces (at most `faces_limit`).")


class PersonListOut(Page[PersonOut]):
    pass


class PersonPhotoOut(PhotoLinks):
    path: str
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None
    face_ids: list[int]


class PersonPhotosOut(Page[PersonPhotoOut]):
    person_ids: list[int]


class AutoAssignRequest(BaseModel):
    model_config = example({"threshold": 0.5, "dry_run": True})
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="Cosine similarity; default FACE_ASSIGN_THRESHOLD.")
    dry_run: bool = Field(True, description="Only report what would be assigned.")


class AutoAssignCandidateOut(Out):
    face_id: int
    photo_id: int
    similarity: float

    @field_validator("similarity")
    @classmethod
    def _similarity(cls, value: float) -> float:
        return round(value, 6)


class AutoAssignOut(Out):
    person_id: int
    threshold: float
    dry_run: bool
    assigned: int
    rounds: int = Field(description="Rounds until no new face came (faces found are searched from in turn).")
    more: int = Field(description="Faces one more round would add; 0 at a fixed point.")
    closer_elsewhere: int = Field(description="Similar faces left out because another person's faces are nearer.")
    candidates: list[AutoAssignCandidateOut]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.candidates)


class SuggestionOut(Out):
    id: int
    face_count: int
    photo_count: int
    sample_faces: list[FaceOut]


class SuggestionListOut(Page[SuggestionOut]):
    pass


class SuggestionUpdateRequest(BaseModel):
    model_config = example({"min_similarity": 0.45, "min_faces": 3})
    min_similarity: float | None = Field(None, gt=0.0, lt=1.0)
    min_faces: int | None = Field(None, ge=2)


class SuggestionNameRequest(BaseModel):
    model_config = example({"name": "Борис"}, {"person_id": 3})
    name: str | None = Field(None, min_length=1, max_length=200, description="A new person; or `person_id`.")
    person_id: int | None = None


class SuggestionReportOut(Out):
    considered: int
    joined_existing: int
    new_suggestions: int
    clustered: int


class FaceByIdRequest(BaseModel):
    model_config = example({"top_k": 20, "threshold": 0.4})
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="Minimum cosine similarity.")


class FaceReindexRequest(BaseModel):
    model_config = example({"skip_indexed": True, "batch_size": 8})
    skip_indexed: bool = Field(True, description="Only photos not yet searched for faces; false re-detects all.")
    batch_size: int | None = Field(None, ge=1, le=512, description="Photos per model batch; default FACE_BATCH_SIZE.")
    suggest: bool = Field(True, description="Group unassigned faces into suggested people afterwards.")
