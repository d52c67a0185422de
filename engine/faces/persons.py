"""Persons: create, rename, describe, delete, merge, list, details; assign and auto-assign faces."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.db import faces as face_rows
from engine.db import persons as person_rows
from engine.db.database import Database
from engine.faces.errors import FaceNotFound, InvalidRequest, PersonNotFound
from engine.faces.records import Face, Person

_UNSET = object()


@dataclass(frozen=True)
class AutoAssignReport:
    person_id: int
    threshold: float
    dry_run: bool
    candidates: list[face_rows.Candidate] = field(default_factory=list)
    assigned: int = 0


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("a person needs a non-empty name")
    return name[:200]


class PersonService:
    def __init__(self, db: Database, default_threshold: float = 0.5) -> None:
        self.db = db
        self.default_threshold = default_threshold

    def create(self, name: str, description: str | None = None) -> Person:
        with self.db.connection() as conn:
            person_id = person_rows.create(conn, _clean_name(name), description)
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

    def update(self, person_id: int, *, name: str | None = None, description: object = _UNSET,
               cover_face_id: object = _UNSET) -> Person:
        """Rename, describe (None clears), or choose a cover among the person's own faces."""
        fields: dict[str, object] = {}
        if name is not None:
            fields["name"] = _clean_name(name)
        if description is not _UNSET:
            fields["description"] = description
        with self.db.connection() as conn:
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
        """Every face of `source_id` becomes `target_id`'s; the source is deleted."""
        if source_id == target_id:
            raise InvalidRequest("cannot merge a person into itself")
        with self.db.connection() as conn:
            source, target = person_rows.get(conn, source_id), person_rows.get(conn, target_id)
            for pid, row in ((source_id, source), (target_id, target)):
                if row is None:
                    raise PersonNotFound(f"no person with id {pid}")
            person_rows.move_faces(conn, source_id, target_id)
            if not target.description and source.description:
                person_rows.update(conn, target_id, {"description": source.description})
            person_rows.delete(conn, source_id)
            return person_rows.get(conn, target_id)

    def faces(self, person_id: int, limit: int = 100, offset: int = 0) -> list[Face]:
        self.get(person_id)
        with self.db.connection() as conn:
            return [Face.from_row(r) for r in face_rows.of_person(conn, person_id, limit, offset)]

    def assign(self, face_id: int, person_id: int | None = None, *, new_name: str | None = None,
               description: str | None = None) -> Face:
        """Give a face to a person, or to a new person named `new_name`."""
        if (person_id is None) == (new_name is None):
            raise InvalidRequest("give either a person id or a name for a new person")
        with self.db.connection() as conn:
            if face_rows.get(conn, face_id) is None:
                raise FaceNotFound(f"no face with id {face_id}")
            if person_id is None:
                person_id = person_rows.create(conn, _clean_name(new_name), description)
            elif person_rows.get(conn, person_id) is None:
                raise PersonNotFound(f"no person with id {person_id}")
            person_rows.assign_faces(conn, [face_id], person_id, "user")
            return Face.from_row(face_rows.get(conn, face_id))

    def unassign(self, face_id: int) -> Face:
        with self.db.connection() as conn:
            if face_rows.get(conn, face_id) is None:
                raise FaceNotFound(f"no face with id {face_id}")
            person_rows.assign_faces(conn, [face_id], None, None)
            return Face.from_row(face_rows.get(conn, face_id))

    def auto_assign(self, person_id: int, threshold: float | None = None, *, dry_run: bool = True,
                    per_face: int = 200, max_reference_faces: int = 100) -> AutoAssignReport:
        """Unassigned faces at least `threshold` similar (cosine) to one of the person's faces.

        `dry_run` only reports; otherwise they are assigned (marked `auto`). Neighbours come
        from the HNSW index, `per_face` for each of the person's best `max_reference_faces` faces.
        """
        threshold = self.default_threshold if threshold is None else float(threshold)
        if not -1.0 <= threshold <= 1.0:
            raise InvalidRequest(f"threshold must be a cosine similarity in [-1, 1], got {threshold}")
        self.get(person_id)
        with self.db.connection() as conn:
            candidates = face_rows.candidates_for(conn, person_id, threshold, per_face=per_face,
                                                  max_reference_faces=max_reference_faces)
            assigned = 0
            if not dry_run and candidates:
                assigned = person_rows.assign_faces(conn, [c.face_id for c in candidates], person_id, "auto",
                                                    only_unassigned=True)
        return AutoAssignReport(person_id, threshold, dry_run, candidates, assigned)
