"""The stage runner without a cluster: stages run in-process, a crashing decoder costs its file only."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.app import PhotoIndex
from engine.config import Settings
from engine.db import photos as photo_rows
from engine.db.database import open_database
from engine.runtime.progress import Progress
from engine.runtime.runner import InlineExecutor, StageRunner
from engine.runtime.stage import Stage
from tests.conftest import TEST_MODEL
from tests.fixtures import make_bad_files, make_jpeg


@dataclass(frozen=True)
class Out:
    item: int
    ok: bool
    reason: str | None = None


def _decode(items: list[int]) -> list[Out]:
    if 13 in items:
        raise MemoryError("the decoder died")  # stands in for a worker killed by a hostile file
    return [Out(i, i % 5 != 0, None if i % 5 else "unreadable") for i in items]


def _double(batches: list[list[Out]]) -> list[Out]:
    return [Out(o.item * 2, o.ok, o.reason) for batch in batches for o in batch]


class Numbers(Stage[int, Out]):
    name = "numbers"

    def __init__(self, n: int, model=None) -> None:
        self.items = list(range(1, n + 1))
        self.decode = _decode
        self.model = model
        self.decode_batch = 4
        self.model_batch = 8
        self.written: list[tuple[int, Out]] = []

    def count(self) -> int:
        return len(self.items)

    def pending(self):
        return [self.items[:10], self.items[10:]]

    def write(self, done: list[tuple[int, Out]]) -> None:
        self.written += done

    def failure(self, item: int, reason: str) -> Out:
        return Out(item, False, reason)


def test_a_stage_runs_in_process_and_a_crashing_batch_costs_one_item(settings: Settings) -> None:
    stage = Numbers(20, model=_double)
    seen: list[Progress] = []
    report = StageRunner(InlineExecutor(), settings).run(stage, progress=lambda p: seen.append(p))
    assert [item for item, _ in stage.written] == list(range(1, 21))
    results = dict(stage.written)
    assert results[13] == Out(13, False, "the decoder crashed on this file (MemoryError)")
    assert results[12] == Out(24, True) and results[14] == Out(28, True)  # its batch mates went on
    assert results[10] == Out(20, False, "unreadable")
    assert (report.done, report.failed) == (20, 5)
    assert seen[0].total == 20 and seen[-1].stage == "done" and seen[-1].done == 20


def test_a_failing_model_step_fails_the_run(settings: Settings) -> None:
    def broken(_batches):
        raise RuntimeError("no such model")

    with pytest.raises(RuntimeError, match="no such model"):
        StageRunner(InlineExecutor(), settings).run(Numbers(8, model=broken))


def test_indexing_runs_without_a_cluster(settings: Settings, library: Path) -> None:
    for i in range(5):
        make_jpeg(library / f"{i}.jpg", size=(160, 120), color=(40 * i, 60, 90))
    bad = make_bad_files(library)
    engine = PhotoIndex(settings, open_database(settings), runner=StageRunner(InlineExecutor(), settings))
    try:
        report = engine.index()
        phash = engine.library.index_phash()
        with engine.db.connection() as conn:
            failed = photo_rows.failed(conn, limit=1000)
        assert engine.cluster._client is None  # no Dask cluster was started
        assert engine.models.get(TEST_MODEL).loaded  # the stage's model is the engine's: one per process
    finally:
        engine.close()
    assert (report.indexed, report.failed) == (5, len(bad))
    assert all(bad[p.path] in p.fail_reason for p in failed) and {p.path for p in failed} == set(bad)
    assert phash.hashed == 5
