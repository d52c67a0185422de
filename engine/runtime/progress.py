"""Progress of a long run, as the CLI's tqdm bar, the jobs list and the status endpoints show it."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Progress:
    stage: str = "idle"
    done: int = 0
    total: int = 0
    failed: int = 0
    current: str | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def rate(self) -> float:
        elapsed = time.time() - self.started_at
        return self.done / elapsed if elapsed > 0 and self.done else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None


ProgressCallback = Callable[[Progress], None]


def ignore(_progress: Progress) -> None:
    """The callback of a run nobody watches."""
