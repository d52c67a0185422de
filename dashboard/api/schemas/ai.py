"""The assistant: what a request was understood as, and its answers."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field

from dashboard.api.schemas.common import Out, example, photo_url, renamed
from dashboard.api.schemas.search import MetadataFilters, SearchResponse


class AssistantRequest(BaseModel):
    model_config = example({"query": "Саша в Камбодже прошлым летом"})
    query: str = Field(min_length=1, max_length=1000, description='e.g. "Саша в Камбодже прошлым летом".')
    today: date | None = Field(None, description="Resolve relative dates against this day (default: today).")
    use_gemini: bool = Field(True, description="Ask Gemini when a key is set; false = the offline parser.")


class SearchAssistantRequest(AssistantRequest, MetadataFilters):
    model_config = example({"query": "Таня в горах", "top_k": 20})
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0)
    multi_model: bool = Field(True, description="Fuse every indexed model (RRF); false = one model.")
    model: str | None = None
    models: list[str] | None = None
    translate: bool | None = Field(None, description="Translate what is left of the query to English; "
                                                   "default: on when TRANSLATE_API_KEY is set.")


class NamedOut(Out):
    id: int
    name: str


class ParsedOut(Out):
    query: str = Field(description="The image-text part of the request.")
    persons: list[NamedOut]
    albums: list[NamedOut]
    places: list[str]
    date_from: date | None
    date_to: date | None
    formats: list[str]
    cameras: list[str]
    source: str = Field(description='"gemini" or "offline".')
    notes: list[str]
    unknown_persons: list[str] = Field(description="Names in the request that are nobody's in the library.")


class ClipPromptOut(Out):
    query: str = Field(validation_alias=renamed("query", "text"))
    prompt: str
    source: str
    notes: list[str]


class SearchAssistantOut(Out):
    parsed: ParsedOut
    search: SearchResponse = Field(validation_alias=renamed("search", "result"))


class MapPointOut(Out):
    id: int
    latitude: float
    longitude: float
    taken_at: datetime | None
    place: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str:
        return photo_url(self.id)


class MapAssistantOut(Out):
    parsed: ParsedOut
    filters: dict[str, Any]
    total: int
    points: list[MapPointOut]
