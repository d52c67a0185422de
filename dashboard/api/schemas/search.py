"""Search: the metadata filters every search takes, text search requests, hits."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field, field_validator

from dashboard.api.schemas.common import Out, PhotoLinks, example, renamed
from engine.search.filters import SearchFilters
from engine.search.service import FUSED
from engine.search.service_types import SearchResult

MAX_OFFSET = 5000
"""The deepest page a search goes to (each page ranks `offset + top_k` hits)."""


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
    model_config = example(
        {"query": "кошка на диване", "top_k": 10},
        {"query": "Таня в горах", "top_k": 20, "offset": 20, "date_from": "2023-06-01", "places": ["Sochi"],
         "multi_model": True})
    query: str = Field(min_length=1, max_length=1000)
    top_k: int = Field(20, ge=1, le=500, description="Hits per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Hits skipped (paging: the previous answer's `next_offset`).")
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="Minimum cosine similarity; none by default.")
    formats: list[str] | None = Field(None, description='e.g. ["JPG", "HEIC", "RAW"] or stored names like "nef".')
    model: str | None = Field(None, description="Registry name; default CLIP_MODEL.")
    multi_model: bool = Field(False, description="Rank with every indexed model and fuse with Reciprocal Rank Fusion.")
    models: list[str] | None = Field(None, description="With multi_model: only these models (default: all indexed).")
    rrf_k: float | None = Field(None, gt=0, le=10_000, description="RRF constant; default RRF_K (60).")
    weights: dict[str, float] | None = Field(None, description='Per-model RRF weights, e.g. {"SigLIP": 2}.')
    translate: bool | None = Field(None, description="Translate the query to English first (falls back to the original); "
                                                   "default: on when TRANSLATE_API_KEY is set.")
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
    model_config = example({
        "model": "SigLIP", "query": "cat on a sofa", "count": 1, "multi_model": False, "offset": 0, "next_offset": 1,
        "results": [{"id": 42, "path": "2023/06/IMG_0042.HEIC", "score": 0.312, "format": "heic",
                     "taken_at": "2023-06-14T18:03:11", "width": 4032, "height": 3024,
                     "thumbnail_url": "/image/42/thumb", "full_url": "/image/42/full"}],
        "models": ["SigLIP"], "notes": [], "persons": [], "filters": {}})
    model: str
    query: str | None = None
    results: list[SearchHitOut] = Field(validation_alias=renamed("results", "hits"))
    models: list[str] = Field(default_factory=list, description="The models that ranked (several when fused).")
    rrf_k: float | None = None
    translated_query: str | None = Field(None, description="What was embedded, when it differs from the query.")
    notes: list[str] = Field(default_factory=list, description="Fallbacks and decisions, e.g. translation skipped.")
    persons: list[DetectedPersonOut] = Field(default_factory=list, description="Person names found in the query.")
    filters: dict[str, Any] = Field(default_factory=dict, description="The metadata filters applied.")
    offset: int = Field(0, description="Hits skipped before `results[0]` (its rank is offset + 1).")
    next_offset: int | None = Field(None, description="The `offset` of the next page; null when there is none.")

    @classmethod
    def page(cls, result: SearchResult, offset: int, top_k: int) -> "SearchResponse":
        """Hits `offset + 1 … offset + top_k` of a search ranked `offset + top_k + 1` deep (the extra
        one says whether a next page exists)."""
        out = cls.model_validate(replace(result, hits=result.hits[offset:offset + top_k]))
        out.offset = offset
        out.next_offset = offset + top_k if len(result.hits) > offset + top_k else None
        return out

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def multi_model(self) -> bool:
        return self.model == FUSED
