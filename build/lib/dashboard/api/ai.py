"""The AI assistant: /ai/clip-prompt, /ai/search-assistant, /ai/assistant (map filters).

Gemini answers when GEMINI_API_KEY is set, the offline parser otherwise; `source` and `notes`
say which and why.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas import MetadataFilters, SearchResponse
from dashboard.api.search import to_response
from engine.assistant.parser import ParsedQuery

router = APIRouter(prefix="/ai", tags=["assistant"])


class AssistantRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000, description='e.g. "Саша в Камбодже прошлым летом".')
    today: date | None = Field(None, description="Resolve relative dates against this day (default: today).")
    use_gemini: bool = Field(True, description="Ask Gemini when a key is set; false = the offline parser.")


class SearchAssistantRequest(AssistantRequest, MetadataFilters):
    top_k: int = Field(20, ge=1, le=500)
    threshold: float | None = Field(None, ge=-1.0, le=1.0)
    multi_model: bool = Field(True, description="Fuse every indexed model (RRF); false = one model.")
    model: str | None = None
    models: list[str] | None = None
    translate: bool = Field(True, description="Translate what is left of the query to English when possible.")


class NamedOut(BaseModel):
    id: int
    name: str


class ParsedOut(BaseModel):
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

    @classmethod
    def of(cls, p: ParsedQuery) -> "ParsedOut":
        return cls(query=p.query, persons=[NamedOut(id=x.id, name=x.name) for x in p.persons],
                   albums=[NamedOut(id=x.id, name=x.name) for x in p.albums], places=list(p.places),
                   date_from=p.date_from, date_to=p.date_to, formats=list(p.formats), cameras=list(p.cameras),
                   source=p.source, notes=list(p.notes))


class ClipPromptOut(BaseModel):
    query: str
    prompt: str
    source: str
    notes: list[str]


class SearchAssistantOut(BaseModel):
    parsed: ParsedOut
    search: SearchResponse


class MapPointOut(BaseModel):
    id: int
    latitude: float
    longitude: float
    taken_at: datetime | None
    place: str | None
    thumbnail_url: str


class MapAssistantOut(BaseModel):
    parsed: ParsedOut
    filters: dict[str, Any]
    total: int
    points: list[MapPointOut]


@router.post("/clip-prompt", response_model=ClipPromptOut)
async def clip_prompt(body: AssistantRequest, engine: Engine) -> ClipPromptOut:
    answer = await run_in_threadpool(engine.assistant.clip_prompt, body.query)
    return ClipPromptOut(query=body.query, prompt=answer.prompt, source=answer.source, notes=list(answer.notes))


@router.post("/search-assistant", response_model=SearchAssistantOut)
async def search_assistant(body: SearchAssistantRequest, engine: Engine) -> SearchAssistantOut:
    extra = body.to_filters()
    answer = await run_in_threadpool(
        engine.assistant.run, body.query, top_k=body.top_k, threshold=body.threshold, multi_model=body.multi_model,
        model=body.model, models=body.models, translate=body.translate, extra=None if extra.empty else extra,
        today=body.today, use_gemini=body.use_gemini)
    return SearchAssistantOut(parsed=ParsedOut.of(answer.parsed), search=to_response(answer.result))


@router.post("/assistant", response_model=MapAssistantOut)
async def map_assistant(body: AssistantRequest, engine: Engine) -> MapAssistantOut:
    answer = await run_in_threadpool(engine.assistant.map_filters, body.query, today=body.today,
                                     use_gemini=body.use_gemini)
    points = [MapPointOut(id=p.id, latitude=p.latitude, longitude=p.longitude, taken_at=p.taken_at, place=p.place,
                          thumbnail_url=p.thumbnail_url) for p in answer.points]
    return MapAssistantOut(parsed=ParsedOut.of(answer.parsed), filters=answer.parsed.filters().describe(),
                           total=answer.total, points=points)
