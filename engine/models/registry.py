"""The image-text models the product knows, their dimensions, and the names people use for them.

Each model gets its own vector table (named by `engine.db.embeddings.table_name`) because
embeddings from different models live in different spaces (and usually have different dimensions).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from engine.errors import UnknownName

Family = Literal["siglip", "clip"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    hf_id: str
    dim: int
    family: Family
    multilingual: bool = False
    """True when queries in Russian work without translating them to English first."""
    description: str = ""

    @property
    def folder_name(self) -> str:
        """The folder name used under MODELS_DIR (the Hugging Face cache's own spelling)."""
        return self.hf_id.replace("/", "--")


class UnknownModel(UnknownName):
    pass


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "SigLIP", "google/siglip-so400m-patch14-384", 1152, "siglip",
            multilingual=False,
            description="SigLIP so400m/14 at 384 px; the default, strongest English retrieval.",
        ),
        ModelSpec(
            "ViT-B/32", "openai/clip-vit-base-patch32", 512, "clip",
            description="OpenAI CLIP ViT-B/32 at 224 px; the fastest.",
        ),
        ModelSpec(
            "ViT-B/16", "openai/clip-vit-base-patch16", 512, "clip",
            description="OpenAI CLIP ViT-B/16 at 224 px.",
        ),
        ModelSpec(
            "ViT-L/14", "openai/clip-vit-large-patch14", 768, "clip",
            description="OpenAI CLIP ViT-L/14 at 224 px.",
        ),
        ModelSpec(
            "SigLIP2", "google/siglip2-so400m-patch16-384", 1152, "siglip",
            multilingual=True,
            description="SigLIP 2 so400m/16 at 384 px with the Gemma tokenizer; answers Russian natively.",
        ),
    )
}

DEFAULT_MODEL = "SigLIP"


def _norm(alias: str) -> str:
    return re.sub(r"[\s/_.\-]+", "", alias.strip().lower())


def _aliases(spec: ModelSpec) -> set[str]:
    repo = spec.hf_id.split("/")[-1]
    names = {spec.name, spec.hf_id, repo, spec.folder_name, f"clip-{spec.name}"}
    return {_norm(n) for n in names}


def get_spec(name: str, models: Mapping[str, ModelSpec] = MODELS) -> ModelSpec:
    """Find a model by its name or a common alias ("siglip", "vit-b/32", "ViT-B-32",
    "clip-vit-b32", the Hugging Face id), ignoring case and separators."""
    if name in models:
        return models[name]
    key = _norm(name)
    for spec in models.values():
        if key in _aliases(spec):
            return spec
    raise UnknownModel(f"Unknown image-text model {name!r}; valid names: {', '.join(models)}.")
