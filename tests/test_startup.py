"""An index run's start-up overlaps its other work: the model worker loads the image-text model
while the library is scanned (a first run) or while the first photos decode (a run after a
re-scan), never after them."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.app import PhotoIndex
from engine.config import Settings
from engine.db.database import open_database
from engine.indexing import pipeline
from engine.indexing import stage as image_text_stage
from engine.models import cache as model_cache
from engine.models.registry import get_spec
from engine.runtime.cluster import MODEL
from engine.runtime.runner import InlineExecutor, StageRunner
from tests.fixtures import make_jpeg


class Recording(InlineExecutor):
    """Runs every task in this process and writes down, in order, what was asked of the cluster."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def window(self) -> int:
        self.calls.append("start cluster")
        return super().window()

    def submit(self, fn: Callable[..., Any], arg: Any, resources: dict[str, int]) -> Any:
        self.calls.append(("warm" if callable(arg) else "model") if resources == MODEL else "decode")
        return super().submit(fn, arg, resources)


@pytest.fixture
def recorded(settings: Settings) -> tuple[PhotoIndex, Recording]:
    executor = Recording()
    engine = PhotoIndex(settings, open_database(settings), runner=StageRunner(executor, settings))
    yield engine, executor
    engine.close()


def _loaded_models() -> set[str]:
    return {key[1].name for key, model in model_cache._models.items() if key[0] == "image-text" and model.loaded}


def test_a_first_run_loads_the_model_while_the_library_is_scanned(
        recorded: tuple[PhotoIndex, Recording], library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, executor = recorded
    for i in range(6):
        make_jpeg(library / f"{i}.jpg", (64, 48), (40 * i, 90, 200), marker=None)
    for model in model_cache._models.values():
        model.unload()
    warmed = threading.Event()
    load_models = image_text_stage.load_models

    def recorded_load(models):
        load_models(models)
        warmed.set()

    monkeypatch.setattr(image_text_stage, "load_models", recorded_load)
    scan = pipeline.scan_configured
    during_scan: list[bool] = []

    def slow_scan(db, settings):
        # a scan that lasts until the model is loaded: with a start-up after the scan this would never end
        during_scan.append(warmed.wait(timeout=120))
        during_scan.append(_loaded_models() == {get_spec(engine.settings.clip_model).name})
        return scan(db, settings)

    monkeypatch.setattr(pipeline, "scan_configured", slow_scan)
    report = engine.index()

    assert during_scan == [True, True]
    assert report.indexed == 6 and report.scan.new == 6
    assert executor.calls[:2] == ["start cluster", "warm"]
    assert executor.calls.count("warm") == 1 and executor.calls.count("model") >= 1


def test_a_run_after_a_re_scan_loads_the_model_before_the_first_decode(
        recorded: tuple[PhotoIndex, Recording], library: Path) -> None:
    engine, executor = recorded
    make_jpeg(library / "first.jpg", (64, 48), (200, 90, 40), marker=None)
    engine.index()

    executor.calls.clear()
    assert engine.index().indexed == 0
    assert executor.calls == []  # nothing to index: no cluster, no model load

    make_jpeg(library / "second.jpg", (64, 48), (40, 90, 200), marker=None)
    report = engine.index()
    assert report.indexed == 1
    assert executor.calls == ["start cluster", "warm", "start cluster", "decode", "model"]
