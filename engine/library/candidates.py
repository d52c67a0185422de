"""Which photos are worth comparing: search vectors from signatures and an in-memory vector index.

Comparing every photo with every other is quadratic, so the finder first asks, per photo, for
the few photos whose *search vector* is close, and verifies only those pairs (`matching`).

Search vectors are the 8x8 lowest DCT frequencies of the 32x32 grey copy, without the DC term,
unit length (63 numbers): brightness shifts and scales leave them unchanged, re-encoding and
resizing barely move them. A photo is looked up
- by its own vector under the 8 rotations/mirrors (a sign flip or transpose of the block), which
  finds turned, re-encoded, resized and brightened copies at similarity ~1; and
- by the vectors of 9 windows of itself (85 % of each side, on a 3x3 grid of positions), each of
  which is close to the whole of a copy cropped from about there.

Nearly flat pictures (a black frame, a grey sky) have no structure for these vectors; they are
paired by their mean grey and colour instead (`flat_pairs`).

`VectorIndex` is an inverted-file index (k-means cells; a query scans its nearest cells with
one matrix product per cell), exact when there is a single cell. Memory is the vectors
(63 float32 per photo) plus one block of products; time grows as n·sqrt(n), not n².
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.library.signatures import DIHEDRAL_ORDER, dihedral
from engine.vectors import unit_rows

LOW = 8
DIM = LOW * LOW - 1
WINDOW_SCALE = 0.85
WINDOW_POSITIONS = (0.0, 0.5, 1.0)


def _dct_basis(n: int, k: int = LOW) -> np.ndarray:
    """(k, n) DCT-II basis: `basis @ x @ basis.T` is the k x k low-frequency block of an n x n picture."""
    i = np.arange(n)
    return np.cos(np.pi * np.arange(k)[:, None] * (2 * i[None, :] + 1) / (2 * n))


def low_block(thumbs: np.ndarray) -> np.ndarray:
    """(n, 8, 8) low-frequency DCT blocks of (n, s, s) grey pictures."""
    basis = _dct_basis(thumbs.shape[-1]).astype(np.float32)
    return basis @ thumbs.astype(np.float32) @ basis.T


def _flat(blocks: np.ndarray) -> np.ndarray:
    return unit_rows(blocks.reshape(len(blocks), -1)[:, 1:])


def full_vectors(thumbs: np.ndarray) -> np.ndarray:
    """(n, 63) search vectors of whole pictures, as they are."""
    return _flat(low_block(thumbs))


def turned_vectors(thumbs: np.ndarray) -> np.ndarray:
    """(n, 8, 63): the search vector of each picture under each transform of `signatures.TRANSFORMS`."""
    blocks = low_block(thumbs)
    return np.stack([_flat(np.stack([dihedral(b, k) for b in blocks])) for k in DIHEDRAL_ORDER], axis=1)


def window_vectors(thumbs: np.ndarray) -> np.ndarray:
    """(n, 9, 63): search vectors of 9 windows of each picture (see module docstring)."""
    side = thumbs.shape[-1]
    w = max(2, round(side * WINDOW_SCALE))
    starts = [round((side - w) * p) for p in WINDOW_POSITIONS]
    crops = np.stack([thumbs[:, y:y + w, x:x + w] for y in starts for x in starts], axis=1)
    n = len(thumbs)
    return _flat(low_block(crops.reshape(n * len(starts) ** 2, w, w))).reshape(n, len(starts) ** 2, DIM)


@dataclass(frozen=True)
class Hits:
    """Query index, matching item id and cosine similarity, one entry per hit."""
    query: np.ndarray
    ids: np.ndarray
    similarity: np.ndarray


class VectorIndex:
    """Unit vectors with ids; `search` returns, per query, up to `top_k` items at least `min_similarity` close."""

    def __init__(self, vectors: np.ndarray, ids: np.ndarray, *, cell_size: int = 400, seed: int = 0,
                 train_size: int = 30_000, iterations: int = 8) -> None:
        self.vectors = np.ascontiguousarray(vectors, np.float32)
        self.ids = np.asarray(ids, np.int64)
        n = len(self.ids)
        cells = max(1, int(round(n / cell_size)))
        if cells == 1:
            self.centroids = np.zeros((1, self.vectors.shape[1] if n else DIM), np.float32)
            assignment = np.zeros(n, np.int64)
        else:
            self.centroids = _kmeans(self.vectors, cells, seed, train_size, iterations)
            assignment = _nearest(self.vectors, self.centroids)
        order = np.argsort(assignment, kind="stable")
        self._order = order
        self._bounds = np.searchsorted(assignment[order], np.arange(len(self.centroids) + 1))

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, *, top_k: int, min_similarity: float, probes: int = 8,
               exclude: np.ndarray | None = None) -> Hits:
        """`exclude[i]` (optional) is an id query i must not return (the photo itself)."""
        queries = np.ascontiguousarray(queries, np.float32)
        if not len(self.ids) or not len(queries):
            return Hits(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
        probes = min(probes, len(self.centroids))
        if len(self.centroids) == 1:
            probe = np.zeros((len(queries), 1), np.int64)
        else:
            scores = queries @ self.centroids.T
            probe = np.argpartition(-scores, probes - 1, axis=1)[:, :probes]
        parts_q, parts_i, parts_s = [], [], []
        for cell in range(len(self.centroids)):
            lo, hi = self._bounds[cell], self._bounds[cell + 1]
            if lo == hi:
                continue
            asking = np.flatnonzero((probe == cell).any(axis=1))
            if not len(asking):
                continue
            members = self._order[lo:hi]
            sims = queries[asking] @ self.vectors[members].T
            qi, mi = np.nonzero(sims >= min_similarity)
            if len(qi):
                parts_q.append(asking[qi])
                parts_i.append(self.ids[members[mi]])
                parts_s.append(sims[qi, mi])
        if not parts_q:
            return Hits(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
        q, ids, s = np.concatenate(parts_q), np.concatenate(parts_i), np.concatenate(parts_s)
        if exclude is not None:
            keep = ids != np.asarray(exclude)[q]
            q, ids, s = q[keep], ids[keep], s[keep]
        order = np.lexsort((-s, q))
        q, ids, s = q[order], ids[order], s[order]
        first = np.searchsorted(q, q, side="left")
        keep = (np.arange(len(q)) - first) < top_k
        return Hits(q[keep], ids[keep], s[keep])


def _nearest(vectors: np.ndarray, centroids: np.ndarray, block: int = 65_536) -> np.ndarray:
    out = np.empty(len(vectors), np.int64)
    for start in range(0, len(vectors), block):
        out[start:start + block] = np.argmax(vectors[start:start + block] @ centroids.T, axis=1)
    return out


def _kmeans(vectors: np.ndarray, cells: int, seed: int, train_size: int, iterations: int) -> np.ndarray:
    """Spherical k-means on a sample (Lloyd's iterations); empty cells are re-seeded from the sample."""
    rng = np.random.default_rng(seed)
    sample = vectors if len(vectors) <= train_size else vectors[rng.choice(len(vectors), train_size, replace=False)]
    centroids = sample[rng.choice(len(sample), cells, replace=False)].copy()
    for _ in range(iterations):
        labels = _nearest(sample, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, labels, sample)
        counts = np.bincount(labels, minlength=cells)
        empty = counts == 0
        sums[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=True)]
        centroids = unit_rows(sums)
    return centroids


def pairs_from_hits(owners: np.ndarray, hits: Hits) -> Iterable[tuple[int, int]]:
    """(owner of the query, hit id) for each hit, owner != hit, each unordered pair once."""
    a = np.asarray(owners)[hits.query]
    b = hits.ids
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0) if len(lo) else np.zeros((0, 2), np.int64)
    return [(int(x), int(y)) for x, y in pairs]


def flat_pairs(query_ids: np.ndarray, query_tones: np.ndarray, ids: np.ndarray, tones: np.ndarray, *,
               within: float = 6.0, top_k: int = 8, block: int = 4096) -> list[tuple[int, int]]:
    """Pairs of nearly flat pictures whose tones (mean grey, Cb, Cr) differ by at most `within`
    in each, up to `top_k` nearest per query."""
    out: set[tuple[int, int]] = set()
    if not len(query_ids) or not len(ids):
        return []
    for start in range(0, len(query_ids), block):
        q = query_tones[start:start + block]
        gap = np.abs(q[:, None, :] - tones[None, :, :]).max(axis=2)
        gap[query_ids[start:start + block, None] == ids[None, :]] = np.inf
        nearest = np.argsort(gap, axis=1)[:, :top_k]
        for row, columns in enumerate(nearest):
            a = int(query_ids[start + row])
            for c in columns:
                if gap[row, c] <= within:
                    b = int(ids[c])
                    out.add((min(a, b), max(a, b)))
    return sorted(out)
