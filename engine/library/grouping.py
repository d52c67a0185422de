"""Duplicate groups from matching pairs, without chaining: every member matches the group's anchor.

Pairs link photos into connected components; a component is not a group (A~B and B~C does not
make C a copy of A). Inside each component the photo matching the most others (the best-ranked
one on a tie) takes, as its group, every remaining photo it matches itself; the rest form
groups the same way. So each group is a star around its anchor (usually the original, which
every edit of it matches, when the edits need not match each other: two crops of different
corners), and a photo is in at most one group. `keepable` lists the members that match every
other member: the anchor, and any copy the others all match too; the keeper is chosen among them.

A group is flagged for review, never offered for "delete extras", when
- it is larger than `review_size` (a big star is more likely a false match than a family of copies);
- a member also matches a photo outside it (`linked`): the component did not split cleanly;
- a pair only matched as nearly flat pictures (no structure to compare).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from engine.i18n import N_


@dataclass
class Group:
    anchor: int
    members: list[int]
    """Anchor first, then the others in rank order."""
    keepable: set[int] = field(default_factory=set)
    """Members that match every other member."""
    linked: set[int] = field(default_factory=set)
    """Photos outside the group that a member matches."""
    flat: bool = False
    review: list[str] = field(default_factory=list)
    """Why the group needs a person's look; empty when it does not."""

    @property
    def needs_review(self) -> bool:
        return bool(self.review)


def components(pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components (each sorted) of the graph the pairs make; singletons are not listed."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out: dict[int, list[int]] = {}
    for x in parent:
        out.setdefault(find(x), []).append(x)
    return [sorted(c) for c in out.values() if len(c) > 1]


def stars(component: Sequence[int], neighbours: dict[int, set[int]], rank: Callable[[int], Hashable]
          ) -> list[list[int]]:
    """Split one component into stars: the photo matching most of those left (best rank on a tie)
    takes every photo left that it matches."""
    left = sorted(component, key=rank)
    out = []
    while len(left) > 1:
        remaining = set(left)
        degree = {p: len(neighbours.get(p, set()) & remaining) for p in left}
        anchor = max(left, key=lambda p: degree[p])  # the first of the best-ranked on a tie (stable)
        if degree[anchor] == 0:
            break
        members = [anchor] + [p for p in left if p in neighbours[anchor]]
        out.append(members)
        taken = set(members)
        left = [p for p in left if p not in taken]
    return out


def group_pairs(pairs: Iterable[tuple[int, int]], rank: Callable[[int], Hashable], *, review_size: int = 12,
                flat_pairs: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset()) -> list[Group]:
    """Groups of the matching `pairs` (a, b); `rank` orders photos best first (the keeper rule)."""
    pairs = list(pairs)
    linked_to: dict[int, set[int]] = {}
    for a, b in pairs:
        linked_to.setdefault(a, set()).add(b)
        linked_to.setdefault(b, set()).add(a)

    groups: list[Group] = []
    for component in components(pairs):
        for members in stars(component, linked_to, rank):
            keepable = {m for m in members if linked_to[m] >= set(members) - {m}}
            groups.append(Group(members[0], members, keepable))
    for g in groups:
        inside = set(g.members)
        g.linked = {other for m in g.members for other in linked_to.get(m, ()) if other not in inside}
        g.flat = any((min(g.anchor, m), max(g.anchor, m)) in flat_pairs for m in g.members[1:])
        if len(g.members) > review_size:
            g.review.append(N_("{n} photos: more than {limit} copies of one picture is unusual", n=len(g.members),
                               limit=review_size))
        if g.linked:
            g.review.append(N_("some of these photos also match {n} photo(s) outside the group", n=len(g.linked)))
        if g.flat:
            g.review.append(N_("nearly flat pictures: too little detail to tell copies apart"))
    groups.sort(key=lambda g: (-len(g.members), g.anchor))
    return groups
