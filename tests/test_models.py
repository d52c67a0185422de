"""Image-text model layer: loading, encoding, preprocessing fidelity, path resolution, manager."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.config import Settings
from engine.models.errors import ModelNotAvailable
from engine.models import cache as model_cache
from engine.models.base import Model
from engine.models.image_text import ImageTextModel, output_embeddings
from engine.models.manager import ModelManager
from engine.models.paths import resolve_model_dir
from engine.models.registry import MODELS, UnknownModel, get_spec
from tests.synthetic_models import build_random_model
from tests.tiny_models import COLORS, color_images, tiny_spec, train_color_model

FAMILIES = ("siglip", "clip")


@pytest.fixture(scope="module")
def random_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("random")
    return {family: build_random_model(family, root / family, "tiny") for family in FAMILIES}


@pytest.fixture(scope="module")
def colour_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("colour")
    return {
        "siglip": train_color_model(root / "siglip", "siglip"),
        "clip": train_color_model(root / "clip", "clip", embed_dim=512),
    }


@pytest.fixture()
def empty_hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hf_home"
    home.mkdir()
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return home


def _settings(tmp_path: Path, **kwargs: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **kwargs)


def _fake_model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(b"")
    return path


def _gradient_image(width: int, height: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([255 * x / width, 255 * y / height, 127 + 120 * np.sin(x / 3 + y / 5)], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8))


@pytest.mark.parametrize("runtime", ["auto", "torch"])
@pytest.mark.parametrize("family", FAMILIES)
def test_random_model_encodes_unit_vectors(random_dirs: dict[str, Path], family: str, runtime: str) -> None:
    model = ImageTextModel(tiny_spec(family), random_dirs[family], device="auto", runtime=runtime)  # type: ignore[arg-type]
    pre = model.preprocessor
    dim = model.embedding_dim
    assert not model.loaded and model.memory_bytes() == 0

    images = np.random.default_rng(0).integers(0, 256, (3, pre.height, pre.width, 3), dtype=np.uint8)
    image_emb = model.encode_images(images)
    text_emb = model.encode_text(["red", "Красный кот на пляже", "a photo of a dog"])

    assert model.loaded and model.dim == dim and model.memory_bytes() > 0
    for emb in (image_emb, text_emb):
        assert emb.shape == (3, dim) and emb.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert model.encode_text([]).shape == (0, dim)
    model.unload()
    assert not model.loaded and model.memory_bytes() == 0


def test_text_padding_follows_training(random_dirs: dict[str, Path]) -> None:
    siglip = ImageTextModel(tiny_spec("siglip"), random_dirs["siglip"], device="cpu", runtime="torch")
    clip = ImageTextModel(tiny_spec("clip"), random_dirs["clip"], device="cpu", runtime="torch")
    siglip_inputs = siglip.tokenize(["Red", "a photo of a red cat"])
    clip_inputs = clip.tokenize(["red", "a photo of a red cat"])
    assert set(siglip_inputs) == {"input_ids"} and siglip_inputs["input_ids"].shape == (2, siglip.text_max_length)
    assert clip_inputs["input_ids"].shape == (2, 8) and "attention_mask" in clip_inputs
    np.testing.assert_allclose(siglip.encode_text(["RED"]), siglip.encode_text(["red"]), atol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_split_preprocessing_matches_hf_processor(random_dirs: dict[str, Path], family: str) -> None:
    from transformers import AutoImageProcessor

    model = ImageTextModel(tiny_spec(family), random_dirs[family], device="cpu", runtime="torch")  # type: ignore[arg-type]
    image = _gradient_image(57, 41)
    ours = model.encode_images(model.preprocessor.to_uint8(image)[None])

    processor = AutoImageProcessor.from_pretrained(random_dirs[family])
    pixels = processor(images=image, return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        theirs = output_embeddings(model.model.get_image_features(pixel_values=pixels))
    theirs = torch.nn.functional.normalize(theirs.float(), dim=-1).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


@pytest.mark.parametrize("runtime", ["auto", "torch"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    ("query", "colour"),
    [("red", "red"), ("a photo of green", "green"), ("blue", "blue"), ("yellow", "yellow"),
     ("красный", "red"), ("зелёный", "green"), ("синий", "blue")],
)
def test_colour_model_ranks_right_image_first(colour_dirs: dict[str, Path], family: str, query: str, colour: str,
                                              runtime: str) -> None:
    model = ImageTextModel(tiny_spec(family), colour_dirs[family], device="cpu", runtime=runtime)  # type: ignore[arg-type]
    images, labels = color_images(model.preprocessor.height, 2, np.random.default_rng(123))
    scores = model.encode_images(images) @ model.encode_text([query])[0]
    best = list(COLORS)[labels[int(np.argmax(scores))]]
    assert best == colour


@pytest.mark.parametrize(("family", "embed_dim"), [("siglip", 64), ("clip", 512)])
def test_random_model_embed_dim(tmp_path: Path, family: str, embed_dim: int) -> None:
    folder = build_random_model(family, tmp_path / family, embed_dim=embed_dim)  # type: ignore[arg-type]
    model = ImageTextModel(tiny_spec(family), folder, device="cpu")  # type: ignore[arg-type]
    assert model.embedding_dim == embed_dim
    assert model.encode_text(["red"]).shape == (1, embed_dim) and model.dim == embed_dim
    with pytest.raises(ValueError):
        build_random_model(family, tmp_path / "bad", "vit-b32" if family == "siglip" else "so400m")  # type: ignore[arg-type]


def test_preprocessor_defaults_without_processor_config(random_dirs: dict[str, Path], tmp_path: Path) -> None:
    for family, size in (("siglip", 48), ("clip", 40)):
        folder = shutil.copytree(random_dirs[family], tmp_path / family)
        (folder / "preprocessor_config.json").unlink()
        config = json.loads((folder / "config.json").read_text())
        config["vision_config"]["image_size"] = size
        (folder / "config.json").write_text(json.dumps(config))
        pre = ImageTextModel(tiny_spec(family), folder).preprocessor  # type: ignore[arg-type]
        assert (pre.height, pre.width) == (size, size)
        if family == "siglip":
            assert pre.shortest_edge is None and pre.mean == (0.5, 0.5, 0.5)
        else:
            assert pre.shortest_edge == size and pre.mean[0] == pytest.approx(0.48145466)


def test_get_spec_aliases() -> None:
    for alias in ("siglip", "SIGLIP", "google/siglip-so400m-patch14-384"):
        assert get_spec(alias).name == "SigLIP"
    for alias in ("vit-b/32", "ViT-B-32", "clip-vit-b32", "openai/clip-vit-base-patch32"):
        assert get_spec(alias).name == "ViT-B/32"
    assert get_spec("siglip2").multilingual
    with pytest.raises(UnknownModel, match="ViT-L/14"):
        get_spec("resnet")


def test_resolve_via_model_paths(tmp_path: Path, empty_hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _fake_model_dir(tmp_path / "somewhere" / "siglip")
    monkeypatch.setenv("MODEL_PATHS", json.dumps({"SigLIP": str(folder)}))
    assert resolve_model_dir(MODELS["SigLIP"], _settings(tmp_path)) == folder
    alias_settings = _settings(tmp_path, model_paths={"vit-b-32": folder})
    assert resolve_model_dir(MODELS["ViT-B/32"], alias_settings) == folder


def test_resolve_via_models_dir(tmp_path: Path, empty_hf_home: Path) -> None:
    models_dir = tmp_path / "models"
    by_id = _fake_model_dir(models_dir / "google--siglip-so400m-patch14-384")
    by_name = _fake_model_dir(models_dir / "ViT-B-32")
    (models_dir / "openai--clip-vit-large-patch14").mkdir()
    (models_dir / "openai--clip-vit-large-patch14" / "config.json").write_text("{}")
    settings = _settings(tmp_path, models_dir=models_dir)
    assert resolve_model_dir(MODELS["SigLIP"], settings) == by_id
    assert resolve_model_dir(MODELS["ViT-B/32"], settings) == by_name
    with pytest.raises(ModelNotAvailable):
        resolve_model_dir(MODELS["ViT-L/14"], settings)


def test_resolve_via_hf_cache(tmp_path: Path, empty_hf_home: Path) -> None:
    repo = empty_hf_home / "hub" / "models--openai--clip-vit-base-patch16"
    snapshot = _fake_model_dir(repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    assert resolve_model_dir(MODELS["ViT-B/16"], _settings(tmp_path)) == snapshot


def test_missing_model_message(tmp_path: Path, empty_hf_home: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(ModelNotAvailable) as info:
        resolve_model_dir(MODELS["SigLIP"], settings)
    message = str(info.value)
    expected_dir = settings.resolved_models_dir / "google--siglip-so400m-patch14-384"
    for part in ("SigLIP", "google/siglip-so400m-patch14-384", "MODEL_PATHS", "MODELS_DIR",
                 str(expected_dir), str(empty_hf_home), "photoindex models download SigLIP"):
        assert part in message
    assert str(expected_dir) in info.value.looked_at


def test_manager_warm_unload_status(random_dirs: dict[str, Path], tmp_path: Path, empty_hf_home: Path) -> None:
    specs = {family: tiny_spec(family) for family in FAMILIES}  # type: ignore[arg-type]
    registry = {spec.name: spec for spec in specs.values()}
    registry["ViT-B/32"] = MODELS["ViT-B/32"]
    paths = {specs[f].name: random_dirs[f] for f in FAMILIES}
    manager = ModelManager(_settings(tmp_path, model_paths=paths), registry, device="cpu")

    rows = {row.name: asdict(row) for row in manager.status()}
    assert rows["ViT-B/32"]["available"] is False and "MODEL_PATHS" in rows["ViT-B/32"]["reason"]
    assert rows["tiny-siglip"]["available"] and not rows["tiny-siglip"]["loaded"]
    with pytest.raises(ModelNotAvailable):
        manager.get("vit-b/32")

    assert manager.get("tiny-siglip") is manager.get("tiny-siglip")
    manager.warm("tiny-siglip")
    manager.warm("tiny-clip")
    assert sorted(manager.loaded()) == ["tiny-clip", "tiny-siglip"]
    rows = {row.name: asdict(row) for row in manager.status()}
    assert rows["tiny-clip"]["loaded"] and rows["tiny-clip"]["memory_bytes"] > 0
    assert rows["tiny-clip"]["device"] == "cpu" and rows["tiny-clip"]["path"] == str(random_dirs["clip"])

    manager.unload_all(except_="tiny-clip")
    assert manager.loaded() == ["tiny-clip"]
    manager.unload("tiny-clip")
    assert manager.loaded() == []


def test_output_embeddings_handles_v4_and_v5_returns() -> None:
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    tensor = torch.ones(2, 4)
    assert output_embeddings(tensor) is tensor
    assert output_embeddings(BaseModelOutputWithPooling(pooler_output=tensor)) is tensor


def test_concurrent_load_builds_one_model(random_dirs: dict[str, Path]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = ImageTextModel(tiny_spec("clip"), random_dirs["clip"], device="cpu")
    with ThreadPoolExecutor(4) as pool:
        runtimes = list(pool.map(lambda _: model.load(), range(8)))
    assert all(r is runtimes[0] for r in runtimes)
    model.unload()


def test_one_instance_per_model_per_process(random_dirs: dict[str, Path]) -> None:
    spec = tiny_spec("clip")
    model = model_cache.image_text(spec, random_dirs["clip"], "cpu")
    assert isinstance(model, Model) and not model.loaded
    assert model_cache.image_text(spec, random_dirs["clip"], "cpu") is model
    assert model_cache.image_text(spec, random_dirs["siglip"], "cpu") is not model
    assert model.load() is model and model.loaded and model.device == "cpu"
    model.unload()
    assert not model.loaded
