"""What every model of the product is: a lazily loaded thing on a device.

`load()` is thread-safe and loads once (the first caller builds, the others wait and share it);
`unload()` frees it (a later use loads it again); `device` says where it runs. Subclasses give
`_load()` and, when freeing takes more than dropping the reference, `_release()`. Processes
keep their models in `engine.models.cache`, so each is loaded once per process.
"""
from __future__ import annotations

import gc
import threading
from abc import ABC, abstractmethod
from typing import Generic, Self, TypeVar

Loaded = TypeVar("Loaded")


class Model(ABC, Generic[Loaded]):
    def __init__(self, device: str) -> None:
        self.requested_device = device
        self._lock = threading.RLock()
        self._loaded: Loaded | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    @abstractmethod
    def device(self) -> str:
        """The device it runs (or will run) on."""

    def load(self) -> Self:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        return self

    def unload(self) -> None:
        with self._lock:
            loaded, self._loaded = self._loaded, None
        if loaded is not None:
            self._release(loaded)

    @property
    def runtime(self) -> Loaded:
        """What `_load` built (loading it on first use)."""
        with self._lock:
            self.load()
            assert self._loaded is not None
            return self._loaded

    @abstractmethod
    def _load(self) -> Loaded:
        """Build the loaded model (weights read, sessions made)."""

    def _release(self, loaded: Loaded) -> None:
        del loaded
        gc.collect()
