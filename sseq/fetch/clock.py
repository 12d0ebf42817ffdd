"""A fetch's clock: what --max-time bounds, what t in the records counts
from, and how long the next read may wait."""

from __future__ import annotations

import time

__all__ = ["RunClock"]


class RunClock:
    """Two origins: the run's start (``elapsed``, which --max-time bounds,
    retries included) and the moment the recorded request was sent (``t``,
    0.0 in sseq.open), which a retry before any answer moves later."""

    def __init__(self, idle_timeout: float, max_time: float | None):
        self.idle_timeout = idle_timeout
        self.max_time = max_time
        self._start = time.monotonic()
        self._sent: float | None = None

    def start(self) -> None:
        self._start = time.monotonic()

    def mark_sent(self) -> None:
        self._sent = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def t(self) -> float:
        """Seconds since the recorded request was sent, to the millisecond."""
        return round(time.monotonic() - (self._sent if self._sent is not None else self._start), 3)

    def remaining(self) -> float | None:
        """Seconds --max-time leaves (None: no --max-time)."""
        if self.max_time is None:
            return None
        return self.max_time - self.elapsed()

    def read_timeout(self) -> tuple[float, bool]:
        """The timeout of the next read, and True when --max-time rather
        than --idle-timeout set it (it ends before a silence would)."""
        remaining = self.remaining()
        if remaining is not None and remaining < self.idle_timeout:
            return max(remaining, 0.0), True
        return self.idle_timeout, False
