"""Tiny image-text models whose right answers are known, trained on CPU in seconds.

`train_color_model` teaches a random tiny SigLIP or CLIP to match solid, noisy colour images
with colour words in English and Russian, so a search test can assert "red" finds the red image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.models.image_text import ImageTextModel, output_embeddings
from engine.models.paths import is_model_dir
from engine.models.registry import Family, ModelSpec
from tests.synthetic_models import build_random_model, quiet_transformers

_EN_TEMPLATES = ("{}", "a {} photo", "a photo of {}")


def _prompts(english: str, *russian: str) -> tuple[str, ...]:
    return tuple(t.format(english) for t in _EN_TEMPLATES) + russian


COLORS: dict[str, tuple[tuple[int, int, int], tuple[str, ...]]] = {
    "red": ((220, 30, 30), _prompts("red", "красный", "красное фото", "фото красный")),
    "green": ((30, 180, 40), _prompts("green", "зелёный", "зеленый", "зелёное фото", "фото зелёный")),
    "blue": ((30, 45, 220), _prompts("blue", "синий", "синее фото", "фото синий")),
    "yellow": ((232, 220, 30), _prompts("yellow", "жёлтый", "желтый", "жёлтое фото", "фото жёлтый")),
}
"""Colour name -> (RGB, prompts the model is trained to match with it)."""
_STEPS = 250
_TEMPERATURE = 10.0
_cache: dict[Path, Path] = {}


def tiny_spec(family: Family, name: str | None = None) -> ModelSpec:
    """A registry entry for a tiny test model; its real dimension comes from config.json."""
    name = name or f"tiny-{family}"
    return ModelSpec(name, f"test/{name}", 32, family, True, "test model")


def color_images(size: int, per_colour: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (len(COLORS) * per_colour, size, size, 3) noisy solid colours and their class ids."""
    base = np.array([rgb for rgb, _ in COLORS.values()], np.float32)
    labels = np.repeat(np.arange(len(base)), per_colour)
    shade = rng.uniform(0.8, 1.15, (len(labels), 1, 1, 1))
    noise = rng.normal(0.0, 18.0, (len(labels), size, size, 3))
    images = base[labels][:, None, None, :] * shade + noise
    return np.clip(images, 0, 255).astype(np.uint8), labels


def train_color_model(
    out_dir: Path, family: str, embed_dim: int | None = None, steps: int = _STEPS, seed: int = 0
) -> Path:
    """Build a tiny `family` model in `out_dir` and train it on colour words; cached per out_dir.

    `embed_dim` as in `build_random_model` (e.g. 512 to stand in for ViT-B/32)."""
    out_dir = Path(out_dir).resolve()
    if out_dir in _cache and is_model_dir(out_dir):
        return _cache[out_dir]
    if family not in ("siglip", "clip"):
        raise ValueError(f"family must be 'siglip' or 'clip', got {family!r}")
    build_random_model(family, out_dir, "tiny", seed=seed, embed_dim=embed_dim)  # type: ignore[arg-type]
    wrapper = ImageTextModel(tiny_spec(family), out_dir, device="cpu", runtime="torch")  # type: ignore[arg-type]
    model = wrapper.model
    rng = np.random.default_rng(seed)
    size = wrapper.preprocessor.height
    prompts = [words for _, words in COLORS.values()]
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    with torch.enable_grad():
        for _ in range(steps):
            images, labels = color_images(size, 4, rng)
            texts = [words[rng.integers(len(words))] for words in prompts]
            image_emb = F.normalize(output_embeddings(model.get_image_features(pixel_values=wrapper.pixel_values(images))), dim=-1)
            text_emb = F.normalize(output_embeddings(model.get_text_features(**wrapper.tokenize(texts))), dim=-1)
            logits = _TEMPERATURE * image_emb @ text_emb.T
            target = torch.from_numpy(labels)
            same = F.one_hot(target, len(prompts)).T.float()
            loss = F.cross_entropy(logits, target) + F.cross_entropy(logits.T, same / same.sum(1, keepdim=True))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    with quiet_transformers():
        model.save_pretrained(out_dir, safe_serialization=True)
    wrapper.unload()
    _cache[out_dir] = out_dir
    return out_dir
