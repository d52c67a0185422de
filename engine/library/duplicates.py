"""Duplicate groups: by perceptual hash (exact or near, Hamming distance) or by image-embedding
cosine similarity, both found through pgvector; and the "keep the best copy" rule.

Pairs closer than the limit are joined into groups transitively (connected components). Near
pairs come from a k-nearest-neighbour query per photo (HNSW), so `neighbours` bounds the work;
exact pHash groups are a plain GROUP BY and complete.

The best copy of a group is the one with the most pixels, then the oldest (date taken, else
file time), then the lowest id. Everything else in the group is an "extra".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

import psycopg

from engine.db import embeddings as embedding_rows
from engine.db import phash as phash_rows
from engine.db import photos as photo_rows
from engine.errors import Invalid
from engine.models.registry import get_spec

Method = Literal["phash", "clip"]


@dataclass(frozen=True)
class DuplicatePhoto:
    id: int
    path: str
    format: str
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None
    mtime: float

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass
class DuplicateGroup:
    photos: list[DuplicatePhoto]
    """Best copy first."""
    closeness: float
    """The weakest link inside the group: max Hamming distance (phash) or min cosine similarity (clip)."""

    @property
    def keep(self) -> DuplicatePhoto:
        return self.photos[0]

    @property
    def extras(self) -> list[DuplicatePhoto]:
        return self.photos[1:]


@dataclass
class DuplicateReport:
    method: Method
    groups: list[DuplicateGroup] = field(default_factory=list)
    total_groups: int = 0
    """Before `limit` was applied."""
    model: str | None = None

    @property
    def extra_ids(self) -> list[int]:
        return [p.id for g in self.groups for p in g.extras]

    @property
    def total_extras(self) -> int:
        return sum(len(g.extras) for g in self.groups)

    @property
    def extra_bytes(self) -> int:
        """What deleting every extra copy would free."""
        return sum(p.size for g in self.groups for p in g.extras)


def best_first(photos: Iterable[DuplicatePhoto]) -> list[DuplicatePhoto]:
    """Largest resolution, then oldest (taken_at, else file mtime), then lowest id."""

    def when(p: DuplicatePhoto) -> float:
        if p.taken_at is not None:
            taken = p.taken_at if p.taken_at.tzinfo else p.taken_at.replace(tzinfo=timezone.utc)
            return taken.timestamp()
        return p.mtime

    return sorted(photos, key=lambda p: (-p.pixels, when(p), p.id))


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return [sorted(g) for g in out.values() if len(g) > 1]


def find_duplicates(
    conn: psycopg.Connection,
    method: Method = "phash",
    *,
    max_distance: int = 24,
    threshold: float = 0.95,
    model: str | None = None,
    neighbours: int = 20,
    limit: int | None = None,
) -> DuplicateReport:
    """Groups of duplicates, largest first.

    phash: pairs with Hamming distance <= `max_distance` (0 = identical hashes) out of 256 bits.
    clip: pairs whose `model` embeddings have cosine similarity >= `threshold`.
    """
    if method == "phash":
        if not 0 <= max_distance <= 256:
            raise Invalid("max_distance must be between 0 and 256")
        pairs = phash_rows.identical_pairs(conn) if max_distance == 0 else phash_rows.near_pairs(
            conn, max_distance, neighbours)
        table_model = None
    elif method == "clip":
        if not -1.0 <= threshold <= 1.0:
            raise Invalid("threshold must be a cosine similarity between -1 and 1")
        if model is None:
            raise Invalid("the clip method needs a model name")
        spec = get_spec(model)
        pairs = embedding_rows.similar_pairs(conn, spec.name, threshold, neighbours)
        table_model = spec.name
    else:
        raise Invalid(f"unknown duplicate method {method!r}; use phash or clip")

    uf = _UnionFind()
    for a, b, _ in pairs:
        uf.union(a, b)
    id_groups = uf.groups()
    ids = sorted({i for g in id_groups for i in g})
    photos = {p.id: DuplicatePhoto(p.id, p.path, p.format, p.size, p.width, p.height, p.taken_at, p.mtime)
              for p in photo_rows.get_many(conn, ids)
              if p.offline_since is None}  # an offline copy is never kept over one that is there
    root_of = {i: uf.find(i) for i in ids}
    weakest: dict[int, float] = {}
    for a, b, value in pairs:
        r = root_of[a]
        if method == "phash":
            weakest[r] = max(weakest.get(r, 0.0), value)
        else:
            weakest[r] = min(weakest.get(r, 1.0), value)

    groups = [
        DuplicateGroup(best_first(photos[i] for i in g if i in photos), weakest.get(uf.find(g[0]), 0.0))
        for g in id_groups
    ]
    groups = [g for g in groups if len(g.photos) > 1]
    groups.sort(key=lambda g: (-len(g.photos), g.keep.id))
    total = len(groups)
    if limit is not None:
        groups = groups[:limit]
    return DuplicateReport(method, groups, total, table_model)
