"""When ``fetch`` tries again, and after how long.

A 408/425/429 or 5xx answer, a failed connection and a dropped stream are
tried again up to ``--retry N`` times in a row, waiting what the server
asks for (``retry-after-ms``, ``Retry-After`` in seconds or as an HTTP
date) or else an exponential backoff, and never past ``--max-time``.
Only progress -- a new event -- starts a new run of N; and all the tries
of a run are bounded too (:data:`TOTAL_FACTOR` times N), so that a server
which keeps dropping the stream after a new event still lets a cron job end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = ["MAX_BACKOFF", "TOTAL_FACTOR", "RetryBudget", "backoff", "is_retry_status", "retry_delay"]

MAX_BACKOFF = 30.0
TOTAL_FACTOR = 10  # --retry N allows at most 10 x N tries in all
_RETRY_STATUSES = frozenset((408, 425, 429))


def is_retry_status(status: int) -> bool:
    """True for an answer worth asking again: timeout, too early, too many
    requests, or any server error."""
    return status in _RETRY_STATUSES or status >= 500


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row."""
    return min(MAX_BACKOFF, 0.5 * 2**failures)


def retry_delay(headers: Mapping[str, str], failures: int) -> tuple[float, str]:
    """Seconds to wait before asking again after an answer with these
    headers, and why (the header it came from, or "" for the backoff)."""
    value = headers.get("retry-after-ms")  # non-standard, finer than Retry-After; first when both
    if value:
        try:
            return max(float(value) / 1000, 0.0), " (retry-after-ms)"
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(float(value), 0.0), " (Retry-After)"
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0), " (Retry-After)"
            except (TypeError, ValueError, IndexError):
                pass
    return backoff(failures), ""


class RetryBudget:
    """``--retry N``: the failed attempts in a row so far, against N, and
    all the tries of the run, against ``TOTAL_FACTOR`` x N."""

    def __init__(self, retries: int):
        self.retries = retries
        self.total_limit = TOTAL_FACTOR * retries
        self.failures = 0
        self.total = 0

    @property
    def spent_in_all(self) -> bool:
        """True when the run has used all the tries it may make."""
        return self.retries > 0 and self.total >= self.total_limit

    def allows(self, delay: float, remaining: float | None) -> bool:
        """True when one more attempt is left and waiting ``delay`` seconds
        still ends before the time that ``remaining`` (None: unbounded)."""
        if self.failures >= self.retries or self.total >= self.total_limit:
            return False
        return remaining is None or delay < remaining

    def spend(self) -> str:
        """Count one more failure; the "(2 of 5)" to show with it."""
        self.failures += 1
        self.total += 1
        return f"({self.failures} of {self.retries})"

    def backoff(self) -> float:
        return backoff(self.failures)

    def delay_for(self, headers: Mapping[str, str]) -> tuple[float, str]:
        return retry_delay(headers, self.failures)

    def reset(self) -> None:
        """A connection that brought new events made progress: the next
        failure starts a new run of them (the total still counts)."""
        self.failures = 0
