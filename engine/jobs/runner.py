"""Background jobs: one at a time, in submission order, each with live progress and cancel."""
from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Literal

from engine.runtime.progress import Progress, ProgressCallback

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]


@dataclass
class JobStatus:
    id: int
    kind: str
    state: JobState = "queued"
    stage: str = "queued"
    done: int = 0
    total: int = 0
    failed: int = 0
    rate: float = 0.0
    eta_seconds: float | None = None
    current: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    queued_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


@dataclass
class JobContext:
    """Handed to a job function: report progress, check for cancellation."""

    status: JobStatus
    cancel: threading.Event

    def progress(self, p: Progress) -> None:
        """A run's progress as the job's (the `ProgressCallback` of a run in a job)."""
        s = self.status
        s.stage, s.done, s.total, s.failed, s.rate, s.eta_seconds, s.current = (
            p.stage, p.done, p.total, p.failed, p.rate, p.eta_seconds, p.current)


JobFunction = Callable[[JobContext], dict[str, Any] | None]
Run = Callable[[ProgressCallback, threading.Event], Any]
"""A run with progress and cancel that returns its report (a dataclass or a dict)."""


class JobRunner:
    def __init__(self, history: int = 50) -> None:
        self._queue: queue.Queue[tuple[JobStatus, JobFunction, threading.Event]] = queue.Queue()
        self._jobs: dict[int, tuple[JobStatus, threading.Event]] = {}
        self._ids = itertools.count(1)
        self._history = history
        self._lock = threading.Lock()
        self.on_idle: Callable[[], None] | None = None
        """Called in the runner thread each time the last queued job has finished."""
        self._thread = threading.Thread(target=self._loop, name="photoindex-jobs", daemon=True)
        self._thread.start()

    def submit(self, kind: str, fn: JobFunction) -> JobStatus:
        """Queue a job; an identical kind already queued or running is returned instead."""
        with self._lock:
            for status, _ in self._jobs.values():
                if status.kind == kind and status.active:
                    return status
            status = JobStatus(next(self._ids), kind)
            cancel = threading.Event()
            self._jobs[status.id] = (status, cancel)
            self._trim()
        self._queue.put((status, fn, cancel))
        return status

    def submit_run(self, kind: str, run: Run) -> JobStatus:
        """Queue `run(progress, cancel)` as a job; its report becomes the job's result."""

        def job(ctx: JobContext) -> dict[str, Any] | None:
            report = run(ctx.progress, ctx.cancel)
            return asdict(report) if is_dataclass(report) else report

        return self.submit(kind, job)

    def cancel(self, job_id: int) -> bool:
        entry = self._jobs.get(job_id)
        if entry is None or not entry[0].active:
            return False
        entry[1].set()
        return True

    def cancel_all(self) -> list[int]:
        """Cancel every queued or running job; returns their ids."""
        ids = [s.id for s, _ in list(self._jobs.values()) if s.active]
        for job_id in ids:
            self.cancel(job_id)
        return ids

    def get(self, job_id: int) -> JobStatus | None:
        entry = self._jobs.get(job_id)
        return entry[0] if entry else None

    def latest(self, kind: str) -> JobStatus | None:
        matching = [s for s, _ in self._jobs.values() if s.kind == kind]
        return max(matching, key=lambda s: s.id) if matching else None

    def all(self) -> list[JobStatus]:
        return sorted((s for s, _ in self._jobs.values()), key=lambda s: s.id)

    def wait(self, job_id: int, timeout: float | None = None) -> JobStatus:
        deadline = None if timeout is None else time.time() + timeout
        while True:
            status = self._jobs[job_id][0]
            if not status.active or (deadline is not None and time.time() > deadline):
                return status
            time.sleep(0.05)

    def _trim(self) -> None:
        finished = [s.id for s, _ in self._jobs.values() if not s.active]
        for job_id in finished[: max(0, len(self._jobs) - self._history)]:
            del self._jobs[job_id]

    def _loop(self) -> None:
        while True:
            status, fn, cancel = self._queue.get()
            if cancel.is_set():
                status.state, status.stage, status.finished_at = "cancelled", "cancelled", time.time()
                continue
            status.state, status.started_at = "running", time.time()
            try:
                status.result = fn(JobContext(status, cancel))
                status.state = "cancelled" if cancel.is_set() else "done"
            except Exception as exc:
                log.exception("job %s (%s) failed", status.id, status.kind)
                status.state, status.error = "failed", str(exc)
            status.stage = status.state
            status.finished_at = time.time()
            if self._queue.empty() and self.on_idle is not None:
                try:
                    self.on_idle()
                except Exception:
                    log.exception("the queue-empty hook failed")
