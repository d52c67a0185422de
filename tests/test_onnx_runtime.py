"""The CPU runtime on ONNX Runtime: graphs exported from the same weights give torch's embeddings
(fp32 to float precision, int8 within the fidelity bound), the export is cached and redone when
the weights change, a quantised graph that drifts is not used, and no torch in its process."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.errors import Invalid
from engine.models import onnx_export
from engine.models.image_text import DEFAULT_CPU_RUNTIME, RUNTIMES, ImageTextModel, resolve_runtime
from engine.models.onnx_backend import Tokenizer
from tests.synthetic_models import build_random_model
from tests.tiny_models import tiny_spec

FAMILIES = ("siglip", "clip")
TEXTS = ["red", "A photo of a RED cat on the beach", "Красный кот на пляже", "",
         " ".join(["sea"] * 40)]  # longer than the tiny models' 16-token context


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("onnx")
    return {family: build_random_model(family, root / family, "tiny", seed=3) for family in FAMILIES}  # type: ignore[arg-type]


def _model(folder: Path, family: str, runtime: str) -> ImageTextModel:
    return ImageTextModel(tiny_spec(family), folder, device="cpu", runtime=runtime)  # type: ignore[arg-type]


def _images(model: ImageTextModel, n: int = 12) -> np.ndarray:
    pre = model.preprocessor
    return np.random.default_rng(0).integers(0, 256, (n, pre.height, pre.width, 3), dtype=np.uint8)


@pytest.mark.parametrize("family", FAMILIES)
def test_onnx_towers_reproduce_torch(model_dirs: dict[str, Path], family: str) -> None:
    torch_model = _model(model_dirs[family], family, "torch")
    images = _images(torch_model)
    reference_images, reference_texts = torch_model.encode_images(images), torch_model.encode_text(TEXTS)
    for runtime, min_cosine in (("onnx", 0.99999), ("onnx-int8", onnx_export.INT8_MIN_COSINE)):
        model = _model(model_dirs[family], family, runtime)
        got_images, got_texts = model.encode_images(images), model.encode_text(TEXTS)
        assert model.backend == runtime and model.model is None and model.dim == torch_model.dim
        assert got_images.shape == reference_images.shape and got_images.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(got_images, axis=1), 1.0, atol=1e-5)
        assert np.sum(got_images * reference_images, axis=1).min() > min_cosine
        assert np.sum(got_texts * reference_texts, axis=1).min() > 0.99999  # the text tower stays fp32


@pytest.mark.parametrize("family", FAMILIES)
def test_tokenizer_without_transformers_matches_it(model_dirs: dict[str, Path], family: str) -> None:
    torch_model = _model(model_dirs[family], family, "torch")
    theirs = torch_model.tokenize(TEXTS)
    ours = Tokenizer(model_dirs[family], family, torch_model.text_max_length)(TEXTS)  # type: ignore[arg-type]
    assert set(ours) == set(theirs)
    for name, value in ours.items():
        np.testing.assert_array_equal(value, theirs[name].numpy())


def test_export_is_cached_and_redone_when_the_weights_change(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    folder = shutil.copytree(model_dirs["clip"], tmp_path / "clip")
    model = _model(folder, "clip", "onnx-int8")
    first = model.encode_images(_images(model, 2))
    cache = folder.parent / "clip.onnx"
    manifest = json.loads((cache / "manifest.json").read_text())
    assert set(manifest["variants"]) == {"fp32", "int8"} and manifest["variants"]["int8"]["passed"]
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.onnx")}

    again = _model(folder, "clip", "onnx-int8")
    np.testing.assert_array_equal(again.encode_images(_images(model, 2)), first)
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.onnx")} == stamps

    build_random_model("clip", folder, "tiny", seed=11)  # new weights in the same folder
    changed = _model(folder, "clip", "onnx-int8")
    assert np.sum(changed.encode_images(_images(model, 2)) * first, axis=1).max() < 0.99
    assert json.loads((cache / "manifest.json").read_text())["fingerprint"] != manifest["fingerprint"]


def test_a_drifting_int8_graph_is_not_used(tmp_path: Path, model_dirs: dict[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shutil.copytree(model_dirs["siglip"], tmp_path / "siglip")
    monkeypatch.setattr(onnx_export, "INT8_MIN_COSINE", 1.01)  # no quantised graph can pass
    model = _model(folder, "siglip", "onnx-int8")
    fp32 = _model(folder, "siglip", "onnx")
    images = _images(model, 3)
    np.testing.assert_array_equal(model.encode_images(images), fp32.encode_images(images))
    assert model.backend == "onnx"
    entry = json.loads((folder.parent / "siglip.onnx" / "manifest.json").read_text())["variants"]["int8"]
    assert entry["passed"] is False and entry["mean_cosine"] < 1.01


def test_static_int8_is_checked_like_dynamic(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    folder = shutil.copytree(model_dirs["clip"], tmp_path / "clip")
    model = _model(folder, "clip", "onnx-int8-static")
    model.encode_images(_images(model, 2))
    entry = model.runtime.towers.exported.check("int8-static")  # type: ignore[union-attr]
    assert model.backend == ("onnx-int8-static" if entry["passed"] else "onnx")
    assert 0 < entry["mean_cosine"] <= 1.0001


def test_unwritable_model_folder_caches_elsewhere(tmp_path: Path, model_dirs: dict[str, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shutil.copytree(model_dirs["clip"], tmp_path / "ro" / "clip")
    real_access = os.access
    monkeypatch.setattr(onnx_export.os, "access", lambda p, mode: False if Path(p).parent == folder.parent else real_access(p, mode))
    monkeypatch.setattr(onnx_export.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    assert onnx_export.cache_dir(folder).is_relative_to(tmp_path / "tmp")
    model = _model(folder, "clip", "onnx")
    assert model.encode_text(["red"]).shape == (1, model.embedding_dim)


def test_runtime_names() -> None:
    assert resolve_runtime("auto", "cpu") == DEFAULT_CPU_RUNTIME and DEFAULT_CPU_RUNTIME in RUNTIMES
    assert resolve_runtime("auto", "cuda") == "torch"
    with pytest.raises(Invalid, match="CLIP_RUNTIME=tensorrt"):
        resolve_runtime("tensorrt", "cpu")
    with pytest.raises(Invalid, match="CLIP_DEVICE=cpu"):
        resolve_runtime("onnx-int8", "cuda")


def test_onnx_runtime_process_never_imports_torch(model_dirs: dict[str, Path]) -> None:
    """A model worker with an exported model runs on onnxruntime alone (a cold start without torch)."""
    _model(model_dirs["clip"], "clip", DEFAULT_CPU_RUNTIME).encode_text(["warm the cache"])
    script = (
        "import sys, numpy as np\n"
        "from engine.models.image_text import ImageTextModel\n"
        "from engine.models.registry import MODELS\n"
        f"m = ImageTextModel(MODELS['ViT-B/32'], {str(model_dirs['clip'])!r}, device='auto')\n"
        "p = m.preprocessor\n"
        "m.encode_images(np.zeros((2, p.height, p.width, 3), np.uint8)); m.encode_text(['red'])\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]


def test_auto_falls_back_to_torch_when_the_export_fails(model_dirs: dict[str, Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An export that cannot be made (memory, an operator the exporter lacks) costs speed, not indexing."""
    def failing_export(self, runtime: str):
        raise MemoryError("exporting the vision tower")

    monkeypatch.setattr(ImageTextModel, "_load_onnx", failing_export)
    auto = _model(model_dirs["clip"], "clip", "auto")
    assert auto.encode_images(_images(auto, 2)).shape == (2, auto.dim)
    assert auto.backend == "torch" and auto.model is not None
    with pytest.raises(MemoryError):
        _model(model_dirs["clip"], "clip", DEFAULT_CPU_RUNTIME).load()
