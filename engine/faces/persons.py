"""Persons: create, rename, describe, delete, merge, list, details; assign and auto-assign faces."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.db import faces as face_rows
from engine.db import persons as person_rows
from engine.db.database import Database
from engine.faces.errors import FaceNotFound, InvalidRequest, PersonNotFound
from engine.faces.records import Face, Person
from engine.search import names as name_match

_UNSET = object()


@dataclass(frozen=True)
class AutoAssignReport:
    person_id: int
    threshold: float
    dry_run: bool
    candidates: list[face_rows.Candidate] = field(default_factory=list)
    assigned: int = 0
    rounds: int = 0
    """Rounds of "faces like the person's faces, the new ones included" until no new face came."""
    more: int = 0
    """Faces one more round would add (0 when it stopped at a fixed point)."""
    closer_elsewhere: int = 0
    """Faces similar enough but nearer to another person's faces: left to that person."""


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("a person needs a non-empty name")
    return name[:200]


MAX_ALIASES = 20


def _clean_aliases(aliases: Iterable[str] | None, name: str | None = None, *, truncate: bool = False) -> list[str]:
    """Stripped, each once (case-insensitively), without the name itself; past MAX_ALIASES an
    error, or with `truncate` the first ones."""
    seen = {name.strip().lower()} if name else set()
    out = []
    for alias in aliases or ():
        alias = str(alias).strip()[:200]
        if alias and alias.lower() not in seen:
            seen.add(alias.lower())
            out.append(alias)
    if len(out) > MAX_ALIASES and not truncate:
        raise InvalidRequest(f"a person can have at most {MAX_ALIASES} aliases, got {len(out)}")
    return out[:MAX_ALIASES]


def name_items(people: Iterable[person_rows.PersonNames]) -> list[tuple[int, str]]:
    """(person id, a name it is known by): the name and every alias, for `engine.search.names`."""
    return [(p.id, n) for p in people for n in (p.name, *p.aliases)]


class PersonService:
    def __init__(self, db: Database, default_threshold: float = 0.5) -> None:
        self.db = db
        self.default_threshold = default_threshold

    def create(self, name: str, description: str | None = None, aliases: Iterable[str] | None = None) -> Person:
        name = _clean_name(name)
        with self.db.connection() as conn:
            person_id = person_rows.create(conn, name, description, _clean_aliases(aliases, name))
            return person_rows.get(conn, person_id)

    def get(self, person_id: int) -> Person:
        with self.db.connection() as conn:
            row = person_rows.get(conn, person_id)
        if row is None:
            raise PersonNotFound(f"no person with id {person_id}")
        return row

    def list(self, search: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Person], int]:
        with self.db.connection() as conn:
            return person_rows.search(conn, (search or "").strip() or None, limit, offset)

    def find(self, name: str) -> list[Person]:
        """The persons `name` is the name or an alias of, in any case form: "Тане" finds Таня,
        "Сашей" a person with the alias Саша. The best-matching name first."""
        name = (name or "").strip()
        if not name:
            return []
        with self.db.connection() as conn:
            people = [p for p in person_rows.names(conn) if any(name_match.same_name(name, n) for n in (p.name, *p.aliases))]
            ids = [p.id for p in sorted(people, key=lambda p: (not name_match.same_name(name, p.name), p.id))]
            by_id = {p.id: p for p in person_rows.get_many(conn, ids)}
        return [by_id[i] for i in ids]

    def update(self, person_id: int, *, name: str | None = None, description: object = _UNSET,
               cover_face_id: object = _UNSET, aliases: Iterable[str] | None = None) -> Person:
        """Rename, describe (None clears), set the aliases (a list replaces them), or choose a cover
        among the person's own faces."""
        fields: dict[str, object] = {}
        if name is not None:
            fields["name"] = _clean_name(name)
        if description is not _UNSET:
            fields["description"] = description
        with self.db.connection() as conn:
            if aliases is not None:
                current = person_rows.get(conn, person_id)
                fields["aliases"] = _clean_aliases(aliases, fields.get("name") or (current.name if current else None))
            if cover_face_id is not _UNSET:
                if cover_face_id is not None:
                    face = face_rows.get(conn, int(cover_face_id))
                    if face is None or face.person_id != person_id:
                        raise InvalidRequest(f"face {cover_face_id} is not a face of person {person_id}")
                fields["cover_face_id"] = cover_face_id
            if not person_rows.update(conn, person_id, fields):
                raise PersonNotFound(f"no person with id {person_id}")
            return person_rows.get(conn, person_id)

    def delete(self, person_id: int) -> None:
        """The person goes; their faces stay, unassigned."""
        with self.db.connection() as conn:
            if not person_rows.delete(conn, person_id):
                raise PersonNotFound(f"no person with id {person_id}")

    def merge(self, source_id: int, target_id: int) -> Person:
        """Every face of `source_id` becomes `target_id`'s, and its name and aliases the target's
        aliases; the source is deleted."""
        if source_id == target_id:
            raise InvalidRequest("cannot merge a person into itself")
        with self.db.connection() as conn:
            source, target = person_rows.get(conn, source_id), person_rows.get(conn, target_id)
            for pid, row in ((source_id, source), (target_id, target)):
                if row is None:
                    raise PersonNotFound(f"no person with id {pid}")
            person_rows.move_faces(conn, source_id, target_id)
            fields: dict[str, object] = {"aliases": _clean_aliases(
                [*target.aliases, source.name, *source.aliases], target.name, truncate=True)}
            if not target.description and source.description:
                fields["description"] = source.description
            person_rows.update(conn, target_id, fields)
            person_rows.delete(conn, source_id)
            return person_rows.get(conn, target_id)

    def faces(self, person_id: int, limit: int = 100, offset: int = 0) -> list[Face]:
        self.get(person_id)
        with self.db.connection() as conn:
            return [Face.from_row(r) for r in face_rows.of_person(conn, person_id, limit, offset)]

    def assign(self, face_id: int, person_id: int | None = None, *, new_name: str | None = None,
               description: str | None = None) -> Face:
        """Give a face to a person, or to a new person named `new_name` (a face moved from another
        person is never proposed to that one again)."""
        if (person_id is None) == (new_name is None):
            raise InvalidRequest("give either a person id or a name for a new person")
        with self.db.connection() as conn:
            if face_rows.get(conn, face_id) is None:
                raise FaceNotFound(f"no face with id {face_id}")
            if person_id is None:
                person_id = person_rows.create(conn, _clean_name(new_name), description)
            elif person_rows.get(conn, person_id) is None:
                raise PersonNotFound(f"no person with id {person_id}")
            previous = person_rows.person_of(conn, face_id)
            person_rows.assign_faces(conn, [face_id], person_id, "user")
            if previous is not None and previous != person_id:
                person_rows.reject(conn, [face_id], previous)
            return Face.from_row(face_rows.get(conn, face_id))

    def unassign(self, face_id: int) -> Face:
        """The face leaves its person and is never proposed to that person again."""
        with self.db.connection() as conn:
            if face_rows.get(conn, face_id) is None:
                raise FaceNotFound(f"no face with id {face_id}")
            previous = person_rows.person_of(conn, face_id)
            person_rows.assign_faces(conn, [face_id], None, None)
            if previous is not None:
                person_rows.reject(conn, [face_id], previous)
            return Face.from_row(face_rows.get(conn, face_id))

    def auto_assign(self, person_id: int, threshold: float | None = None, *, dry_run: bool = True,
                    per_face: int = 200, max_reference_faces: int = 100, max_rounds: int = 20) -> AutoAssignReport:
        """Unassigned faces at least `threshold` similar (cosine) to one of the person's faces,
        repeated with the faces just found until no new one comes (a fixed point, at most
        `max_rounds`; `more` says how many the next round would have added).

        Never proposed: a face once taken away from this person, or one nearer to another person's
        faces than to this person's (`closer_elsewhere`). `dry_run` only reports; otherwise the
        faces are assigned (marked `auto`) in one step, only those still unassigned. Neighbours come
        from the HNSW index, `per_face` for each reference face.
        """
        threshold = self.default_threshold if threshold is None else float(threshold)
        if not -1.0 <= threshold <= 1.0:
            raise InvalidRequest(f"threshold must be a cosine similarity in [-1, 1], got {threshold}")
        self.get(person_id)
        found: dict[int, face_rows.Candidate] = {}
        elsewhere: set[int] = set()
        rounds = more = 0
        with self.db.connection() as conn:
            references = person_rows.reference_faces(conn, person_id, max_reference_faces)
            while references:
                fresh = []
                for p in person_rows.proposals(conn, person_id, references, per_face, threshold,
                                               [*found, *elsewhere]):
                    other = person_rows.nearest_other_person(conn, p.embedding, person_id)
                    if other is not None and other[1] > p.similarity:
                        elsewhere.add(p.face_id)
                        continue
                    fresh.append(p)
                if rounds == max_rounds:
                    more = len(fresh)
                    break
                if not fresh:
                    break
                rounds += 1
                for p in fresh:
                    found[p.face_id] = face_rows.Candidate(p.face_id, p.photo_id, float(p.similarity))
                references = [p.embedding for p in fresh]
            candidates = sorted(found.values(), key=lambda c: (-c.similarity, c.face_id))
            assigned = 0
            if not dry_run and candidates:
                assigned = person_rows.assign_faces(conn, [c.face_id for c in candidates], person_id, "auto",
                                                    only_unassigned=True)
        return AutoAssignReport(person_id, threshold, dry_run, candidates, assigned, rounds, more, len(elsewhere))
