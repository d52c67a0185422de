"""The CPU model runtimes side by side on the same decoded photos, with their fidelity to torch fp32.

Each runtime embeds the same uint8 batches; its speed is the model stage alone, and its fidelity
is measured against torch fp32 on those photos: the mean (and worst) cosine of each photo's two
embeddings, and recall@10 of the runtime's ranking against fp32's, with every photo as an image
query and with text queries (through the fp32 text tower, so only the image side differs). A
runtime passes with recall@10 >= 0.98 and mean cosine >= `INT8_MIN_COSINE`; the engine's default
is the fastest that passes.

Recall counts a photo of the runtime's top 10 as found when fp32 scores it within `TIE` of
fp32's own 10th (ann-benchmarks' rule, epsilon 1e-3): on random weights the 10th and 11th photos
of a text query are ~1e-4 apart, so the strict overlap measures ties, not the runtime. The
table shows the strict figure too, and the noise floor: fp32 itself on the same photos with
every pixel value moved by at most 1.

OpenVINO runs when its package is installed (`pip install openvino`), on the same ONNX graphs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import CpuMeter

from engine.models.image_text import DEFAULT_CPU_RUNTIME, ImageTextModel
from engine.models.onnx_export import INT8_MIN_COSINE, ExportedTowers
from engine.models.registry import ModelSpec

MIN_RECALL = 0.98
TOP_K = 10
TIE = 1e-3
"""Cosine within which a photo ties with fp32's 10th (ann-benchmarks' recall epsilon)."""
QUERIES = ["a photo of a beach", "mountains with snow", "a red car", "a city at night", "a dog", "sunset over the sea",
           "a family dinner", "a green forest", "flowers in a field", "a cat on a sofa", "fireworks", "a lake in autumn"]


@dataclass(frozen=True)
class RuntimeRow:
    runtime: str
    what: str
    cpu: CpuMeter
    files: int
    mean_cosine: float
    min_cosine: float
    recall_images: float
    recall_texts: float
    strict_images: float
    strict_texts: float
    setup_s: float

    @property
    def rate(self) -> float:
        return self.files / self.cpu.seconds

    @property
    def passes(self) -> bool:
        return self.mean_cosine >= INT8_MIN_COSINE and min(self.recall_images, self.recall_texts) >= MIN_RECALL

    def markdown(self, default: str) -> str:
        core_ms = 1000 * self.cpu.own_cores * self.cpu.seconds / self.files
        verdict = ("passes" if self.passes else "**fails**") + (" — **default**" if self.runtime == default else "")
        return (f"| {self.runtime} | {self.what} | **{self.rate:.1f}** | {core_ms:.0f} | {self.mean_cosine:.5f} |"
                f" {self.min_cosine:.5f} | {self.recall_images:.3f} | {self.recall_texts:.3f} |"
                f" {self.strict_images:.3f} / {self.strict_texts:.3f} | {self.setup_s:.1f} | {verdict} |"
                f" {self.cpu.other_cores:.2f} |")


def recall_at_k(reference: np.ndarray, candidate: np.ndarray, queries_ref: np.ndarray, queries_cand: np.ndarray,
                exclude_self: bool, tie: float = TIE) -> float:
    """Share of the top-k photos ranked by `candidate` that `reference` scores at least its own k-th
    best minus `tie` (0: the plain overlap of the two top-k lists, up to exact ties)."""
    ref_scores, cand_scores = queries_ref @ reference.T, queries_cand @ candidate.T
    if exclude_self:
        np.fill_diagonal(ref_scores, -np.inf)
        np.fill_diagonal(cand_scores, -np.inf)
    k = min(TOP_K, reference.shape[0] - int(exclude_self))
    kth = -np.sort(-ref_scores, axis=1)[:, k - 1]
    cand_top = np.argsort(-cand_scores, axis=1)[:, :k]
    return float(np.mean(np.take_along_axis(ref_scores, cand_top, axis=1) >= (kth - tie)[:, None]))


def _fidelity(reference: np.ndarray, embeddings: np.ndarray, texts: np.ndarray) -> dict[str, float]:
    cosines = np.sum(embeddings * reference, axis=1)
    return {"mean_cosine": float(cosines.mean()), "min_cosine": float(cosines.min()),
            "recall_images": recall_at_k(reference, embeddings, reference, embeddings, exclude_self=True),
            "recall_texts": recall_at_k(reference, embeddings, texts, texts, exclude_self=False),
            "strict_images": recall_at_k(reference, embeddings, reference, embeddings, exclude_self=True, tie=0),
            "strict_texts": recall_at_k(reference, embeddings, texts, texts, exclude_self=False, tie=0)}


def _nudged(batches: list[np.ndarray]) -> list[np.ndarray]:
    """The same photos with every pixel value moved by -1, 0 or +1 (seeded): no visible change."""
    rng = np.random.default_rng(0)
    return [np.clip(b.astype(np.int16) + rng.integers(-1, 2, b.shape), 0, 255).astype(np.uint8) for b in batches]


def _timed(encode, batches: list[np.ndarray]) -> tuple[np.ndarray, CpuMeter]:
    encode(batches[0])
    with CpuMeter() as cpu:
        out = np.concatenate([encode(b) for b in batches])
    return out, cpu


def _openvino(path: Path, threads: int):
    import openvino as ov

    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"})

    def encode(batch: np.ndarray) -> np.ndarray:
        features = compiled(np.ascontiguousarray(batch))[0]
        return features / np.linalg.norm(features, axis=1, keepdims=True)

    return encode, f"OpenVINO {ov.__version__}"


def compare(spec: ModelSpec, model_dir: Path, arrays: list[np.ndarray], batch_size: int, threads: int,
            runtimes: list[str]) -> tuple[list[RuntimeRow], str, dict[str, float]]:
    """Rows for torch fp32 and each of `runtimes`, the fastest that passes, and the noise floor
    (fp32's fidelity to itself on the nudged photos)."""
    batches = [np.stack(arrays[i:i + batch_size]) for i in range(0, len(arrays), batch_size)]
    torch_model = ImageTextModel(spec, model_dir, device="cpu", num_threads=threads, runtime="torch")
    started = time.perf_counter()
    torch_model.load()
    setup = time.perf_counter() - started
    reference, cpu = _timed(torch_model.encode_images, batches)
    texts = torch_model.encode_text(QUERIES)
    floor = _fidelity(reference, np.concatenate([torch_model.encode_images(b) for b in _nudged(batches)]), texts)
    torch_model.unload()

    def row(name: str, what: str, embeddings: np.ndarray, meter: CpuMeter, seconds: float) -> RuntimeRow:
        return RuntimeRow(name, what, meter, len(arrays), setup_s=seconds, **_fidelity(reference, embeddings, texts))

    rows = [row("torch", f"transformers fp32, batch {batch_size}, {threads} threads (the reference)", reference, cpu, setup)]
    exported = ExportedTowers(model_dir, spec.family, torch_model.preprocessor)
    for name in runtimes:
        if name.startswith("openvino"):
            variant = "int8-static" if name.endswith("int8-static") else "fp32"
            path = exported.vision(variant) or exported.vision("fp32")
            started = time.perf_counter()
            try:
                encode, what = _openvino(path, threads)  # type: ignore[arg-type]
            except ImportError:
                continue
            setup = time.perf_counter() - started
            embeddings, cpu = _timed(encode, batches)
            rows.append(row(name, f"{what} on the ONNX {variant} graph, batch {batch_size}, {threads} threads",
                            embeddings, cpu, setup))
            continue
        model = ImageTextModel(spec, model_dir, device="cpu", num_threads=threads, runtime=name)
        started = time.perf_counter()
        model.warm(texts=False)
        setup = time.perf_counter() - started
        embeddings, cpu = _timed(model.encode_images, batches)
        ran = model.backend
        check = exported.check({"onnx": "fp32", "onnx-int8": "int8", "onnx-int8-static": "int8-static"}[name])
        note = f"; engine check on the sample photos: mean cosine {check['mean_cosine']}" if "mean_cosine" in check else ""
        what = f"ONNX Runtime, {ran if ran != name else name} graph, batch {batch_size}, {threads} threads{note}"
        rows.append(row(name, what, embeddings, cpu, setup))
        model.unload()
    passing = [r for r in rows if r.passes]
    fastest = max(passing, key=lambda r: r.rate).runtime if passing else "torch"
    return rows, fastest, floor


def print_table(rows: list[RuntimeRow], fastest: str, floor: dict[str, float], files: int) -> None:
    print(f"\n### Model runtimes on the CPU: the same {files} decoded photos, fidelity against torch fp32\n")
    print("| runtime | what | img/s | core-ms/img | mean cosine | min cosine | recall@10 image queries |"
          " recall@10 text queries | strict recall@10 image / text (tie 0) | load s (export cached) | verdict |"
          " other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r.markdown(DEFAULT_CPU_RUNTIME))
    print(f"\nrecall@10: a photo counts when fp32 scores it within {TIE:g} of fp32's own 10th (ann-benchmarks' rule)."
          f" Noise floor, fp32 on the same photos with each pixel value moved by at most 1: mean cosine"
          f" {floor['mean_cosine']:.5f}, recall@10 image / text {floor['recall_images']:.3f} / {floor['recall_texts']:.3f},"
          f" strict {floor['strict_images']:.3f} / {floor['strict_texts']:.3f}.")
    print(f"\nfastest passing here: **{fastest}**; engine default on the CPU (`DEFAULT_CPU_RUNTIME`): {DEFAULT_CPU_RUNTIME}")
