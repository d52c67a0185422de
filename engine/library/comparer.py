"""Finding duplicate pairs, incrementally: each newly hashed photo is compared once with all others.

Run after the pHash stage (`Library.index_phash` does). With N photos not yet compared among
all A hashed ones:
1. one pass over A builds the search index of whole pictures (`candidates.VectorIndex`); while
   it streams, the 9 windows of each already-compared photo are looked up among the N new ones
   (a new photo may be a crop of an old one);
2. then each new photo, a chunk at a time, looks up its 8 turns and its 9 windows among A;
3. every candidate pair is measured (`matching.compare`) and kept with its evidence when it
   passes the loosest rule a caller may ask for (`matching.STORE`); a chunk's pairs and its
   "compared" marks are written in one transaction, so a stopped run resumes where it was.
When most photos are new the comparison starts over (step 1 then has nothing to look up).
Memory: 63 float32 per hashed photo for the index, plus one chunk of signatures.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.db import duplicates as rows
from engine.db.database import Database
from engine.runtime.progress import Progress, ProgressCallback
from engine.library import candidates as cand
from engine.library.matching import STORE, PhotoFacts, compare, decide
from engine.library.signatures import FLAT_DETAIL, Signature, decode

log = logging.getLogger(__name__)

VERSION = 1
"""Of the candidate search and the stored evidence: a new one compares everything again."""
TURNED_MIN = 0.85
"""Search-vector similarity of a whole-picture candidate (copies measure ≥ 0.98, docs/duplicates.md)."""
TURNED_TOP = 8
WINDOW_MIN = 0.70
WINDOW_TOP = 2

TURNED, WINDOW, FLAT = 1, 2, 4


@dataclass(frozen=True)
class CompareReport:
    compared: int
    candidates: int
    pairs: int
    seconds: float
    cancelled: bool = False


def facts_of(row: dict) -> PhotoFacts:
    return PhotoFacts(**{k: row[k] for k in PhotoFacts.__dataclass_fields__})


def _thumbs(signatures: Sequence[Signature]) -> np.ndarray:
    return np.stack([s.thumb for s in signatures]) if signatures else np.zeros((0, 32, 32), np.uint8)


def add_hits(found: dict[tuple[int, int], int], owners: np.ndarray, hits: cand.Hits, kind: int) -> None:
    for a, b in cand.pairs_from_hits(owners, hits):
        found[(a, b)] = found.get((a, b), 0) | kind


@dataclass
class Flats:
    """The nearly flat pictures among those seen: ids and tones (mean grey, Cb, Cr)."""

    ids: list[np.ndarray]
    tones: list[np.ndarray]

    def add(self, chunk: "Decoded") -> None:
        flat = chunk.flat
        self.ids.append(chunk.ids[flat])
        self.tones.append(chunk.tones[flat])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate([np.zeros(0, np.int64), *self.ids]), np.concatenate([np.zeros((0, 3)), *self.tones])


@dataclass(frozen=True)
class Decoded:
    """A chunk of signatures as the search needs them."""

    ids: np.ndarray
    thumbs: np.ndarray
    tones: np.ndarray

    @property
    def flat(self) -> np.ndarray:
        return self.thumbs.reshape(len(self.ids), -1).std(axis=1) < FLAT_DETAIL if len(self.ids) else np.zeros(0, bool)


def look_up(index: cand.VectorIndex, ids: np.ndarray, thumbs: np.ndarray, found: dict[tuple[int, int], int], *,
            turned: bool = True) -> None:
    """Candidates of `ids` (their 32x32 copies `thumbs`) in `index`, added to `found` as pair -> kinds."""
    if not len(ids):
        return
    if turned:
        vectors = cand.turned_vectors(thumbs)
        owners = np.repeat(ids, vectors.shape[1])
        hits = index.search(vectors.reshape(-1, cand.DIM), top_k=TURNED_TOP, min_similarity=TURNED_MIN,
                            exclude=owners)
        add_hits(found, owners, hits, TURNED)
    windows = cand.window_vectors(thumbs)
    owners = np.repeat(ids, windows.shape[1])
    hits = index.search(windows.reshape(-1, cand.DIM), top_k=WINDOW_TOP, min_similarity=WINDOW_MIN, exclude=owners)
    add_hits(found, owners, hits, WINDOW)


def verify(found: dict[tuple[int, int], int], load: Callable[[Iterable[int]], dict[int, tuple[Signature, PhotoFacts]]]
           ) -> list[tuple[int, int, dict]]:
    """Measure each candidate pair; those passing `matching.STORE`, with their evidence (a < b)."""
    known = load({i for pair in found for i in pair})
    out = []
    for (a, b), kinds in found.items():
        if a not in known or b not in known:
            continue
        (sa, fa), (sb, fb) = known[a], known[b]
        ev = compare(sa, sb, fa, fb, search_crop=None if kinds & WINDOW else False)
        if decide(ev, STORE).match:
            out.append((a, b, ev.to_json()))
    return out


class DuplicateComparer:
    def __init__(self, db: Database, *, chunk: int = 2000) -> None:
        self.db = db
        self.chunk = chunk

    def _load(self, ids: Iterable[int]) -> dict[int, tuple[Signature, PhotoFacts]]:
        ids = sorted(ids)
        out: dict[int, tuple[Signature, PhotoFacts]] = {}
        with self.db.connection() as conn:
            for start in range(0, len(ids), 5000):
                for r in rows.facts(conn, ids[start:start + 5000], with_signature=True):
                    sig = decode(r["signature"])
                    if sig is not None:
                        out[r["id"]] = (sig, facts_of(r))
        return out

    def pending(self) -> int:
        with self.db.connection() as conn:
            return rows.counts(conn)["uncompared"]

    def run(self, *, progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None) -> CompareReport:
        started = time.time()
        notify = progress or (lambda _p: None)
        stopped = (lambda: cancel.is_set()) if cancel is not None else (lambda: False)
        with self.db.connection() as conn:
            rows.reset_comparisons(conn, VERSION)
            c = rows.counts(conn)
            if c["uncompared"] and c["uncompared"] * 2 >= c["hashed"]:
                rows.reset_comparisons(conn)
                c = rows.counts(conn)
        state = Progress(stage="comparing", total=c["uncompared"])
        notify(state)
        if not state.total:
            return CompareReport(0, 0, 0, time.time() - started)
        new_index = None
        if c["compared"]:  # the new photos' whole pictures, for the windows of the old ones
            new_index = self._index(compared=False)
        found: dict[tuple[int, int], int] = {}
        flats = Flats([], [])

        def each(chunk: Decoded) -> None:
            flats.add(chunk)
            if new_index is not None:
                old = ~np.isin(chunk.ids, new_index.ids)
                look_up(new_index, chunk.ids[old], chunk.thumbs[old], found, turned=False)

        index = self._index(compared=None, each=each)
        flat_ids, flat_tones = flats.arrays()
        candidates = len(found)
        stored = verify(found, self._load)
        with self.db.connection() as conn:
            rows.store_pairs(conn, stored)
        pairs = len(stored)
        while not stopped():
            with self.db.connection() as conn:
                chunk = next(rows.signature_chunks(conn, compared=False, chunk=self.chunk), None)
            if not chunk:
                break
            decoded = _decoded(chunk)
            found = {}
            look_up(index, decoded.ids, decoded.thumbs, found)
            flat = decoded.flat
            for pair in cand.flat_pairs(decoded.ids[flat], decoded.tones[flat], flat_ids, flat_tones):
                found[pair] = found.get(pair, 0) | FLAT
            candidates += len(found)
            stored = verify(found, self._load)
            with self.db.connection() as conn:
                rows.store_pairs(conn, stored)
                rows.mark_compared(conn, [r["id"] for r in chunk], VERSION)
            pairs += len(stored)
            state.done += len(chunk)
            state.current = chunk[-1]["path"]
            notify(state)
        state.stage = "cancelled" if stopped() else "done"
        notify(state)
        return CompareReport(state.done, candidates, pairs, time.time() - started, stopped())

    def _index(self, *, compared: bool | None, each: Callable[[Decoded], None] | None = None) -> cand.VectorIndex:
        """The search index of whole pictures (of all hashed photos, or only the (not) compared);
        `each` sees every chunk on the way."""
        id_parts, vector_parts = [np.zeros(0, np.int64)], [np.zeros((0, cand.DIM), np.float32)]
        with self.db.connection() as conn:
            for chunk in rows.signature_chunks(conn, compared=compared, chunk=self.chunk):
                decoded = _decoded(chunk)
                id_parts.append(decoded.ids)
                vector_parts.append(cand.full_vectors(decoded.thumbs))
                if each is not None:
                    each(decoded)
        return cand.VectorIndex(np.concatenate(vector_parts), np.concatenate(id_parts))


def _decoded(chunk: list[dict]) -> Decoded:
    """A chunk of (id, signature) rows for the search (rows of another version are skipped)."""
    pairs = [(r["id"], decode(r["signature"])) for r in chunk]
    pairs = [(i, sig) for i, sig in pairs if sig is not None]
    tones = np.array([[sig.thumb.mean(), *sig.colour.reshape(-1, 2).mean(axis=0)] for _, sig in pairs]
                     ).reshape(-1, 3)
    return Decoded(np.array([i for i, _ in pairs], np.int64), _thumbs([sig for _, sig in pairs]), tones)
