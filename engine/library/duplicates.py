"""Duplicate groups, each pair with its reasons, and the copy to keep.

Methods:
- `phash` (the pictures themselves): the pairs the comparer stored (pHash over 8 rotations and
  mirrors, grey-copy correlation, crops; `comparer`, `matching`), decided by `Thresholds`;
- `clip`: image-embedding cosine similarity alone (pgvector neighbours), for a model with vectors;
- `all` (default): `phash`, with the image-text model's similarity added where it has vectors:
  it supports the looser crop rule and brings pairs the hashes missed to a full measurement.

Groups never chain (`grouping`): every member matches the group's anchor, and the copy kept is
the best by the keeper rule (`keeper`) among those that match every other member, unless the
user chose another. Groups that need a person's look carry `review` reasons and are never part
of "delete extras".
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import psycopg

from engine.db import duplicates as rows
from engine.db import embeddings as embedding_rows
from engine.errors import Conflict, Invalid
from engine.i18n import N_
from engine.library import grouping, keeper
from engine.library.comparer import facts_of
from engine.library.matching import DEFAULT, Decision, Evidence, PhotoFacts, Signal, Thresholds, compare, decide, describe
from engine.library.signatures import decode
from engine.models.registry import get_spec

Method = Literal["all", "phash", "clip"]
METHODS: tuple[str, ...] = ("all", "phash", "clip")
DuplicatePhoto = PhotoFacts


class NoEmbeddings(Conflict):
    """`clip` was asked for a model without image vectors."""


@dataclass(frozen=True)
class DuplicatePair:
    """Why `b` is a copy of `a` (a is the group's anchor when it is one of the two)."""

    a: int
    b: int
    rule: str
    """identical, flat, phash, phash+pixels, crop or embedding."""
    transform: str
    """What b is relative to a, e.g. "rotated 90°, re-saved as PNG"."""
    signals: list[Signal]
    evidence: Evidence | None


@dataclass
class DuplicateGroup:
    photos: list[PhotoFacts]
    """The copy kept first, then the others in rank order."""
    anchor_id: int
    """The photo every other member matches (the group's centre)."""
    keep_id: int
    keeper_reasons: list[str]
    keeper_chosen: bool
    pairs: list[DuplicatePair]
    """Anchor -> member first, then any other matching pair inside the group."""
    review: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return bool(self.review)

    @property
    def keep(self) -> PhotoFacts:
        return self.photos[0]

    @property
    def extras(self) -> list[PhotoFacts]:
        return self.photos[1:]

    @property
    def extra_bytes(self) -> int:
        return sum(p.size for p in self.extras)


@dataclass
class DuplicateReport:
    method: str
    groups: list[DuplicateGroup] = field(default_factory=list)
    total_groups: int = 0
    """Before `limit` was applied."""
    model: str | None = None
    notes: list[str] = field(default_factory=list)
    """What limited the answer, in sentences (photos not hashed yet, a signal not available)."""
    review_groups: int = 0
    """Of all groups (before `limit`), those flagged for review."""

    @property
    def extra_ids(self) -> list[int]:
        """Extras of the groups that do not need review (what "delete extras" may trash)."""
        return [p.id for g in self.groups if not g.needs_review for p in g.extras]

    @property
    def total_extras(self) -> int:
        return len(self.extra_ids)

    @property
    def extra_bytes(self) -> int:
        """What deleting the extras of the groups not flagged for review would free."""
        return sum(g.extra_bytes for g in self.groups if not g.needs_review)


@dataclass(frozen=True)
class _Match:
    a: int
    b: int
    decision: Decision
    evidence: Evidence | None


def _stored_matches(conn: psycopg.Connection, t: Thresholds, similarities: dict[tuple[int, int], float] | None
                    ) -> dict[tuple[int, int], _Match]:
    out = {}
    for chunk in rows.pair_chunks(conn):
        for r in chunk:
            ev = Evidence.from_json(r["evidence"])
            if similarities is not None and (r["a"], r["b"]) in similarities:
                ev = replace(ev, embedding=similarities[(r["a"], r["b"])])
            decision = decide(ev, t)
            if decision.match:
                out[(r["a"], r["b"])] = _Match(r["a"], r["b"], decision, ev)
    return out


def _embedding_only(sim: float, t: Thresholds, model: str) -> Decision:
    return Decision(True, "embedding", [Signal("embedding", round(sim, 4), f"cosine similarity ({model})",
                                               f"≥ {t.embedding}", True)])


def _measure(conn: psycopg.Connection, pairs: dict[tuple[int, int], float], t: Thresholds
             ) -> dict[tuple[int, int], _Match]:
    """Pairs the image embeddings propose, measured from their signatures with the similarity as support."""
    ids = sorted({i for pair in pairs for i in pair})
    known = {r["id"]: (decode(r["signature"]), facts_of(r)) for r in rows.facts(conn, ids, with_signature=True)}
    out = {}
    for (a, b), sim in pairs.items():
        if a not in known or b not in known or known[a][0] is None or known[b][0] is None:
            continue
        (sa, fa), (sb, fb) = known[a], known[b]
        ev = compare(sa, sb, fa, fb, embedding=sim, search_crop=True)
        decision = decide(ev, t)
        if decision.match:
            out[(a, b)] = _Match(a, b, decision, ev)
    return out


def find_duplicates(
    conn: psycopg.Connection,
    method: Method = "all",
    *,
    thresholds: Thresholds = DEFAULT,
    max_distance: int | None = None,
    threshold: float | None = None,
    model: str | None = None,
    neighbours: int = 20,
    review_size: int = 12,
    limit: int | None = None,
) -> DuplicateReport:
    """Groups of duplicates, largest first.

    `max_distance` (bits of 256) replaces the pHash limit; `threshold` the embedding similarity.
    """
    if method not in METHODS:
        raise Invalid(f"unknown duplicate method {method!r}; use one of {', '.join(METHODS)}")
    if max_distance is not None and not 0 <= max_distance <= 256:
        raise Invalid("max_distance must be between 0 and 256 bits")
    if threshold is not None and not -1.0 <= threshold <= 1.0:
        raise Invalid("threshold must be a cosine similarity between -1 and 1")
    t = thresholds.with_hash_limit(max_distance)
    if threshold is not None:
        t = replace(t, embedding=float(threshold))
    report = DuplicateReport(method)
    counts = rows.counts(conn)
    if method != "clip" and counts["unhashed"]:
        report.notes.append(N_("{n} photos are not hashed yet: run the pHash stage (Admin → pHash, or "
                               "`photoindex index`).", n=counts["unhashed"]))
    if method != "clip" and counts["uncompared"]:
        report.notes.append(N_("{n} hashed photos are not compared yet; they are when the pHash stage runs.",
                               n=counts["uncompared"]))

    matches: dict[tuple[int, int], _Match] = {}
    similarities: dict[tuple[int, int], float] | None = None
    if method in ("clip", "all"):
        if model is None:
            raise Invalid("the clip method needs a model name")
        spec = get_spec(model)
        report.model = spec.name
        if embedding_rows.count(conn, spec.name) == 0:
            sentence = (f"no photo has {spec.name} image vectors yet, so there is nothing to compare by embedding: "
                        f"index them first (`photoindex index --model {spec.name}` or Admin → Index all)")
            if method == "clip":
                raise NoEmbeddings(sentence + ".")
            report.notes.append(f"The image-text signal is not used: {sentence}.")
        else:
            proposed = {(min(a, b), max(a, b)): s for a, b, s in embedding_rows.similar_pairs(conn, spec.name, t.embedding,
                                                                                         neighbours)}
            if method == "clip":
                matches = {k: _Match(*k, _embedding_only(s, t, spec.name), None) for k, s in proposed.items()}
            else:
                similarities = proposed
    if method in ("phash", "all"):
        matches = _stored_matches(conn, t, similarities)
        if similarities:
            missing = {k: s for k, s in similarities.items() if k not in matches}
            stored = {(r["a"], r["b"]) for r in rows.pairs_among(conn, sorted({i for k in missing for i in k}))}
            matches.update(_measure(conn, {k: s for k, s in missing.items() if k not in stored}, t))

    ids = sorted({i for pair in matches for i in pair})
    facts = {r["id"]: facts_of(r) for r in rows.facts(conn, ids, online_only=True)}
    matches = {k: m for k, m in matches.items() if k[0] in facts and k[1] in facts}
    chosen = rows.chosen_keepers(conn, ids)
    flat = {k for k, m in matches.items() if m.decision.rule == "flat"}
    groups = grouping.group_pairs(matches, lambda i: keeper.rank_key(facts[i]), review_size=review_size,
                                  flat_pairs=flat)
    report.total_groups = len(groups)
    report.review_groups = sum(g.needs_review for g in groups)
    for g in groups[:limit] if limit is not None else groups:
        report.groups.append(_group(g, facts, matches, chosen))
    return report


def _pair(m: _Match, first: int, facts: dict[int, PhotoFacts]) -> DuplicatePair:
    ev = m.evidence
    a, b = (m.a, m.b) if first == m.a else (m.b, m.a)
    if ev is not None and a != m.a:
        ev = ev.reversed()
    transform = describe(ev, facts[a], facts[b]) if ev is not None else N_("similar image embedding")
    return DuplicatePair(a, b, m.decision.rule or "", transform, m.decision.signals, ev)


def _group(g: grouping.Group, facts: dict[int, PhotoFacts], matches: dict[tuple[int, int], _Match],
           chosen: set[int]) -> DuplicateGroup:
    members = [facts[i] for i in g.members]
    choice = keeper.choose(members, chosen & set(g.members), eligible=g.keepable)
    keep = choice.keeper
    anchor = g.anchor
    pairs = [_pair(matches[(min(anchor, m), max(anchor, m))], anchor, facts) for m in g.members[1:]]
    inner = sorted(k for k in matches if anchor not in k and k[0] in g.members and k[1] in g.members)
    pairs += [_pair(matches[k], k[0], facts) for k in inner]
    return DuplicateGroup(choice.ranked, anchor, keep.id, choice.reasons, choice.chosen, pairs, list(g.review))
