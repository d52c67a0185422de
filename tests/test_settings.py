""".env.example works as copied: every setting is in it with its default, and an empty value
means the default (not an int parse error, not the working directory)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import BotSettings
from engine.config import Settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / ".env.example"


def example_keys() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {key.strip(): value for key, value in pairs}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in (Settings, BotSettings):
        for name in cls.model_fields:
            monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize("cls", [Settings, BotSettings])
def test_every_setting_is_in_the_example(cls: type) -> None:
    missing = {name.upper() for name in cls.model_fields} - set(example_keys())
    assert not missing, f"add to .env.example with its default: {sorted(missing)}"


@pytest.mark.parametrize("cls", [Settings, BotSettings])
def test_the_example_loads_verbatim_as_the_defaults(cls: type, clean_env: None) -> None:
    loaded, defaults = cls(_env_file=EXAMPLE), cls(_env_file=None)
    differs = {name: (getattr(loaded, name), getattr(defaults, name)) for name in cls.model_fields
               if getattr(loaded, name) != getattr(defaults, name)}
    assert not differs, f".env.example shows values that are not the defaults: {differs}"


def test_empty_values_mean_the_default(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DASK_DECODE_WORKERS", "TRASH_DIR", "THUMB_CACHE_DIR", "MODELS_DIR", "PHOTOS_DIR", "PORT"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None, data_dir=Path("/srv/photoindex"))
    assert settings.dask_decode_workers is None and settings.port == 8000
    assert settings.resolved_trash_dir == Path("/srv/photoindex/trash")
    assert settings.resolved_thumb_cache_dir == Path("/srv/photoindex/thumbs")
    assert settings.resolved_models_dir == Path("/srv/photoindex/models")
    assert settings.photos_dir == Settings.model_fields["photos_dir"].default


def test_compose_variables_are_in_the_example_with_their_defaults() -> None:
    compose = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    keys = example_keys()
    for name, default in set(re.findall(r"\$\{(\w+):-([^}]*)\}", compose)):
        assert name in keys, f"{name} is used by docker-compose.yml but not in .env.example"
        assert keys[name] == default, f"{name}: .env.example says {keys[name]!r}, compose defaults to {default!r}"
