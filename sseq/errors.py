"""Exit statuses and the exceptions that carry them.

Only ``sseq.cli.main`` turns these into process exits; library callers get
ordinary exceptions they can catch.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    BAD_INPUT = 1  # bad input, or a check that failed (usage --strict)
    USAGE = 2
    HTTP_ERROR = 3
    NETWORK_ERROR = 4  # network error or timeout
    INTERRUPTED = 130


class SseqError(Exception):
    """An error meant for the user; ``status`` is the exit status."""

    status = ExitStatus.BAD_INPUT

    def __init__(self, message: str, status: ExitStatus | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class BadInput(SseqError):
    """Input that cannot be read, named by source and line: ``FILE:LINE: why``."""

    def __init__(self, source: str, line: int | None, reason: str):
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class UsageProblem(SseqError):
    """Options that do not fit together, found after click parsed them."""

    status = ExitStatus.USAGE


class Interrupted(SseqError):
    """SIGINT or SIGTERM."""

    status = ExitStatus.INTERRUPTED

    def __init__(self, message: str = "interrupted"):
        super().__init__(message)
