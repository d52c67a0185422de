"""Vector helpers shared by the models, the face grouping and the duplicate finder."""
from __future__ import annotations

import numpy as np


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 as float32, so a dot product is a cosine (as pgvector's `<=>`
    measures); an all-zero row stays zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
