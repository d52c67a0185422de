"""Face boxes under the user rotation, and matching old faces to new ones.

Boxes are stored in the photo as decoded and EXIF-oriented, at full size (`photos.width` x
`photos.height`), before the user's non-destructive rotation (`exif_data["UserRotation"]`,
clockwise). They are rotated here, on read, so rotating a photo never rewrites its faces.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BBox = tuple[float, float, float, float]


def rotate_point(x: float, y: float, width: float, height: float, rotation: int) -> tuple[float, float]:
    """A point of a width x height image, after turning the image `rotation` degrees clockwise."""
    r = int(rotation) % 360
    if r == 90:
        return height - y, x
    if r == 180:
        return width - x, height - y
    if r == 270:
        return y, width - x
    return x, y


def rotate_bbox(bbox: Sequence[float], width: float, height: float, rotation: int) -> BBox:
    x1, y1 = rotate_point(bbox[0], bbox[1], width, height, rotation)
    x2, y2 = rotate_point(bbox[2], bbox[3], width, height, rotation)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def rotate_points(points: Sequence[Sequence[float]], width: float, height: float, rotation: int) -> list[list[float]]:
    return [list(rotate_point(x, y, width, height, rotation)) for x, y in points]


def rotated_size(width: float, height: float, rotation: int) -> tuple[float, float]:
    return (height, width) if int(rotation) % 180 == 90 else (width, height)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_faces(
    old_boxes: Sequence[Sequence[float]],
    old_vectors: Sequence[np.ndarray],
    new_boxes: Sequence[Sequence[float]],
    new_vectors: Sequence[np.ndarray],
    *,
    min_iou: float = 0.4,
    min_similarity: float = 0.6,
) -> dict[int, int]:
    """Greedy one-to-one match new index -> old index: the same place (IoU) or the same face
    (cosine of unit vectors); strongest pairs first."""
    pairs: list[tuple[float, int, int]] = []
    for j, (nb, nv) in enumerate(zip(new_boxes, new_vectors)):
        for i, (ob, ov) in enumerate(zip(old_boxes, old_vectors)):
            overlap = iou(ob, nb)
            similarity = float(np.dot(ov, nv))
            if overlap >= min_iou or similarity >= min_similarity:
                pairs.append((overlap + max(similarity, 0.0), j, i))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, j, i in sorted(pairs, reverse=True):
        if j not in matched and i not in used:
            matched[j] = i
            used.add(i)
    return matched
