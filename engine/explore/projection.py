"""Image vectors to 2-D points for an embedding map: UMAP where it can run, PCA otherwise."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

UMAP_MIN_POINTS = 50
"""Below this UMAP's neighbour graph says little (and its spectral start can fail); PCA runs instead."""


@dataclass(frozen=True)
class Projection:
    xy: np.ndarray
    """(n, 2) float32, one row per input vector, in input order."""
    method: str
    """"UMAP", "PCA", or "none" for no vectors."""
    note: str
    """Which method ran and why, in one sentence."""


def umap_available() -> bool:
    return importlib.util.find_spec("umap") is not None


def project(vectors: np.ndarray, *, method: str = "auto", neighbours: int = 15, seed: int = 0) -> Projection:
    """`method`: "auto" (UMAP with cosine distance when umap-learn is installed and there are at
    least `UMAP_MIN_POINTS` vectors, PCA otherwise), "umap" or "pca"."""
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if method not in ("auto", "umap", "pca"):
        raise ValueError(f"unknown projection method {method!r}; use auto, umap or pca")
    if n == 0:
        return Projection(np.zeros((0, 2), np.float32), "none", "No vectors to project.")
    if method == "pca":
        return Projection(pca(vectors), "PCA", f"PCA of {n} vectors (as asked).")
    if not umap_available():
        return Projection(pca(vectors), "PCA", f"PCA of {n} vectors: umap-learn is not installed "
                                               "(pip install -e \".[notebooks]\" brings it).")
    if n < UMAP_MIN_POINTS:
        return Projection(pca(vectors), "PCA", f"PCA of {n} vectors: too few for UMAP "
                                               f"(it runs from {UMAP_MIN_POINTS} photos).")
    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=min(neighbours, n - 1), metric="cosine", random_state=seed)
    xy = reducer.fit_transform(vectors).astype(np.float32)
    return Projection(xy, "UMAP", f"UMAP of {n} vectors ({reducer.n_neighbors} neighbours, cosine distance).")


def pca(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components (zeros for what a tiny or flat set lacks)."""
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    out = np.zeros((len(vectors), 2), np.float32)
    if len(vectors) > 1 and np.any(centred):
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        components = vt[:2]
        out[:, : len(components)] = centred @ components.T
    return out
