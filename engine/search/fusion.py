"""Reciprocal Rank Fusion of several rankings (one per image-text model).

score(photo) = sum over models m of weight_m / (k + rank_m(photo)), rank starting at 1; a photo a
model did not return adds nothing for that model. k = 60 is the value of Cormack et al. (2009).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from engine.errors import Invalid
from engine.search.service_types import SearchHit

DEFAULT_K = 60


def rrf(rankings: Mapping[str, Sequence[SearchHit]], *, k: float = DEFAULT_K,
        weights: Mapping[str, float] | None = None, top_k: int | None = None) -> list[SearchHit]:
    """Fused hits, best first; each carries its RRF score and every model's own cosine score."""
    if k <= 0:
        raise Invalid("the RRF constant k must be positive")
    weights = weights or {}
    fused: dict[int, float] = {}
    first: dict[int, SearchHit] = {}
    per_model: dict[int, dict[str, float]] = {}
    ranks: dict[int, dict[str, int]] = {}
    for model, hits in rankings.items():
        weight = float(weights.get(model, 1.0))
        if weight < 0:
            raise Invalid(f"the weight of {model} must not be negative")
        for rank, hit in enumerate(hits, start=1):
            fused[hit.id] = fused.get(hit.id, 0.0) + weight / (k + rank)
            first.setdefault(hit.id, hit)
            per_model.setdefault(hit.id, {})[model] = hit.score
            ranks.setdefault(hit.id, {})[model] = rank
    # ties: more models agreeing, then the better best rank, then the id (stable answers)
    order = sorted(fused, key=lambda i: (-fused[i], -len(ranks[i]), min(ranks[i].values()), i))
    if top_k is not None:
        order = order[:top_k]
    return [replace(first[i], score=fused[i], model_scores=per_model[i], model_ranks=ranks[i]) for i in order]
