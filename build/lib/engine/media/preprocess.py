"""Model input preparation, split in two so each half runs where it is cheapest.

`Preprocessor.to_uint8` does the geometry (resize, crop) in the decode worker and ships a small
uint8 array; `Preprocessor.normalize` turns a batch into float model input next to the model
(on the GPU when there is one). Together they reproduce the Hugging Face image processors of
CLIP (`shortest_edge` + centre crop) and SigLIP (fixed `height` x `width`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

_OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
_OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class Preprocessor:
    height: int
    width: int
    shortest_edge: int | None = None
    """When set, resize the short side to this, then centre-crop to height x width (CLIP)."""
    resample: int = Image.Resampling.BICUBIC
    mean: tuple[float, float, float] = _OPENAI_MEAN
    std: tuple[float, float, float] = _OPENAI_STD

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Preprocessor":
        """Build from a Hugging Face `preprocessor_config.json` dict."""
        size = config.get("size", {"shortest_edge": 224})
        if isinstance(size, int):
            size = {"shortest_edge": size}
        crop = config.get("crop_size") or {}
        if isinstance(crop, int):
            crop = {"height": crop, "width": crop}
        mean = tuple(config.get("image_mean", _OPENAI_MEAN))
        std = tuple(config.get("image_std", _OPENAI_STD))
        resample = int(config.get("resample", Image.Resampling.BICUBIC))
        if "shortest_edge" in size:
            edge = int(size["shortest_edge"])
            do_crop = config.get("do_center_crop", True)
            height = int(crop.get("height", edge)) if do_crop else edge
            width = int(crop.get("width", edge)) if do_crop else edge
            return cls(height, width, shortest_edge=edge, resample=resample, mean=mean, std=std)
        return cls(int(size["height"]), int(size["width"]), resample=resample, mean=mean, std=std)

    @property
    def min_source_side(self) -> int:
        """The smallest short side a decoder may scale down to without losing detail."""
        return self.shortest_edge or max(self.height, self.width)

    def to_uint8(self, image: Image.Image) -> np.ndarray:
        """RGB image -> uint8 array (height, width, 3) at the model's input size."""
        image = image.convert("RGB")
        if self.shortest_edge is None:
            image = image.resize((self.width, self.height), self.resample)
        else:
            w, h = image.size
            scale = self.shortest_edge / min(w, h)
            new_w, new_h = max(self.width, int(w * scale)), max(self.height, int(h * scale))
            image = image.resize((new_w, new_h), self.resample)
            left, top = (new_w - self.width) // 2, (new_h - self.height) // 2
            image = image.crop((left, top, left + self.width, top + self.height))
        return np.asarray(image, dtype=np.uint8)

    def normalize(self, batch: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) -> float32 (N, 3, H, W), rescaled and normalised."""
        x = batch.astype(np.float32) / 255.0
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def key(self) -> str:
        """Identifies the geometry, so models sharing it share one decoded array."""
        return f"{self.height}x{self.width}:{self.shortest_edge}:{self.resample}"
