"""Image-text inference on ONNX Runtime: the CPU runtime, no torch in the process that runs it.

`OnnxTowers` runs the graphs `engine.models.onnx_export` makes (exporting them on first use,
which does need torch, once per model). Texts are tokenised with the `tokenizers` library from
the folder's tokenizer.json, as transformers' fast tokenizer does; a folder without one falls
back to transformers' tokenizer.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.media.preprocess import Preprocessor
from engine.models.onnx_export import ExportedTowers, Variant
from engine.models.registry import Family


def session(path: Path, num_threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session with every graph optimisation; `num_threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if num_threads:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTowers:
    """The vision and text graphs of one model; each session is opened once, on first use."""

    def __init__(self, model_dir: Path, family: Family, preprocessor: Preprocessor, text_max_length: int,
                 variant: Variant = "fp32", num_threads: int | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.family = family
        self.preprocessor = preprocessor
        self.text_max_length = text_max_length
        self.requested_variant = variant
        self.num_threads = num_threads
        self.exported = ExportedTowers(self.model_dir, family, preprocessor)
        self._lock = threading.Lock()
        self._variant: Variant | None = None
        self._sessions: dict[str, tuple[Path, Any]] = {}
        self._tokenizer: Tokenizer | None = None

    @property
    def variant(self) -> Variant:
        """The variant that runs: the requested one, or fp32 when a quantised one failed its check
        (exports the graphs on first call)."""
        with self._lock:
            if self._variant is None:
                usable = self.exported.vision(self.requested_variant) is not None
                self._variant = self.requested_variant if usable else "fp32"
            return self._variant

    def _session(self, tower: str) -> Any:
        variant = self.variant
        with self._lock:
            if tower not in self._sessions:
                path = self.exported.text() if tower == "text" else self.exported.vision(variant)
                assert path is not None
                self._sessions[tower] = (path, session(path, self.num_threads))
            return self._sessions[tower][1]

    def open(self, *, images: bool = True, texts: bool = True) -> None:
        """Export if needed and open the sessions now (a model worker needs only images)."""
        for tower, wanted in (("vision", images), ("text", texts)):
            if wanted:
                self._session(tower)

    def image_features(self, batch: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) at the model's input size -> float32 (N, dim), not normalised."""
        return self._session("vision").run(None, {"pixels": np.ascontiguousarray(batch)})[0]

    def text_features(self, texts: Sequence[str]) -> np.ndarray:
        text = self._session("text")
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = Tokenizer(self.model_dir, self.family, self.text_max_length)
        inputs = self._tokenizer(texts)
        names = {i.name for i in text.get_inputs()}
        return text.run(None, {k: v for k, v in inputs.items() if k in names})[0]

    def file_bytes(self) -> int:
        """Bytes of the graphs whose sessions are open (their weights dominate)."""
        with self._lock:
            return sum(path.stat().st_size for path, _ in self._sessions.values())


class Tokenizer:
    """Token ids as transformers' fast tokenizer gives them, without importing transformers.

    SigLIP: lower-cased, padded to the full context, no mask. CLIP: padded to the longest text,
    truncated at `max_length`, with a mask."""

    def __init__(self, model_dir: Path, family: Family, max_length: int) -> None:
        self.model_dir = model_dir
        self.family = family
        self.max_length = max_length
        path = model_dir / "tokenizer.json"
        self._fast = self._load_fast(path) if path.is_file() else None
        self._slow: Any = None

    def _load_fast(self, path: Path) -> Any:
        from tokenizers import Tokenizer as HFTokenizer

        tokenizer = HFTokenizer.from_file(str(path))
        pad = self._special("pad_token")
        pad_id = tokenizer.token_to_id(pad) if pad else None
        tokenizer.enable_truncation(self.max_length)
        if pad_id is None:
            return tokenizer
        length = self.max_length if self.family == "siglip" else None
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad, length=length)
        return tokenizer

    def _special(self, name: str) -> str | None:
        for file in ("tokenizer_config.json", "special_tokens_map.json"):
            try:
                value = json.loads((self.model_dir / file).read_text(encoding="utf-8")).get(name)
            except (OSError, ValueError):
                continue
            if isinstance(value, dict):
                value = value.get("content")
            if value:
                return str(value)
        return None

    def __call__(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        texts = [t.lower() for t in texts] if self.family == "siglip" else list(texts)
        if self._fast is None:
            return self._transformers(texts)
        encodings = self._fast.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return {"input_ids": ids} if self.family == "siglip" else {"input_ids": ids, "attention_mask": mask}

    def _transformers(self, texts: list[str]) -> dict[str, np.ndarray]:
        if self._slow is None:
            from transformers import AutoTokenizer

            self._slow = AutoTokenizer.from_pretrained(self.model_dir)
        padding = "max_length" if self.family == "siglip" else True
        tokens = self._slow(texts, padding=padding, truncation=True, max_length=self.max_length, return_tensors="np")
        ids = tokens["input_ids"].astype(np.int64)
        if self.family == "siglip":
            return {"input_ids": ids}
        return {"input_ids": ids, "attention_mask": tokens["attention_mask"].astype(np.int64)}
