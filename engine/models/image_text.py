"""One image-text model (SigLIP or CLIP) loaded from a local folder with transformers.

Decode workers only need `preprocessor` (read from the folder's JSON, no torch import); the
process that owns the accelerator calls `encode_images` on uint8 batches and does the
rescale/normalise step there, on the model's device.

Two runtimes run the same weights: torch (transformers; bf16 on CUDA) and, on the CPU, ONNX
Runtime (`engine.models.onnx_backend`, fp32 or int8), picked by CLIP_RUNTIME. `auto` is torch
on a GPU and `DEFAULT_CPU_RUNTIME` on the CPU, the fastest one that passed the fidelity check
of `bench/index_throughput.py --runtimes` (see bench/RESULTS.md).
"""
from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from engine.errors import Invalid, Unavailable
from engine.media.preprocess import Preprocessor
from engine.models.base import Model
from engine.models.errors import DeviceUnavailable
from engine.models.registry import ModelSpec
from engine.vectors import unit_rows

if TYPE_CHECKING:
    import torch

    from engine.models.onnx_backend import OnnxTowers

log = logging.getLogger(__name__)

RUNTIMES = ("torch", "onnx", "onnx-int8", "onnx-int8-static")
"""CLIP_RUNTIME values besides `auto`; the onnx ones run on the CPU."""
DEFAULT_CPU_RUNTIME = "onnx-int8"
"""Fastest on the CPU that passed the fidelity check (bench/RESULTS.md, 160 photos): dynamic int8,
29 core-ms per photo against static int8's 35 on an AVX-512 VNNI Xeon (and no slower on an AVX2
EPYC), closer to fp32 (mean cosine 0.9997), and with no calibration step at export."""
_ONNX_VARIANTS = {"onnx": "fp32", "onnx-int8": "int8", "onnx-int8-static": "int8-static"}

_SIGLIP_MEAN_STD = (0.5, 0.5, 0.5)
_CLIP_MAX_TOKENS = 77
_MODEL_TYPES = {"siglip": {"siglip"}, "clip": {"clip"}}


def cuda_possible() -> bool:
    """False when this Linux machine shows no NVIDIA device at all, so that a CPU-only process
    need not import torch (seconds) to learn it has no CUDA; True where it cannot tell."""
    if sys.platform != "linux":
        return True
    return Path("/proc/driver/nvidia").exists() or Path("/dev/dxg").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def resolve_device(device: str = "auto") -> str:
    """Map "auto" to "cuda" when a CUDA device is present, else "cpu"; check explicit names."""
    if device == "cpu" or (device == "auto" and not cuda_possible()):
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            reason = ("this PyTorch build has no CUDA support" if torch.version.cuda is None
                      else "no CUDA device is available")
            raise DeviceUnavailable("CLIP_DEVICE", device, reason)
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise DeviceUnavailable("CLIP_DEVICE", device, f"this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device != "cpu":
        raise DeviceUnavailable("CLIP_DEVICE", device, "the device must be auto, cpu, cuda or cuda:N")
    return device


def resolve_runtime(runtime: str, device: str) -> str:
    """Map "auto" to torch on an accelerator and `DEFAULT_CPU_RUNTIME` on the CPU; check names."""
    if runtime == "auto":
        return "torch" if device != "cpu" else DEFAULT_CPU_RUNTIME
    if runtime not in RUNTIMES:
        raise Invalid(f"CLIP_RUNTIME={runtime} is not a runtime; set it to auto, {', '.join(RUNTIMES)}.")
    if runtime != "torch" and device != "cpu":
        raise Invalid(f"CLIP_RUNTIME={runtime} runs on the CPU but CLIP_DEVICE is {device}; "
                      "set CLIP_RUNTIME=auto (torch on the GPU) or CLIP_DEVICE=cpu.")
    return runtime


def _limit_cpu_threads(num_threads: int | None) -> None:
    """torch counts the host's cores; in a container or a Dask worker fewer may be ours."""
    import torch

    if num_threads is None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        num_threads = min(torch.get_num_threads(), available)
    if num_threads != torch.get_num_threads():
        torch.set_num_threads(max(1, num_threads))


def output_embeddings(output: Any) -> "torch.Tensor":
    """transformers 4 returns the projected embeddings as a tensor; 5 returns a ModelOutput
    whose `pooler_output` holds them (CLIP: after the projection, SigLIP: the head's output)."""
    import torch

    if isinstance(output, torch.Tensor):
        return output
    for name in ("image_embeds", "text_embeds", "pooler_output"):
        value = getattr(output, name, None)
        if value is not None:
            return value
    raise TypeError(f"Cannot find embeddings in {type(output).__name__}")


class _Runtime(NamedTuple):
    model: Any
    """The transformers model; None on an ONNX runtime."""
    tokenizer: Any
    device: str
    name: str = "torch"
    towers: "OnnxTowers | None" = None


class ImageTextModel(Model[_Runtime]):
    """One image-text model folder; get the process's instance from `engine.models.cache`."""

    def __init__(self, spec: ModelSpec, model_dir: Path, device: str = "auto", num_threads: int | None = None,
                 runtime: str = "auto") -> None:
        super().__init__(device)
        self.spec = spec
        self.model_dir = Path(model_dir)
        self.requested_runtime = runtime
        self.num_threads = num_threads

    def __repr__(self) -> str:
        return f"ImageTextModel({self.spec.name!r}, {str(self.model_dir)!r}, loaded={self.loaded})"

    @cached_property
    def config(self) -> dict[str, Any]:
        """The folder's config.json as a dict."""
        return json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))

    @cached_property
    def preprocessor(self) -> Preprocessor:
        """Input geometry and normalisation, from preprocessor_config.json or family defaults."""
        path = self.model_dir / "preprocessor_config.json"
        if path.is_file():
            return Preprocessor.from_config(json.loads(path.read_text(encoding="utf-8")))
        image_size = self.config.get("vision_config", {}).get("image_size") or self.spec.image_size
        if self.spec.family == "siglip":
            size = int(image_size or 384)
            return Preprocessor(size, size, mean=_SIGLIP_MEAN_STD, std=_SIGLIP_MEAN_STD)
        size = int(image_size or 224)
        return Preprocessor(size, size, shortest_edge=size)

    @property
    def embedding_dim(self) -> int:
        """Output dimension from config.json, without loading weights."""
        if self.spec.family == "siglip":
            return int(self.config.get("vision_config", {}).get("hidden_size", self.spec.dim))
        return int(self.config.get("projection_dim", self.spec.dim))

    @property
    def text_max_length(self) -> int:
        text = self.config.get("text_config", {})
        default = 64 if self.spec.family == "siglip" else _CLIP_MAX_TOKENS
        length = int(text.get("max_position_embeddings", default))
        return length if self.spec.family == "siglip" else min(length, _CLIP_MAX_TOKENS)

    @property
    def device(self) -> str:
        runtime = self._loaded
        return runtime.device if runtime else resolve_device(self.requested_device)

    @property
    def backend(self) -> str:
        """The CLIP_RUNTIME it runs (or will run) on: torch, onnx, onnx-int8, ..."""
        runtime = self._loaded
        if runtime is None:
            return resolve_runtime(self.requested_runtime, self.device)
        if runtime.towers is not None:
            return next(name for name, v in _ONNX_VARIANTS.items() if v == runtime.towers.variant)
        return runtime.name

    @property
    def model(self) -> Any:
        """The transformers model (loads it on first use); None on an ONNX runtime."""
        return self.runtime.model

    @property
    def dim(self) -> int:
        """Output dimension of the loaded model; compare with `spec.dim` for real checkpoints."""
        if self.runtime.towers is not None:
            return self.embedding_dim
        config = self.model.config
        if self.spec.family == "siglip":
            return int(config.vision_config.hidden_size)
        return int(config.projection_dim)

    def _load(self) -> _Runtime:
        """Weights and tokenizer. An ONNX runtime exports the towers on its first load (once per
        model and weights) and opens each graph's session when it is first used."""
        device = resolve_device(self.requested_device)
        runtime = resolve_runtime(self.requested_runtime, device)
        self._check_model_type()
        if runtime != "torch":
            if self.requested_runtime != "auto":
                return self._load_onnx(runtime)
            try:
                return self._load_onnx(runtime)
            except Exception as exc:  # an export that fails (memory, an operator) must not stop indexing
                log.warning("CLIP_RUNTIME=auto: %s on %s failed (%s); using torch. Set CLIP_RUNTIME=torch "
                            "to skip the attempt.", runtime, self.spec.name, exc)
        import torch
        import transformers
        from transformers import AutoModel, AutoTokenizer

        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        if device == "cpu":
            _limit_cpu_threads(self.num_threads)
        dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        transformers.utils.logging.disable_progress_bar()  # "Loading weights" bars inside a CLI's own
        model = AutoModel.from_pretrained(self.model_dir, **{dtype_kw: dtype})
        model.to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        return _Runtime(model, tokenizer, device, "torch")

    def warm(self, *, images: bool = True, texts: bool = True) -> None:
        """Load now and make the named encoders ready, so the first request does not wait."""
        towers = self.runtime.towers
        if towers is not None:
            towers.open(images=images, texts=texts)

    def _check_model_type(self) -> None:
        model_type = self.config.get("model_type")
        if model_type not in _MODEL_TYPES[self.spec.family]:
            raise Unavailable(
                f"{self.model_dir} holds a {model_type!r} model; {self.spec.name} expects "
                f"{' or '.join(sorted(_MODEL_TYPES[self.spec.family]))}."
            )

    def _load_onnx(self, runtime: str) -> _Runtime:
        from engine.models.onnx_backend import OnnxTowers

        threads = self.num_threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None)
        towers = OnnxTowers(self.model_dir, self.spec.family, self.preprocessor, self.text_max_length,
                            variant=_ONNX_VARIANTS[runtime], num_threads=threads)  # type: ignore[arg-type]
        towers.variant  # noqa: B018 - exports (once) and checks the quantised graph now
        return _Runtime(None, None, "cpu", runtime, towers)

    def _release(self, loaded: _Runtime) -> None:
        on_cuda = loaded.device.startswith("cuda")
        del loaded
        gc.collect()
        if on_cuda:
            import torch

            torch.cuda.empty_cache()

    def memory_bytes(self) -> int:
        """Bytes held by parameters and buffers; 0 when not loaded."""
        runtime = self._loaded
        if runtime is None:
            return 0
        if runtime.towers is not None:
            return runtime.towers.file_bytes()
        tensors = [*runtime.model.parameters(), *runtime.model.buffers()]
        return sum(t.numel() * t.element_size() for t in tensors)

    def pixel_values(self, batch: np.ndarray) -> "torch.Tensor":
        """uint8 (N, H, W, 3) -> normalised (N, 3, H, W) on the model's device and dtype."""
        import torch

        _check_batch(batch)
        model = self.model
        pre = self.preprocessor
        array = np.ascontiguousarray(batch)
        if not array.flags.writeable:
            array = array.copy()
        x = torch.from_numpy(array).to(model.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
        mean = torch.tensor(pre.mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(pre.std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
        return x.sub_(mean).div_(std).to(model.dtype)

    def tokenize(self, texts: Sequence[str]) -> dict[str, "torch.Tensor"]:
        """Model text inputs. SigLIP: lower-cased, padded to the full context and without an
        attention mask, as it was trained (it pools the last position). CLIP: padded to the
        longest, truncated at 77, with a mask."""
        runtime = self.runtime
        if runtime.tokenizer is None:
            raise RuntimeError(f"{self.spec.name} runs on {runtime.name}; torch inputs need runtime='torch'")
        tokenizer, device = runtime.tokenizer, runtime.device
        texts = list(texts)
        if self.spec.family == "siglip":
            tokens = tokenizer(
                [t.lower() for t in texts], padding="max_length", truncation=True,
                max_length=self.text_max_length, return_tensors="pt",
            )
            inputs = {"input_ids": tokens["input_ids"]}
        else:
            tokens = tokenizer(
                texts, padding=True, truncation=True, max_length=self.text_max_length, return_tensors="pt"
            )
            inputs = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
        return {k: v.to(device) for k, v in inputs.items()}

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) at `preprocessor` size -> L2-normalised float32 (N, dim)."""
        if len(batch) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        towers = self.runtime.towers
        if towers is not None:
            _check_batch(batch)
            return unit_rows(towers.image_features(batch))
        import torch

        model = self.model
        with torch.inference_mode():
            pixels = self.pixel_values(batch)
            return self._normalised(model.get_image_features(pixel_values=pixels))

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """Queries -> L2-normalised float32 (N, dim), each put in the entry's `query_template` first."""
        if len(texts) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        texts = [self.spec.query(t) for t in texts]
        towers = self.runtime.towers
        if towers is not None:
            return unit_rows(towers.text_features(texts))
        import torch

        model = self.model
        with torch.inference_mode():
            inputs = self.tokenize(texts)
            return self._normalised(model.get_text_features(**inputs))

    @staticmethod
    def _normalised(output: Any) -> np.ndarray:
        import torch.nn.functional as F

        features = output_embeddings(output).float()
        return F.normalize(features, dim=-1).cpu().numpy()


def _check_batch(batch: np.ndarray) -> None:
    if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (N, H, W, 3) batch, got {batch.dtype} {batch.shape}")
