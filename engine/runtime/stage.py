"""A stage: the unit of heavy background work over the library.

pending query -> decode on CPU workers -> optional model step on the model worker -> write here.

A stage says which items are left (`count`, `pending`), how one batch of them is decoded
(`decode`, run on a CPU worker: resources `CPU`) and, optionally, how several decoded batches go
through a model as one batch (`model`, run on the model worker: resources `MODEL`, where the
model is loaded once per process, by `warm` as the run starts), then how finished results are
stored (`write`, one transaction, in the process that runs the stage). `engine.runtime.runner.StageRunner` runs it,
on the Dask cluster or in-process, with a bounded window in flight and crash isolation.

`decode` and `model` travel to worker processes: make them module-level functions or
`functools.partial`s of them over plain data, never bound methods (those would carry the stage,
its database pool included). A result has `ok` (False: the item failed, with a reason) and
comes back in the order of the items given.

A new stage: subclass `Stage`, give it a `name`, the two callables and the four methods, and
run it with `engine.runner.run(stage, progress=..., cancel=...)`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from engine.db.database import Database


class Result(Protocol):
    @property
    def ok(self) -> bool: ...


Item = TypeVar("Item")
R = TypeVar("R", bound=Result)


class Stage(ABC, Generic[Item, R]):
    name: str
    """The word progress shows while the stage runs ("indexing", "faces", "phash", "warming")."""
    decode: Callable[[list[Item]], list[R]]
    model: Callable[[list[list[R]]], list[R]] | None = None
    warm: Callable[[], Any] | None = None
    """Loads what `model` needs, on the model worker, as the run starts (while the first items decode)."""
    decode_batch: int = 8
    """Items per decode task."""
    model_batch: int = 32
    """Items per model task (several decode batches), when there is a model step."""

    @abstractmethod
    def count(self) -> int:
        """How many items are pending (the progress total)."""

    @abstractmethod
    def pending(self) -> Iterable[Sequence[Item]]:
        """The pending items in chunks, read lazily (a killed run resumes from what is left)."""

    @abstractmethod
    def write(self, done: list[tuple[Item, R]]) -> None:
        """Store finished items and their results."""

    @abstractmethod
    def failure(self, item: Item, reason: str) -> R:
        """The result of an item whose decoder crashed or stalled."""

    def label(self, item: Item) -> str:
        """The item as progress names it (its library path)."""
        return str(getattr(item, "path", item))


def paged(db: Database, fetch: Callable[[Any, int], list[Item]], key: Callable[[Item], int] = lambda row: row.id
          ) -> Iterator[list[Item]]:
    """Chunks of `fetch(conn, after_id)` (rows in id order) until it returns none: a pending query
    read page by page, each page after the last id of the one before."""
    after = 0
    while True:
        with db.connection() as conn:
            chunk = fetch(conn, after)
        if not chunk:
            return
        yield chunk
        after = key(chunk[-1])
