"""Search: the metadata filters every search takes, text search requests, hits."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field, field_validator

from dashboard.api.schemas.common import Out, PhotoLinks, renamed
from engine.search.filters import SearchFilters
from engine.search.service import FUSED


class MetadataFilters(BaseModel):
    """B3: every search narrows by these (all optional, AND-ed)."""
    date_from: date | datetime | None = Field(None, description="Taken on or after (a date counts from its start).")
    date_to: date | datetime | None = Field(None, description="Taken on or before (a date counts to its end).")
    cameras: list[str] | None = Field(None, description='Part of the camera name, any of them, e.g. ["iPhone"].')
    places: list[str] | None = Field(None, description="Country, region or city (reverse-geocoded GPS), any of them.")
    person_ids: list[int] | None = Field(None, description="Every one of these persons is in the photo.")
    album_ids: list[int] | None = Field(None, description="The photo is in any of these albums.")

    def to_filters(self, formats: list[str] | None = None) -> SearchFilters:
        return SearchFilters.of(date_from=self.date_from, date_to=self.date_to, cameras=self.cameras,
                                places=self.places, person_ids=self.person_ids, album_ids=self.album_ids,
                                formats=formats)


class TextSearchRequest(MetadataFilters):
    query: str = Field(min_length=1, max_length=1000)
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="Minimum cosine similarity; none by default.")
    formats: list[str] | None = Field(None, description='e.g. ["JPG", "HEIC", "RAW"] or stored names like "nef".')
    model: str | None = Field(None, description="Registry name; default CLIP_MODEL.")
    multi_model: bool = Field(False, description="Rank with every indexed model and fuse with Reciprocal Rank Fusion.")
    models: list[str] | None = Field(None, description="With multi_model: only these models (default: all indexed).")
    rrf_k: float | None = Field(None, gt=0, le=10_000, description="RRF constant; default RRF_K (60).")
    weights: dict[str, float] | None = Field(None, description='Per-model RRF weights, e.g. {"SigLIP": 2}.')
    translate: bool = Field(False, description="Translate the query to English first (falls back to the original).")
    resolve_persons: bool = Field(True, description="Known person names in the query become a person filter.")


class SearchHitOut(PhotoLinks):
    path: str
    score: float
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None
    model_scores: dict[str, float] | None = Field(None, description="Fused search: each model's cosine score.")
    model_ranks: dict[str, int] | None = None

    @field_validator("score")
    @classmethod
    def _score(cls, value: float) -> float:
        return round(value, 6)

    @field_validator("model_scores")
    @classmethod
    def _scores(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return {k: round(v, 6) for k, v in value.items()} if value else None


class DetectedPersonOut(Out):
    id: int
    name: str
    matched: str


class SearchResponse(Out):
    model: str
    query: str | None = None
    results: list[SearchHitOut] = Field(validation_alias=renamed("results", "hits"))
    models: list[str] = Field(default_factory=list, description="The models that ranked (several when fused).")
    rrf_k: float | None = None
    translated_query: str | None = Field(None, description="What was embedded, when it differs from the query.")
    notes: list[str] = Field(default_factory=list, description="Fallbacks and decisions, e.g. translation skipped.")
    persons: list[DetectedPersonOut] = Field(default_factory=list, description="Person names found in the query.")
    filters: dict[str, Any] = Field(default_factory=dict, description="The metadata filters applied.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def multi_model(self) -> bool:
        return self.model == FUSED
