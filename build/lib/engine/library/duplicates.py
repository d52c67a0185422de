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


def _phash_pairs(conn: psycopg.Connection, max_distance: int, neighbours: int) -> list[tuple[int, int, float]]:
    if max_distance == 0:
        rows = conn.execute(
            "SELECT array_agg(id ORDER BY id) AS ids FROM photos WHERE phash IS NOT NULL"
            " GROUP BY phash HAVING count(*) > 1"
        ).fetchall()
        return [(r["ids"][0], other, 0.0) for r in rows for other in r["ids"][1:]]
    rows = conn.execute(
        "SELECT a.id AS a, n.id AS b, n.d FROM photos a CROSS JOIN LATERAL ("
        "  SELECT b.id, (b.phash <~> a.phash) AS d FROM photos b"
        "  WHERE b.phash IS NOT NULL AND b.id <> a.id ORDER BY b.phash <~> a.phash LIMIT %s) n"
        " WHERE a.phash IS NOT NULL AND n.d <= %s",
        (neighbours, max_distance),
    ).fetchall()
    return [(r["a"], r["b"], float(r["d"])) for r in rows]


def _embedding_pairs(conn: psycopg.Connection, table: str, threshold: float, neighbours: int) -> list[tuple[int, int, float]]:
    rows = conn.execute(
        f"SELECT a.photo_id AS a, n.photo_id AS b, 1 - n.d AS sim FROM {table} a CROSS JOIN LATERAL ("
        f"  SELECT b.photo_id, (b.embedding <=> a.embedding) AS d FROM {table} b"
        f"  WHERE b.photo_id <> a.photo_id ORDER BY b.embedding <=> a.embedding LIMIT %s) n"
        f" WHERE 1 - n.d >= %s",
        (neighbours, threshold),
    ).fetchall()
    return [(r["a"], r["b"], float(r["sim"])) for r in rows]


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
            raise ValueError("max_distance must be between 0 and 256")
        pairs = _phash_pairs(conn, max_distance, neighbours)
        table_model = None
    elif method == "clip":
        if not -1.0 <= threshold <= 1.0:
            raise ValueError("threshold must be a cosine similarity between -1 and 1")
        if model is None:
            raise ValueError("the clip method needs a model name")
        spec = get_spec(model)
        pairs = _embedding_pairs(conn, spec.table, threshold, neighbours)
        table_model = spec.name
    else:
        raise ValueError(f"unknown duplicate method {method!r}; use phash or clip")

    uf = _UnionFind()
    for a, b, _ in pairs:
        uf.union(a, b)
    id_groups = uf.groups()
    ids = sorted({i for g in id_groups for i in g})
    rows = conn.execute(
        "SELECT id, path, format, size, width, height, taken_at, mtime FROM photos WHERE id = ANY(%s)", (ids,)
    ).fetchall() if ids else []
    photos = {r["id"]: DuplicatePhoto(**r) for r in rows}
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
