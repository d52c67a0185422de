"""The Dask cluster that runs heavy work: a local one by default, a scheduler address when set.

Workers are of two kinds, told apart by Dask resources so the scheduler never mixes them up:
decode workers carry `CPU`, and one model worker per accelerator carries `MODEL` (on a CPU-only
machine a single model worker runs inference on the cores). Each model worker process loads a
model once and keeps it (see `engine.models`). On a multi-machine cluster, start
workers with `--resources CPU=1` (one per core) and `--resources MODEL=1` (one per GPU).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, Nanny, Scheduler, SpecCluster

from engine.config import Settings
from engine.models.cache import MODEL_THREADS_ENV

log = logging.getLogger(__name__)

DECODE = {"CPU": 1}
MODEL = {"MODEL": 1}


def cuda_device_count() -> int:
    from engine.models.image_text import cuda_possible

    if not cuda_possible():
        return 0  # without importing torch, seconds of a cold start
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # a broken CUDA install must not stop CPU indexing
        return 0


def local_cluster(decode_workers: int, model_workers: int, gpus: int, decode_memory_limit: str = "auto",
                  worker_log_level: int = logging.ERROR) -> SpecCluster:
    """`worker_log_level` is what worker processes print to the shared stderr: a worker whose scheduler closes
    first logs a heartbeat traceback at ERROR, which says nothing to a user of the command line."""
    threads = max(1, (os.cpu_count() or 2) // max(1, model_workers))
    workers: dict[str, dict] = {}
    for i in range(decode_workers):
        workers[f"decode-{i}"] = {
            "cls": Nanny,
            "options": {
                "host": "127.0.0.1",
                "silence_logs": worker_log_level,
                "nthreads": 1,
                "memory_limit": decode_memory_limit,
                "resources": DECODE,
                "env": {"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""},
            },
        }
    for i in range(model_workers):
        env = {"OMP_NUM_THREADS": str(threads), MODEL_THREADS_ENV: str(threads)}
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(i)
        workers[f"model-{i}"] = {"cls": Nanny, "options": {"host": "127.0.0.1", "silence_logs": worker_log_level,
                                                           "nthreads": 1, "resources": MODEL, "env": env}}
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1", "dashboard": False, "dashboard_address": "127.0.0.1:0"}}
    # a worker process configures its loggers when it imports distributed, before the Nanny's `silence_logs`
    # (which reaches only distributed.nanny): its level has to be in the environment it is spawned with
    spawn_environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}),
                     "DASK_LOGGING__DISTRIBUTED": logging.getLevelName(worker_log_level).lower()}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn_environ}):
        return SpecCluster(scheduler=scheduler, workers=workers, name="photoindex", silence_logs=logging.ERROR)


class ClusterHandle:
    """A lazily started Dask client shared by the jobs of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._cluster: SpecCluster | None = None
        self._lock = threading.Lock()

    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                # a task whose worker dies fails at once: the runner retries its files one by one itself,
                # so a poison file costs two worker restarts instead of four
                dask.config.set({"distributed.scheduler.allowed-failures": 0})
                if not log.isEnabledFor(logging.INFO):
                    logging.getLogger("distributed").setLevel(logging.WARNING)
                if self.settings.dask_scheduler_address:
                    self._client = Client(self.settings.dask_scheduler_address, set_as_default=False)
                else:
                    gpus = cuda_device_count() if self.settings.clip_device == "auto" or self.settings.clip_device.startswith("cuda") else 0
                    decode = self.settings.dask_decode_workers or max(1, os.cpu_count() or 1)
                    worker_log_level = logging.ERROR if log.isEnabledFor(logging.INFO) else logging.CRITICAL
                    self._cluster = local_cluster(decode, max(1, gpus), gpus, self.settings.dask_decode_memory_limit,
                                                  worker_log_level)
                    self._client = Client(self._cluster, set_as_default=False)
                log.info("dask cluster ready: %s", self._client)
            return self._client

    def close(self) -> None:
        with self._lock, _quiet_shutdown():
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None


@contextmanager
def _quiet_shutdown() -> Iterator[None]:
    """Closing a cluster makes in-flight heartbeats fail with CommClosedError tracebacks that say
    nothing to a user; they are silenced while it closes."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
