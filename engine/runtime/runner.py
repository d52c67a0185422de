"""The one runner of stages: a bounded window of batches in flight, crash and stall isolation.

A group of pending items becomes decode tasks (CPU workers) feeding one model task (the model
worker), or a single decode task when the stage has no model step. At most `window` groups are
in flight. A group whose decoder crashed its worker, or that made no progress for `timeout_s`,
is retried file by file on restarted workers; the file that crashes or stalls again comes back
as the stage's failure with its reason, and the run goes on. A failing model step is a setup
problem, not a bad file: it fails the run.

Where tasks run is the executor's business: `DaskExecutor` submits them to the cluster with the
`CPU` / `MODEL` resources, `InlineExecutor` runs them in this process (tests, notebooks, a
machine without a cluster), so a stage is tested without one.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.config import Settings
from engine.runtime.cluster import DECODE, MODEL
from engine.runtime.progress import Progress, ProgressCallback, ignore
from engine.runtime.stage import Stage

log = logging.getLogger(__name__)


class Task(Protocol):
    """What the runner needs of a submitted task (a Dask future has it all)."""

    status: str

    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> Any: ...

    def exception(self) -> BaseException | None: ...

    def release(self) -> None: ...


class Executor(Protocol):
    def window(self) -> int:
        """Groups to keep in flight."""

    def submit(self, fn: Callable[..., Any], arg: Any, resources: dict[str, int]) -> Task:
        """Run `fn(arg)`; tasks inside `arg` (a list of them) are replaced by their results."""

    def first_done(self, tasks: Sequence[Task], timeout: float | None) -> bool:
        """Wait until one of `tasks` is done; False when `timeout` passed first."""

    def stop(self, tasks: Sequence[Task], restart_timeout_s: float) -> None:
        """Cancel tasks and restart the workers still busy with them."""


@dataclass(frozen=True)
class RunReport:
    done: int
    failed: int
    seconds: float
    cancelled: bool = False


class Startup:
    """A run's start-up, begun in the background: the cluster started and the stage's `warm` task
    submitted to the model worker, so that both overlap with what the caller does meanwhile (the
    library scan) and the model loads while the first photos decode."""

    def __init__(self, executor: Executor, stage: Stage) -> None:
        self.executor = executor
        self.stage = stage
        self.warm: Task | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name=f"photoindex-{stage.name}-startup", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self.executor.window()  # starts the cluster
            if self.stage.warm is not None and self.stage.model is not None:
                self.warm = self.executor.submit(_call, self.stage.warm, MODEL)
        except Exception as exc:  # the run reports it (a cluster that cannot start)
            self._error = exc

    def wait(self) -> None:
        """Until the cluster is up and the warm task submitted; raises what stopped them. A warm
        task that fails is not raised here: the model step fails the same way and the run says so."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._thread.join()
        if self.warm is not None:
            self.warm.release()
            self.warm = None


def _call(fn: Callable[[], Any]) -> Any:
    return fn()


@dataclass
class _InFlight:
    items: list[Any]
    result: Task
    decodes: list[Task]


class StageRunner:
    def __init__(self, executor: Executor, settings: Settings) -> None:
        self.executor = executor
        self.settings = settings

    @property
    def timeout(self) -> float:
        """DECODE_TIMEOUT_S: how long a decode may make no progress before it is stopped."""
        return self.settings.decode_timeout_s

    def start(self, stage: Stage) -> Startup:
        """Begin `stage`'s start-up now, in the background; pass it to `run`."""
        return Startup(self.executor, stage)

    def run(self, stage: Stage, *, progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None, startup: Startup | None = None) -> RunReport:
        """Run `stage` over everything it has pending; `progress` hears of every written batch.
        Without a `startup` begun earlier, it begins when there is something to do."""
        started = time.time()
        notify = progress or ignore
        state = Progress(stage=stage.name, total=stage.count())
        notify(state)
        if state.total:
            startup = startup or self.start(stage)
            startup.wait()
        try:
            if state.total:
                for done in self._stream(stage, cancel):
                    stage.write(done)
                    state.done += len(done)
                    state.failed += sum(not result.ok for _, result in done)
                    state.current = stage.label(done[-1][0]) if done else state.current
                    notify(state)
        finally:
            if startup is not None:
                startup.close()
        cancelled = cancel is not None and cancel.is_set()
        state.stage = "cancelled" if cancelled else "done"
        notify(state)
        return RunReport(state.done, state.failed, time.time() - started, cancelled)

    def _stream(self, stage: Stage, cancel: threading.Event | None) -> Iterator[list[tuple[Any, Any]]]:
        """(item, result) lists as groups finish, a bounded window in flight."""
        decode_size = max(1, stage.decode_batch)
        group_size = decode_size * (max(1, stage.model_batch // decode_size) if stage.model else 1)
        window = self.executor.window()
        in_flight: list[_InFlight] = []
        for chunk in stage.pending():
            for start in range(0, len(chunk), group_size):
                if cancel is not None and cancel.is_set():
                    break
                in_flight.append(self._submit(stage, list(chunk[start:start + group_size]), decode_size))
                while len(in_flight) >= window:
                    yield from self._collect(stage, in_flight)
            if cancel is not None and cancel.is_set():
                break
        while in_flight:
            yield from self._collect(stage, in_flight)

    def _submit(self, stage: Stage, items: list[Any], decode_size: int) -> _InFlight:
        decodes = [self.executor.submit(stage.decode, items[i:i + decode_size], DECODE)
                   for i in range(0, len(items), decode_size)]
        if stage.model is not None:
            result = self.executor.submit(stage.model, decodes, MODEL)
        else:
            (result,) = decodes
        return _InFlight(items, result, decodes)

    def _collect(self, stage: Stage, in_flight: list[_InFlight]) -> Iterator[list[tuple[Any, Any]]]:
        """Wait for the next finished group; on a stall, retry the stuck groups file by file."""
        if not self.executor.first_done([f.result for f in in_flight], self.timeout):
            stuck = [f for f in in_flight if any(d.status == "pending" for d in f.decodes)]
            if not stuck:
                return  # the model step is slow (first load, big batch), not a decoder
            log.warning("no decode progress for %g s; retrying %d groups file by file", self.timeout, len(stuck))
            self.executor.stop([d for f in stuck for d in f.decodes] + [f.result for f in stuck], self.timeout)
            for f in stuck:
                in_flight.remove(f)
                yield from self._one_by_one(stage, f.items)
            return
        done = next(f for f in in_flight if f.result.done())
        in_flight.remove(done)
        if done.result.status == "finished":
            yield _paired(done.items, done.result.result())
        elif all(d.status == "finished" for d in done.decodes):
            raise done.result.exception()  # the model step failed: a setup problem, not a bad file
        else:
            log.warning("a decode batch failed (%s); retrying its files one by one", done.result.exception())
            yield from self._one_by_one(stage, done.items)
        for task in {id(t): t for t in (done.result, *done.decodes)}.values():
            task.release()

    def _one_by_one(self, stage: Stage, items: list[Any]) -> Iterator[list[tuple[Any, Any]]]:
        for item in items:
            decoded = self.executor.submit(stage.decode, [item], DECODE)
            try:
                result = decoded.result(timeout=self.timeout)
            except TimeoutError:
                self.executor.stop([decoded], self.timeout)
                result = [stage.failure(item, f"decoding did not finish in {self.timeout:g} s; stopped")]
            except Exception as exc:
                result = [stage.failure(item, f"the decoder crashed on this file ({type(exc).__name__})")]
            if stage.model is not None and result[0].ok:
                result = self.executor.submit(stage.model, [result], MODEL).result()
            yield _paired([item], result)


def _paired(items: list[Any], results: list[Any]) -> list[tuple[Any, Any]]:
    if len(items) != len(results):
        raise RuntimeError(f"a stage step returned {len(results)} results for {len(items)} items")
    return list(zip(items, results))


class DaskExecutor:
    """Tasks on the Dask cluster (`engine.runtime.cluster`), started on first use."""

    def __init__(self, client: Callable[[], Any]) -> None:
        """`client` gives the Dask client when work is first submitted (the cluster starts then)."""
        self._client = client

    @property
    def client(self) -> Any:
        return self._client()

    def window(self) -> int:
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return max(2, 2 * len(workers))

    def submit(self, fn: Callable[..., Any], arg: Any, resources: dict[str, int]) -> Task:
        return self.client.submit(fn, arg, resources=resources, pure=False)

    def first_done(self, tasks: Sequence[Task], timeout: float | None) -> bool:
        from distributed import as_completed

        try:
            next(as_completed(list(tasks), loop=self.client.loop, timeout=timeout))
        except TimeoutError:
            return False
        return True

    def stop(self, tasks: Sequence[Task], restart_timeout_s: float) -> None:
        """Cancel tasks and restart the workers still busy with them (a hung decoder holds its thread)."""
        client = self.client
        keys = {t.key for t in tasks}  # type: ignore[attr-defined]
        busy = [addr for addr, running in client.processing().items() if keys & set(running)]
        client.cancel(list(tasks), force=True)
        if not busy:
            return
        try:
            client.restart_workers(busy, timeout=max(30.0, restart_timeout_s))
            client.run(_ready)  # restarted workers come back under new addresses
        except Exception as exc:  # workers without a nanny cannot be restarted
            log.warning("could not restart stuck workers %s: %s", busy, exc)


def _ready() -> None:
    """Run on every worker after a restart: returns once they all answer."""


class _Done:
    """A task that ran at once, in this process."""

    def __init__(self, fn: Callable[..., Any], arg: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        try:
            self._value = fn(_resolved(arg))
        except Exception as exc:
            self._error = exc
        self.status = "error" if self._error is not None else "finished"

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        return self._error

    def release(self) -> None:
        self._value = None


def _resolved(arg: Any) -> Any:
    if isinstance(arg, _Done):
        return arg.result()
    if isinstance(arg, list):
        return [_resolved(a) for a in arg]
    return arg


class InlineExecutor:
    """Every task in this process, at once: no cluster, no stall timeout (nothing runs beside it)."""

    def window(self) -> int:
        return 1

    def submit(self, fn: Callable[..., Any], arg: Any, resources: dict[str, int]) -> Task:
        return _Done(fn, arg)

    def first_done(self, tasks: Sequence[Task], timeout: float | None) -> bool:
        return True

    def stop(self, tasks: Sequence[Task], restart_timeout_s: float) -> None:
        pass
