"""The image-text models the product knows: entries of data, not code.

An entry names a model (name, Hugging Face id or folder, loader, dimension, multilingual or not,
query template, input size). The built-in entries are `builtin_models.toml`; a user adds or
replaces entries with the same keys in MODELS_FILE (default DATA_DIR/models.toml) or MODEL_REGISTRY
(JSON in `.env`), see docs/models.md. Each entry gets its own vector table, created at start by
`engine.db.embeddings.ensure_tables` from `ModelSpec.key`, because embeddings from different models
live in different spaces (and usually have different dimensions).

A process serves one configuration: `configure(settings)` (called when the database opens and when
an engine is made) makes that settings' registry the one `MODELS` and `get_spec` answer from;
before that they answer from `get_settings()`.
"""
from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

from engine.errors import Invalid, UnknownName

if TYPE_CHECKING:
    from engine.config import Settings

Family = Literal["siglip", "clip"]
LOADERS: tuple[str, ...] = get_args(Family)
"""`siglip`: transformers `SiglipModel` (SigLIP, the fixed-resolution SigLIP 2 checkpoints);
`clip`: `CLIPModel` (OpenAI CLIP and its fine-tunes in the transformers format)."""
MAX_DIM = 4000
"""pgvector's limit for an HNSW index on `halfvec`."""
_KEY_MAX = 40
"""`embeddings_<key>_hnsw` stays inside PostgreSQL's 63-byte identifiers."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/+()-]*")
BUILTIN_FILE = Path(__file__).resolve().parent / "builtin_models.toml"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    hf_id: str
    """The Hugging Face repository (`org/name`); empty for an entry that names only a folder."""
    dim: int
    family: Family
    """The loader (`LOADERS`)."""
    multilingual: bool = False
    """True when queries in Russian work without translating them to English first."""
    description: str = ""
    query_template: str = "{}"
    """What the text encoder is given for a query, `{}` standing for it (e.g. "a photo of {}")."""
    image_size: int | None = None
    """Input side in pixels, used when the folder has no preprocessor_config.json or image_size."""
    path: str | None = None
    """A folder holding the weights (config.json + safetensors); MODEL_PATHS still comes first."""

    @property
    def folder_name(self) -> str:
        """The folder name used under MODELS_DIR (the Hugging Face cache's own spelling)."""
        return self.hf_id.replace("/", "--") if self.hf_id else self.name.replace("/", "-")

    @property
    def key(self) -> str:
        """The name as an identifier: lower case, `/` left out, other runs of non-alphanumerics as
        `_` (ViT-B/32 -> vit_b32); its vector table is `embeddings_<key>`."""
        return model_key(self.name)

    def query(self, text: str) -> str:
        return self.query_template.replace("{}", text)


class UnknownModel(UnknownName):
    pass


class InvalidModelEntry(Invalid):
    """A registry entry (built-in, MODELS_FILE or MODEL_REGISTRY) that cannot be used."""


def model_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("/", "")).strip("_")


_KEYS = ("name", "hf_id", "path", "loader", "dim", "multilingual", "query_template", "image_size", "description")


def parse_entry(raw: object, origin: str) -> ModelSpec:
    """One entry (a mapping with `_KEYS`) as a `ModelSpec`; `InvalidModelEntry` says in one
    sentence what is wrong, naming `origin` (the file or setting it came from)."""
    if not isinstance(raw, Mapping):
        raise InvalidModelEntry(f"{origin}: a model entry must be a table of keys ({', '.join(_KEYS)}), "
                                f"not {type(raw).__name__}.")
    name = raw.get("name")
    where = f"{origin}, model {name!r}" if isinstance(name, str) else origin

    def bad(problem: str) -> InvalidModelEntry:
        return InvalidModelEntry(f"{where}: {problem}.")

    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise bad(f"unknown key {unknown[0]!r}; the keys are {', '.join(_KEYS)}")
    if not isinstance(name, str) or not _NAME.fullmatch(name) or not model_key(name):
        raise bad("`name` must start with a letter or digit and hold only letters, digits, spaces, dots and _ / + ( ) -")
    if len(model_key(name)) > _KEY_MAX:
        raise bad(f"`name` is too long (at most {_KEY_MAX} letters and digits)")
    hf_id, path = raw.get("hf_id") or "", raw.get("path")
    if not isinstance(hf_id, str) or (hf_id and not re.fullmatch(r"[\w.-]+/[\w.-]+", hf_id)):
        raise bad(f"`hf_id` must be a Hugging Face id such as google/siglip2-base-patch16-256, not {hf_id!r}")
    if path is not None and (not isinstance(path, str) or not path.strip()):
        raise bad("`path` must be a folder")
    if not hf_id and path is None:
        raise bad("give `hf_id` (a Hugging Face id) or `path` (a folder with config.json and the weights)")
    loader = raw.get("loader")
    if loader not in LOADERS:
        raise bad(f"`loader` must be {' or '.join(LOADERS)}, not {loader!r}")
    dim = raw.get("dim")
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
        raise bad(f"`dim` must be the embedding size, a whole number from 1 to {MAX_DIM}, not {dim!r}")
    multilingual = raw.get("multilingual", False)
    if not isinstance(multilingual, bool):
        raise bad(f"`multilingual` must be true or false, not {multilingual!r}")
    template = raw.get("query_template", "{}")
    if not isinstance(template, str) or template.count("{}") != 1:
        raise bad(f"`query_template` must hold {{}} once, where the query goes, not {template!r}")
    size = raw.get("image_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 4096):
        raise bad(f"`image_size` must be the input side in pixels (16 to 4096), not {size!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise bad("`description` must be text")
    return ModelSpec(name, hf_id, dim, loader, multilingual, description, template, size,  # type: ignore[arg-type]
                     str(Path(path).expanduser()) if path is not None else None)


def _entries(document: object, origin: str) -> list[object]:
    """A document's entries: `[[models]]` tables (TOML), a list, one entry, or entries by name."""
    if isinstance(document, Mapping) and "models" in document and set(document) == {"models"}:
        document = document["models"]
    if isinstance(document, list):
        return document
    if isinstance(document, Mapping) and "name" in document:
        return [document]
    if isinstance(document, Mapping) and all(isinstance(v, Mapping) for v in document.values()):
        return [{"name": name, **entry} for name, entry in document.items()]
    raise InvalidModelEntry(f"{origin} must list model entries ([[models]] tables, or a JSON list of objects).")


def _read_toml(path: Path, origin: str) -> list[object]:
    try:
        return _entries(tomllib.loads(path.read_text(encoding="utf-8")), origin)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidModelEntry(f"{origin} is not valid TOML ({exc}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidModelEntry(f"{origin} cannot be read ({exc}).") from None


def build_registry(sources: list[tuple[list[object], str]]) -> dict[str, ModelSpec]:
    """Entries from each (entries, origin) in turn; a later entry with an existing name replaces it
    in place. Two names that would share a vector table are refused."""
    models: dict[str, ModelSpec] = {}
    for entries, origin in sources:
        for raw in entries:
            spec = parse_entry(raw, origin)
            clash = next((m for m in models.values() if m.key == spec.key and m.name != spec.name), None)
            if clash is not None:
                raise InvalidModelEntry(f"{origin}, model {spec.name!r}: its vector table would be the one of "
                                        f"{clash.name!r} (embeddings_{spec.key}); choose another name.")
            models[spec.name] = spec
    return models


def load_registry(settings: "Settings") -> dict[str, ModelSpec]:
    """The built-in entries, then MODELS_FILE's (when the file exists), then MODEL_REGISTRY's."""
    sources = [(_read_toml(BUILTIN_FILE, str(BUILTIN_FILE)), str(BUILTIN_FILE))]
    models_file = settings.resolved_models_file
    if models_file.is_file():
        sources.append((_read_toml(models_file, f"MODELS_FILE ({models_file})"), f"MODELS_FILE ({models_file})"))
    extra = settings.model_registry
    if isinstance(extra, str) and extra.strip():
        try:
            extra = json.loads(extra)
        except json.JSONDecodeError as exc:
            raise InvalidModelEntry(f"MODEL_REGISTRY is not valid JSON ({exc}).") from None
    if extra:
        sources.append((_entries(extra, "MODEL_REGISTRY"), "MODEL_REGISTRY"))
    return build_registry(sources)


BUILTIN_MODELS: Mapping[str, ModelSpec] = MappingProxyType(build_registry([(_read_toml(BUILTIN_FILE, "built-in"),
                                                                             "built-in")]))
DEFAULT_MODEL = "SigLIP2"
"""Multilingual: the people this is for write in Russian first (Crossmodal-3600, Russian, mean of
R@1/5/10: SigLIP 2 so400m/16-384 87.65; English-only models are unusable without translation)."""

_active: dict[str, ModelSpec] | None = None


def configure(settings: "Settings") -> Mapping[str, ModelSpec]:
    """Make `settings`' registry this process's; return it."""
    global _active
    _active = load_registry(settings)
    return MODELS


def _current() -> dict[str, ModelSpec]:
    if _active is None:
        from engine.config import get_settings

        configure(get_settings())
    assert _active is not None
    return _active


class _ActiveRegistry(Mapping[str, ModelSpec]):
    """The registry `configure` last made, read at each use."""

    def __getitem__(self, name: str) -> ModelSpec:
        return _current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(_current()))

    def __len__(self) -> int:
        return len(_current())

    def __repr__(self) -> str:
        return f"MODELS({list(self)})"


MODELS: Mapping[str, ModelSpec] = _ActiveRegistry()


def _norm(alias: str) -> str:
    return re.sub(r"[\s/_.()\-]+", "", alias.strip().lower())


def _aliases(spec: ModelSpec) -> set[str]:
    names = {spec.name, f"clip-{spec.name}"}
    if spec.hf_id:
        names |= {spec.hf_id, spec.hf_id.split("/")[-1], spec.folder_name}
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
