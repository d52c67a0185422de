"""What the faces layer hands out: faces as displayed (rotation applied) and persons."""
from __future__ import annotations

from dataclasses import dataclass

from engine.db.faces import FaceRow
from engine.db.persons import PersonRow
from engine.faces.geometry import rotate_bbox, rotate_points, rotated_size


@dataclass(frozen=True)
class Face:
    id: int
    photo_id: int
    path: str
    bbox: tuple[float, float, float, float]
    """As displayed: the user rotation applied."""
    landmarks: list[list[float]]
    bbox_original: tuple[float, float, float, float]
    """As stored: the photo as decoded and EXIF-oriented, before the user rotation."""
    image_width: int | None
    image_height: int | None
    """Size of the photo as displayed (rotation applied)."""
    rotation: int
    det_score: float
    age: int | None
    gender: str | None
    person_id: int | None
    person_name: str | None
    assigned_by: str | None
    cluster_id: int | None
    model: str

    @classmethod
    def from_row(cls, r: FaceRow) -> "Face":
        rotation = int(r.rotation or 0) % 360
        bbox = tuple(float(v) for v in r.bbox)
        points = [[float(r.landmarks[i]), float(r.landmarks[i + 1])] for i in range(0, len(r.landmarks or []), 2)]
        w, h = r.width, r.height
        if w and h and rotation:
            shown_bbox = rotate_bbox(bbox, w, h, rotation)
            points = rotate_points(points, w, h, rotation)
            shown_w, shown_h = rotated_size(w, h, rotation)
        else:
            shown_bbox, shown_w, shown_h = bbox, w, h
        return cls(
            r.id, r.photo_id, r.path, tuple(round(v, 2) for v in shown_bbox), [[round(x, 2), round(y, 2)] for x, y in points],
            bbox, int(shown_w) if shown_w else None, int(shown_h) if shown_h else None, rotation,
            float(r.det_score), r.age, r.gender.strip() if r.gender else None, r.person_id, r.person_name,
            r.assigned_by, r.cluster_id, r.model,
        )


Person = PersonRow
"""A person as stored (the row already is what callers need: name, cover face, counts)."""
