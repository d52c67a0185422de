"""Search quality on the user's own photos: recall@k and reciprocal rank for labelled queries.

Labels map a query to the library-relative paths of the photos a person expects it to find. A
ranking is the list of paths a model returns for the query, best first, as deep as asked.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QueryQuality:
    query: str
    expected: tuple[str, ...]
    ranks: dict[str, int | None]
    """Each expected path's 1-based rank in the ranking, None when it is not in it."""
    k: int

    @property
    def recall(self) -> float:
        """The share of the expected photos in the first k."""
        return sum(r is not None and r <= self.k for r in self.ranks.values()) / len(self.expected)

    @property
    def reciprocal_rank(self) -> float:
        """1 / the rank of the first expected photo found, 0 when none is in the ranking."""
        found = [r for r in self.ranks.values() if r is not None]
        return 1.0 / min(found) if found else 0.0

    @property
    def misses(self) -> list[tuple[str, int | None]]:
        """Expected photos not in the first k, with their rank (None: not in the ranking at all)."""
        return [(path, r) for path, r in self.ranks.items() if r is None or r > self.k]


@dataclass(frozen=True)
class ModelQuality:
    model: str
    k: int
    depth: int
    """How deep each ranking went (the reciprocal rank counts hits up to here)."""
    queries: list[QueryQuality]

    @property
    def recall(self) -> float:
        """Mean recall@k over the queries."""
        return sum(q.recall for q in self.queries) / len(self.queries) if self.queries else 0.0

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank over the queries."""
        return sum(q.reciprocal_rank for q in self.queries) / len(self.queries) if self.queries else 0.0


def check_labels(labels: Mapping[str, Sequence[str]], indexed: set[str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The labels limited to indexed paths (queries left with none are dropped), and the paths not indexed."""
    usable: dict[str, tuple[str, ...]] = {}
    unknown: list[str] = []
    for query, paths in labels.items():
        known = tuple(dict.fromkeys(p for p in paths if p in indexed))
        unknown += [p for p in paths if p not in indexed]
        if known:
            usable[query] = known
    return usable, list(dict.fromkeys(unknown))


def evaluate(model: str, rank: Callable[[str], Sequence[str]], labels: Mapping[str, Sequence[str]], *, k: int = 5,
             depth: int = 100) -> ModelQuality:
    """Rank every labelled query with `rank` (query -> paths, best first, up to `depth`) and score it."""
    if k < 1 or depth < k:
        raise ValueError("k must be at least 1 and depth at least k")
    queries = []
    for query, expected in labels.items():
        if not expected:
            raise ValueError(f"the query {query!r} names no photo it should find")
        positions: dict[str, int] = {}
        for i, path in enumerate(list(rank(query))[:depth], start=1):
            positions.setdefault(path, i)
        expected = tuple(dict.fromkeys(expected))
        queries.append(QueryQuality(query, expected, {p: positions.get(p) for p in expected}, k))
    return ModelQuality(model, k, depth, queries)
