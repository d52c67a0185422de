"""Random-weight SigLIP/CLIP folders of the real architectures, for tests and benchmarks.

No model hub is reachable where this project is built and tested, so these folders stand in
for the published checkpoints: same config layout, same files (config.json, model.safetensors,
preprocessor_config.json, a tokenizer), loadable by `ImageTextModel` and `AutoModel`.

"tiny" builds in well under a second. The full sizes match the published configs (and parameter
counts) and are only built when a benchmark asks: they take tens of seconds to initialise and
write large files. fp32 sizes: SigLIP so400m/14-384 878M parameters, ~3.5 GB (the commonly
quoted "so400m" is its vision tower alone, ~1.7 GB); ViT-L/14 428M, ~1.7 GB; ViT-B/16 and
ViT-B/32 150M, ~0.6 GB. `dtype="bfloat16"` halves the files.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from engine.models.registry import Family

Size = Literal["tiny", "so400m", "vit-b32", "vit-b16", "vit-l14"]

_OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
_OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
_SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)
_TOKENIZER_VOCAB = 1000

WORDS = (
    "a an the of in on at with and photo picture image this is it "
    "red green blue yellow black white orange purple pink brown grey gray colour color "
    "cat dog bird car tree flower sea beach mountain mountains sky sunset forest city house "
    "man woman child people family friends snow river lake road night day summer winter "
    "красный красная красное зелёный зеленый зелёная синий синяя голубой жёлтый желтый "
    "чёрный черный белый оранжевый фиолетовый розовый коричневый серый цвет "
    "фото фотография снимок изображение это на в с и "
    "кот кошка собака птица машина дерево цветок море пляж гора горы небо закат лес город дом "
    "мужчина женщина ребёнок люди семья друзья снег река озеро дорога ночь день лето зима"
).split()


def _tiny_layers(hidden: int) -> dict[str, int]:
    return {"hidden_size": hidden, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}


def _layers(hidden: int, intermediate: int, layers: int, heads: int) -> dict[str, int]:
    return {
        "hidden_size": hidden, "intermediate_size": intermediate,
        "num_hidden_layers": layers, "num_attention_heads": heads,
    }


_TEXT_IDS = {"pad_token_id": PAD_ID, "bos_token_id": BOS_ID, "eos_token_id": EOS_ID}

# Published configs: google/siglip-so400m-patch14-384 and openai/clip-vit-*.
_SIZES: dict[str, tuple[Family, dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "so400m": (
        "siglip",
        {**_layers(1152, 4304, 27, 16), "patch_size": 14, "image_size": 384},
        {**_layers(1152, 4304, 27, 16), "vocab_size": 32000, "max_position_embeddings": 64},
        {},
    ),
    "vit-b32": (
        "clip",
        {**_layers(768, 3072, 12, 12), "patch_size": 32, "image_size": 224},
        {**_layers(512, 2048, 12, 8), "vocab_size": 49408, "max_position_embeddings": 77},
        {"projection_dim": 512},
    ),
    "vit-b16": (
        "clip",
        {**_layers(768, 3072, 12, 12), "patch_size": 16, "image_size": 224},
        {**_layers(512, 2048, 12, 8), "vocab_size": 49408, "max_position_embeddings": 77},
        {"projection_dim": 512},
    ),
    "vit-l14": (
        "clip",
        {**_layers(1024, 4096, 24, 16), "patch_size": 14, "image_size": 224},
        {**_layers(768, 3072, 12, 12), "vocab_size": 49408, "max_position_embeddings": 77},
        {"projection_dim": 768},
    ),
}


def _tiny(family: Family, embed_dim: int | None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """SigLIP's embedding is the vision tower's width, so a wide SigLIP embedding widens both
    towers (still 2 layers with a small MLP); CLIP only widens its projections."""
    hidden = embed_dim if family == "siglip" and embed_dim else 32
    vision = {**_tiny_layers(hidden), "patch_size": 8, "image_size": 32}
    text = {**_tiny_layers(hidden), "vocab_size": _TOKENIZER_VOCAB, "max_position_embeddings": 16}
    return vision, text, ({"projection_dim": embed_dim or 24} if family == "clip" else {})


def write_tokenizer(out_dir: Path, family: Family, max_length: int, vocab_size: int = _TOKENIZER_VOCAB) -> None:
    """A word-level English/Russian tokenizer that `AutoTokenizer.from_pretrained` loads.

    CLIP-style sequences are `<s> words </s>` (CLIP pools at the first `</s>`); SigLIP-style are
    `words </s>` padded to the full context (SigLIP pools the last position)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    words = list(dict.fromkeys(_SPECIALS + WORDS))
    words += [f"w{i}" for i in range(max(0, vocab_size - len(words)))]
    tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    template = "<s> $A </s>" if family == "clip" else "$A </s>"
    tokenizer.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[("<s>", BOS_ID), ("</s>", EOS_ID)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        model_max_length=max_length,
    )
    fast.save_pretrained(out_dir)


def preprocessor_config(family: Family, image_size: int) -> dict[str, Any]:
    """What the published checkpoints ship as preprocessor_config.json, at `image_size`."""
    if family == "siglip":
        return {
            "image_processor_type": "SiglipImageProcessor", "do_resize": True,
            "size": {"height": image_size, "width": image_size}, "resample": 3,
            "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
        }
    return {
        "image_processor_type": "CLIPImageProcessor", "do_resize": True,
        "size": {"shortest_edge": image_size}, "do_center_crop": True,
        "crop_size": {"height": image_size, "width": image_size}, "resample": 3,
        "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "do_convert_rgb": True, "image_mean": _OPENAI_MEAN, "image_std": _OPENAI_STD,
    }


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Saving compares against default sub-configs, whose token ids warn about our small vocab."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def build_random_model(
    family: Family,
    out_dir: Path,
    size: Size = "tiny",
    image_size: int | None = None,
    seed: int = 0,
    embed_dim: int | None = None,
    dtype: Literal["float32", "bfloat16", "float16"] = "float32",
) -> Path:
    """Write a loadable random-weight model folder and return it.

    `embed_dim` sets a tiny model's output dimension (e.g. 512 to stand in for ViT-B/32 in a
    512-d vector table); tiny defaults are 32 (SigLIP) and 24 (CLIP)."""
    import torch
    from transformers import CLIPConfig, CLIPModel, SiglipConfig, SiglipModel

    if size == "tiny":
        if embed_dim is not None and (embed_dim <= 0 or embed_dim % 2):
            raise ValueError(f"embed_dim must be a positive even number, got {embed_dim}")
        vision, text, extra = _tiny(family, embed_dim)
    else:
        size_family, vision, text, extra = _SIZES[size]
        if size_family != family:
            raise ValueError(f"size {size!r} is a {size_family} architecture, not {family}")
        real_dim = extra.get("projection_dim", vision["hidden_size"])
        if embed_dim not in (None, real_dim):
            raise ValueError(f"size {size!r} embeds in {real_dim} dimensions; embed_dim applies to 'tiny' only")
    vision = {**vision, "image_size": image_size or vision["image_size"]}
    text = {**text, **_TEXT_IDS}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(seed)
    if family == "siglip":
        model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision, **extra))
    else:
        model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, **extra))
    model.to(getattr(torch, dtype))
    with quiet_transformers():
        model.save_pretrained(out_dir, safe_serialization=True)
    del model

    write_tokenizer(out_dir, family, text["max_position_embeddings"])
    (out_dir / "preprocessor_config.json").write_text(
        json.dumps(preprocessor_config(family, vision["image_size"]), indent=2), encoding="utf-8"
    )
    return out_dir
