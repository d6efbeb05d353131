"""Progress events: the callback type the core reports to (R renders them), and the throttle that spaces them."""

from __future__ import annotations

import time
from collections.abc import Callable

ProgressFn = Callable[[dict], None] | None


class Throttle:
    """True at most every ``every_seconds``, and always for the last step (progress events); with
    ``first``, also for the first."""

    def __init__(self, every_seconds: float, first: bool = False):
        self.every_seconds = every_seconds
        self.started = time.perf_counter()
        self._last = -float("inf") if first else self.started

    def due(self, last: bool) -> bool:
        now = time.perf_counter()
        if now - self._last >= self.every_seconds or last:
            self._last = now
            return True
        return False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
