"""Result types of search, shared by the single-model search, fusion and the assistant."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    id: int
    path: str
    score: float
    format: str
    taken_at: datetime | None
    width: int | None
    height: int | None
    model_scores: dict[str, float] | None = None
    """Fused search: each model's cosine similarity for this photo (models that found it)."""
    model_ranks: dict[str, int] | None = None


@dataclass(frozen=True)
class DetectedPerson:
    id: int
    name: str
    matched: str
    """The words of the query that named this person."""


@dataclass(frozen=True)
class SearchResult:
    model: str
    """The model, or "rrf" for a fused multi-model search."""
    hits: list[SearchHit]
    query: str | None = None
    models: tuple[str, ...] = ()
    """The models ranked (one for a single-model search)."""
    translated_query: str | None = None
    """What was embedded, when translation or name resolution changed the query."""
    notes: tuple[str, ...] = ()
    """Things the caller should know: translation skipped, models left out, names turned into filters."""
    persons: tuple[DetectedPerson, ...] = ()
    filters: dict[str, Any] = field(default_factory=dict)
    rrf_k: float | None = None
