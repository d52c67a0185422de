"""The face model: an SCRFD detector + an ArcFace recogniser (+ genderage when the pack has it),
run by the `insightface` package on onnxruntime.

insightface routes each ONNX file of a pack folder to its task; we keep detection, recognition
and genderage (the 106-point landmark model is skipped: nothing here uses it). Detection runs
per image at the requested input size and threshold; recognition runs once per batch on every
aligned face of every image.

SCRFD misses a face that fills the whole picture (an ID photo, an avatar-like crop: 49 of 50
tight 150x150 crops of the test photos). A picture where nothing was found is therefore tried
once more with a margin of 25 % of its longer side all round, filled with its mean colour; faces found there
are kept when their box lies mostly inside the picture. Boxes are clipped to the picture.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.faces.geometry import clip_bbox, pad_picture, share_inside
from engine.models.base import Model
from engine.models.errors import FaceModelNotAvailable
from engine.vectors import unit_rows

log = logging.getLogger(__name__)

EMBEDDING_DIM = 512
_RECOGNITION_BATCH = 64
RETRY_PADDING = 0.25
"""Of the picture's size on every side, for the second try on a picture where no face was found."""


@dataclass
class DetectedFace:
    bbox: tuple[float, float, float, float]
    """x1, y1, x2, y2 in the pixels of the image given to `analyze` (callers rescale)."""
    landmarks: list[list[float]]
    """Five points: eyes, nose, mouth corners."""
    det_score: float
    embedding: np.ndarray = field(repr=False)
    """Unit-length 512-d vector."""
    age: int | None = None
    gender: str | None = None
    """"M" / "F", or None without a genderage model."""

    def scaled(self, sx: float, sy: float) -> "DetectedFace":
        x1, y1, x2, y2 = self.bbox
        return DetectedFace(
            (x1 * sx, y1 * sy, x2 * sx, y2 * sy), [[x * sx, y * sy] for x, y in self.landmarks],
            self.det_score, self.embedding, self.age, self.gender,
        )


def onnx_providers(device: str) -> list[str]:
    """CUDA when asked for (or `auto` and present in this onnxruntime build), else CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    wants_cuda = device.startswith("cuda") or device == "auto"
    if wants_cuda and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device.startswith("cuda"):
        log.warning("FACE_DEVICE=%s but onnxruntime has no CUDA provider; running faces on CPU", device)
    return ["CPUExecutionProvider"]


class FaceAnalyzer(Model[Any]):
    """One face pack (an insightface `FaceAnalysis`); `analyze` is serialised (one session set).
    Get the process's instance from `engine.models.cache`."""

    def __init__(self, pack_dir: Path, device: str = "auto") -> None:
        super().__init__(device)
        self.pack_dir = Path(pack_dir)

    @property
    def name(self) -> str:
        return self.pack_dir.name

    @property
    def device(self) -> str:
        """FACE_DEVICE until loaded, then where the detector's session runs."""
        app = self._loaded
        if app is None:
            return self.requested_device
        return "cuda" if "CUDAExecutionProvider" in app.models["detection"].session.get_providers() else "cpu"

    def _load(self) -> Any:
        from insightface.app import FaceAnalysis

        providers = onnx_providers(self.requested_device)
        try:
            app = FaceAnalysis(name=str(self.pack_dir), providers=providers,
                               allowed_modules=["detection", "recognition", "genderage"])
        except AssertionError as exc:
            raise FaceModelNotAvailable(self.name, [self.pack_dir], "the folder has no SCRFD detector") from exc
        if "recognition" not in app.models:
            raise FaceModelNotAvailable(self.name, [self.pack_dir], "the folder has no ArcFace recogniser")
        ctx_id = 0 if providers[0] == "CUDAExecutionProvider" else -1
        app.prepare(ctx_id=ctx_id, det_size=(640, 640))
        dim = app.models["recognition"].output_shape[-1]
        if isinstance(dim, int) and dim != EMBEDDING_DIM:
            raise FaceModelNotAvailable(self.name, [self.pack_dir], f"its recogniser gives {dim}-d vectors, not {EMBEDDING_DIM}")
        log.info("face model %s loaded from %s on %s", self.name, self.pack_dir, providers[0])
        return app

    @property
    def has_genderage(self) -> bool:
        return "genderage" in self.runtime.models

    def analyze(
        self, images: list[np.ndarray], *, det_size: int = 640, threshold: float = 0.5, min_size: float = 0.0
    ) -> list[list[DetectedFace]]:
        """RGB uint8 (H, W, 3) images -> their faces, largest first within each image.

        `min_size` is the shortest accepted box side in the given pixels."""
        from insightface.app.common import Face
        from insightface.utils import face_align

        app = self.runtime
        with self._lock:
            detector = app.models["detection"]
            recogniser = app.models["recognition"]
            genderage = app.models.get("genderage")
            found: list[list[tuple[Face, int]]] = []
            crops: list[np.ndarray] = []
            offsets: list[tuple[int, int, int, int]] = []
            for image in images:
                height, width = image.shape[:2]
                bgr = np.ascontiguousarray(image[..., ::-1])
                boxes, kpss = detector.detect(bgr, input_size=(det_size, det_size), det_thresh=threshold)
                px = py = 0
                if boxes.shape[0] == 0:  # a face filling the frame: try again with room around it
                    bgr, (px, py) = pad_picture(bgr, RETRY_PADDING)
                    boxes, kpss = detector.detect(bgr, input_size=(det_size, det_size), det_thresh=threshold)
                faces: list[tuple[Face, int]] = []
                for k in range(boxes.shape[0]):
                    x1, y1, x2, y2, score = (float(v) for v in boxes[k])
                    if min(x2 - x1, y2 - y1) < min_size or kpss is None:
                        continue
                    if (px or py) and share_inside((x1 - px, y1 - py, x2 - px, y2 - py), width, height) < 0.5:
                        continue
                    face = Face(bbox=boxes[k, :4], kps=kpss[k], det_score=score)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", FutureWarning)  # scikit-image API notice inside insightface
                        crops.append(face_align.norm_crop(bgr, landmark=kpss[k], image_size=recogniser.input_size[0]))
                    if genderage is not None:
                        genderage.get(bgr, face)
                    faces.append((face, len(crops) - 1))
                found.append(faces)
                offsets.append((px, py, width, height))
            vectors = self._embed(recogniser, crops)
        results: list[list[DetectedFace]] = []
        for faces, (px, py, width, height) in zip(found, offsets):
            out = []
            for face, idx in faces:
                x1, y1, x2, y2 = clip_bbox([float(face.bbox[0]) - px, float(face.bbox[1]) - py,
                                            float(face.bbox[2]) - px, float(face.bbox[3]) - py], width, height)
                gender = None if face.get("gender") is None else ("M" if int(face["gender"]) == 1 else "F")
                age = None if face.get("age") is None else int(face["age"])
                out.append(DetectedFace((x1, y1, x2, y2), [[float(x) - px, float(y) - py] for x, y in face.kps],
                                        float(face.det_score), vectors[idx], age, gender))
            out.sort(key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]), reverse=True)
            results.append(out)
        return results

    @staticmethod
    def _embed(recogniser, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        parts = [np.asarray(recogniser.get_feat(crops[i : i + _RECOGNITION_BATCH]), np.float32)
                 for i in range(0, len(crops), _RECOGNITION_BATCH)]
        return unit_rows(np.concatenate(parts).reshape(len(crops), -1))
