"""The image and text towers of a SigLIP/CLIP folder as ONNX graphs, exported once and cached.

The vision graph takes what decode workers ship, uint8 (N, H, W, 3) at the model's input size,
and does the rescale/normalise step itself; the text graph takes token ids (and, for CLIP, the
attention mask). Both return the projected, not yet normalised, embeddings.

The cache is a folder next to the model folder (`<model>.onnx/`), or under the system's temp
folder when that one cannot be written. Its `manifest.json` records a fingerprint of the weights
and config; a folder whose weights changed is exported again. An int8 graph is made from the
fp32 one (dynamic: weights int8, activations quantised per batch; static: activations calibrated
on the bundled sample photos) and checked against it on those photos: a variant whose embeddings
drift (mean cosine under `INT8_MIN_COSINE`) is marked failed and not used.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.media.preprocess import Preprocessor
from engine.models.registry import Family

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
"""Bump when the exported graphs change, so old caches are exported again."""
OPSET = 17
INT8_MIN_COSINE = 0.99
"""A quantised tower is used only when its embeddings stay this close to fp32 on the sample photos."""

Variant = Literal["fp32", "int8", "int8-static"]
VARIANTS: tuple[Variant, ...] = ("fp32", "int8", "int8-static")
_FILES = {"fp32": "vision.onnx", "int8": "vision-int8.onnx", "int8-static": "vision-int8-static.onnx"}
TEXT_FILE = "text.onnx"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


class ExportFailed(RuntimeError):
    pass


def weights_fingerprint(model_dir: Path) -> str:
    """Names, sizes and modification times of the weights, and the config's bytes."""
    digest = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for path in sorted(model_dir.iterdir()):
        if path.suffix in _WEIGHT_SUFFIXES:
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update((model_dir / "config.json").read_bytes())
    return digest.hexdigest()[:32]


def cache_dir(model_dir: Path) -> Path:
    """`<model>.onnx/` beside the model folder, else a folder under the temp folder."""
    sibling = model_dir.parent / f"{model_dir.name}.onnx"
    try:
        sibling.mkdir(exist_ok=True)
        if os.access(sibling, os.W_OK):
            return sibling
    except OSError:
        pass
    key = hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:16]
    fallback = Path(tempfile.gettempdir()) / "photoindex-onnx" / f"{model_dir.name}-{key}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One exporter at a time per cache folder (the model worker and the API process may race)."""
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_manifest(folder: Path, fingerprint: str) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"fingerprint": fingerprint, "variants": {}}
    if manifest.get("fingerprint") != fingerprint:
        return {"fingerprint": fingerprint, "variants": {}}
    return manifest


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    staging = folder / "manifest.json.tmp"
    staging.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    staging.replace(folder / "manifest.json")


class ExportedTowers:
    """The cache folder of one model: paths of the graphs, exporting what is missing."""

    def __init__(self, model_dir: Path, family: Family, preprocessor: Preprocessor) -> None:
        self.model_dir = Path(model_dir)
        self.family = family
        self.preprocessor = preprocessor
        self.folder = cache_dir(self.model_dir)

    def vision(self, variant: Variant) -> Path | None:
        """The vision graph of `variant`, exported (and checked) on first use; None when a
        quantised variant failed its fidelity check, so the caller falls back to fp32."""
        entry = self._ensure(variant)
        return self.folder / _FILES[variant] if entry.get("passed", True) else None

    def text(self) -> Path:
        self._ensure("fp32")
        return self.folder / TEXT_FILE

    def check(self, variant: Variant) -> dict[str, Any]:
        """The manifest entry of `variant`: file, seconds to make it, fidelity against fp32."""
        return self._ensure(variant)

    def _ensure(self, variant: Variant) -> dict[str, Any]:
        fingerprint = weights_fingerprint(self.model_dir)
        manifest = _read_manifest(self.folder, fingerprint)
        if self._usable(manifest, variant):
            return manifest["variants"][variant]
        with _locked(self.folder):
            manifest = _read_manifest(self.folder, fingerprint)  # another process may have made it
            if not self._usable(manifest, variant):
                if not self._usable(manifest, "fp32"):
                    manifest["variants"] = {"fp32": self._export_fp32()}
                if variant != "fp32":
                    manifest["variants"][variant] = self._quantise(variant)
                _write_manifest(self.folder, manifest)
        return manifest["variants"][variant]

    def _usable(self, manifest: dict[str, Any], variant: Variant) -> bool:
        entry = manifest["variants"].get(variant)
        files = [_FILES[variant]] + ([TEXT_FILE] if variant == "fp32" else [])
        return entry is not None and all((self.folder / f).is_file() for f in files)

    def _export_fp32(self) -> dict[str, Any]:
        started = time.perf_counter()
        log.info("exporting %s to ONNX in %s (once per model)", self.model_dir, self.folder)
        export_towers(self.model_dir, self.family, self.preprocessor, self.folder / _FILES["fp32"], self.folder / TEXT_FILE)
        return {"file": _FILES["fp32"], "seconds": round(time.perf_counter() - started, 1)}

    def _quantise(self, variant: Variant) -> dict[str, Any]:
        started = time.perf_counter()
        source, target = self.folder / _FILES["fp32"], self.folder / _FILES[variant]
        images = calibration_images(self.preprocessor)
        staging = target.with_suffix(".tmp")
        if variant == "int8":
            quantise_dynamic(source, staging)
        else:
            quantise_static(source, staging, images)
        staging.replace(target)
        cosine = _mean_cosine(source, target, images)
        passed = cosine >= INT8_MIN_COSINE
        if not passed:
            log.warning("the %s graph of %s drifts from fp32 (mean cosine %.4f < %.2f); fp32 is used instead",
                        variant, self.model_dir, cosine, INT8_MIN_COSINE)
        return {"file": _FILES[variant], "seconds": round(time.perf_counter() - started, 1),
                "mean_cosine": round(float(cosine), 5), "passed": passed}


def export_towers(model_dir: Path, family: Family, preprocessor: Preprocessor, vision_path: Path, text_path: Path) -> None:
    """Trace both towers of the transformers model in `model_dir` to ONNX (fp32)."""
    import torch
    from transformers import AutoModel

    from engine.models.image_text import output_embeddings

    model = AutoModel.from_pretrained(model_dir, **{_dtype_kw(): torch.float32}).eval().requires_grad_(False)

    class Vision(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model
            self.register_buffer("mean", torch.tensor(preprocessor.mean, dtype=torch.float32).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(preprocessor.std, dtype=torch.float32).view(1, 3, 1, 1))

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            x = pixels.permute(0, 3, 1, 2).to(torch.float32) / 255.0
            return output_embeddings(self.model.get_image_features(pixel_values=(x - self.mean) / self.std))

    class Text(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
            kwargs = {} if attention_mask is None else {"attention_mask": attention_mask}
            return output_embeddings(self.model.get_text_features(input_ids=input_ids, **kwargs))

    pixels = torch.zeros((2, preprocessor.height, preprocessor.width, 3), dtype=torch.uint8)
    text_len = int(model.config.text_config.max_position_embeddings)
    ids = torch.full((2, text_len), 5, dtype=torch.long)
    ids[:, -1] = int(model.config.text_config.eos_token_id or 2)
    with torch.inference_mode(), _quiet_export():
        _export(Vision(model), (pixels,), vision_path, ["pixels"], {"pixels": {0: "n"}})
        if family == "clip":
            mask = torch.ones_like(ids)
            _export(Text(model), (ids, mask), text_path, ["input_ids", "attention_mask"],
                    {"input_ids": {0: "n", 1: "length"}, "attention_mask": {0: "n", 1: "length"}})
        else:  # SigLIP pads to the full context and pools the last position
            _export(Text(model), (ids,), text_path, ["input_ids"], {"input_ids": {0: "n"}})
    del model


def _export(module: Any, args: tuple, path: Path, inputs: list[str], axes: dict[str, dict[int, str]]) -> None:
    import torch

    staging = path.with_suffix(".tmp")
    torch.onnx.export(module, args, staging, input_names=inputs, output_names=["embeddings"],
                      dynamic_axes={**axes, "embeddings": {0: "n"}}, opset_version=OPSET, dynamo=False)
    staging.replace(path)


@contextmanager
def _quiet_export() -> Iterator[None]:
    """The tracer warns about every Python branch it freezes; the graphs are checked instead."""
    import warnings

    from transformers.utils import logging as transformers_logging

    level = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        transformers_logging.set_verbosity(level)


def _dtype_kw() -> str:
    import transformers

    return "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"


def quantise_dynamic(source: Path, target: Path) -> None:
    """int8 weights per output channel; activations quantised per batch at run time (MatMul, Gemm).

    Weights keep 7 bits (`reduce_range`): x86 CPUs without VNNI multiply u8 activations by s8
    weights with VPMADDUBSW, whose 16-bit sums saturate with full-range weights (mean cosine to
    fp32 0.95 instead of 0.9998 on a small SigLIP); the 7-bit range cannot saturate."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_quantiser():
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         op_types_to_quantize=["MatMul", "Gemm"])


def quantise_static(source: Path, target: Path, images: np.ndarray) -> None:
    """int8 weights and activations (QDQ), activation ranges calibrated on `images`."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{"pixels": images[i:i + 4]} for i in range(0, len(images), 4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with _quiet_quantiser():
        quantize_static(source, target, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["MatMul", "Gemm", "Conv"])


@contextmanager
def _quiet_quantiser() -> Iterator[None]:
    """The quantiser logs advice through the root logger on every call."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def calibration_images(preprocessor: Preprocessor) -> np.ndarray:
    """The bundled sample photos at the model's input size, and their mirror images."""
    from PIL import Image, ImageOps

    from engine.config import SAMPLE_PHOTOS_DIR

    arrays = []
    for path in sorted(SAMPLE_PHOTOS_DIR.rglob("*")):
        if path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
            with Image.open(path) as image:
                image = ImageOps.exif_transpose(image).convert("RGB")
                arrays += [preprocessor.to_uint8(image), preprocessor.to_uint8(ImageOps.mirror(image))]
    return np.stack(arrays)


def _mean_cosine(reference: Path, candidate: Path, images: np.ndarray) -> float:
    from engine.models.onnx_backend import session

    ref = session(reference).run(None, {"pixels": images})[0]
    got = session(candidate).run(None, {"pixels": images})[0]
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    return float(np.mean(np.sum(ref * got, axis=1)))
