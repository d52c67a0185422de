"""The Index-All queue on top of the job runner: image-text indexing per model, faces, pHash,
in that order, one job at a time, with progress; and the command run when the queue empties.

Stages are named callables that queue one job on the runner and return its status; the engine
(`engine.app.PhotoIndex`) hands them over when it builds the queue. The queue-empty command is an argv list from the settings
(`QUEUE_EMPTY_COMMAND`), run without a shell; the API can only switch the one-shot flag.
"""
from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from engine.errors import NotFound, PhotoIndexError, UnknownName
from engine.jobs.runner import JobRunner, JobStatus

log = logging.getLogger(__name__)

StageStarter = Callable[[], JobStatus]


class StageUnavailable(UnknownName):
    """Index-All was asked for a stage it does not have."""


NO_COMMAND_NOTE = ('no QUEUE_EMPTY_COMMAND is set, so nothing runs when the queue empties; set it in .env '
                   'to an argv list, e.g. ["systemctl", "poweroff"]')


class JobNotFound(NotFound):
    pass


@dataclass
class CommandRun:
    argv: list[str]
    started_at: float
    returncode: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class ShutdownState:
    enabled: bool
    configured: bool
    """Whether QUEUE_EMPTY_COMMAND is set."""
    command: list[str] | None
    last_run: CommandRun | None
    note: str | None = None
    """Said when the flag is on but nothing would run."""


@dataclass(frozen=True)
class QueueStatus:
    running: bool
    current: JobStatus | None
    queued: list[JobStatus]
    batch: list[JobStatus]
    """The jobs of the last Index-All request, in order."""
    stages: list[str]
    shutdown: ShutdownState


class QueueEmptyHook:
    """A one-shot flag: when set, the configured command runs once after the queue empties."""

    def __init__(self, command: Sequence[str] | None, timeout_s: float = 120.0) -> None:
        self.command = [str(a) for a in command] if command else None
        self.timeout_s = timeout_s
        self.enabled = False
        self.last_run: CommandRun | None = None
        self._lock = threading.Lock()

    def set(self, enabled: bool) -> bool:
        """The original's clients set the flag to power the PC off; without a configured command the
        flag is kept and `state().note` says nothing will run (a web request never names a command)."""
        with self._lock:
            self.enabled = enabled
        return self.enabled

    def fire(self) -> None:
        with self._lock:
            if not self.enabled:
                return
            self.enabled = False
            if not self.command:
                log.warning("job queue empty; the shutdown flag was on, but %s", NO_COMMAND_NOTE)
                return
            run = self.last_run = CommandRun(list(self.command), time.time())
        log.warning("job queue empty: running %s", run.argv)
        try:
            run.returncode = subprocess.run(run.argv, shell=False, check=False, timeout=self.timeout_s,
                                            stdin=subprocess.DEVNULL).returncode
        except (OSError, subprocess.SubprocessError) as exc:
            run.error = str(exc)
            log.error("queue-empty command %s failed: %s", run.argv, exc)

    def state(self) -> ShutdownState:
        note = NO_COMMAND_NOTE if self.enabled and not self.command else None
        return ShutdownState(self.enabled, bool(self.command), self.command, self.last_run, note)


class IndexQueue:
    def __init__(self, jobs: JobRunner, model_stage: Callable[[str], JobStatus], stages: Mapping[str, StageStarter],
                 queue_empty_command: Sequence[str] | None = None) -> None:
        """`model_stage(model)` queues image-text indexing with one model; `stages` run after it, in order."""
        self.jobs = jobs
        self.model_stage = model_stage
        self.stages = dict(stages)
        self.hook = QueueEmptyHook(queue_empty_command)
        jobs.on_idle = self.hook.fire
        self._batch: list[int] = []

    def index_all(self, models: Sequence[str], stages: Sequence[str] | None = None) -> tuple[list[JobStatus], dict[str, str]]:
        """Queue image-text indexing for each model, then every registered stage (or only `stages`).

        Returns the queued jobs and the stages skipped with the reason (e.g. no face model).
        """
        names = list(self.stages) if stages is None else list(stages)
        unknown = [s for s in names if s not in self.stages]
        if unknown:
            raise StageUnavailable(f"unknown stages {unknown}; available: {list(self.stages)}")
        queued = [self.model_stage(m) for m in models]
        skipped: dict[str, str] = {}
        for name in names:
            try:
                queued.append(self.stages[name]())
            except PhotoIndexError as exc:  # a missing optional model skips its stage, not the queue
                skipped[name] = str(exc)
        self._batch = [s.id for s in queued]
        return queued, skipped

    def status(self) -> QueueStatus:
        active = [s for s in self.jobs.all() if s.active]
        return QueueStatus(
            running=bool(active),
            current=next((s for s in active if s.state == "running"), None),
            queued=[s for s in active if s.state == "queued"],
            batch=[s for s in (self.jobs.get(i) for i in self._batch) if s is not None],
            stages=["image-text", *self.stages],
            shutdown=self.hook.state(),
        )

    def cancel(self, job_id: int | None = None) -> list[int]:
        if job_id is None:
            return self.jobs.cancel_all()
        if self.jobs.get(job_id) is None:
            raise JobNotFound(f"no job {job_id}")
        return [job_id] if self.jobs.cancel(job_id) else []
