"""Progress on standard error (through the console): one line redrawn in
place, at most ten times a second, wiped when the run ends, so that it
never mixes with stdout's data or stays behind in a terminal's scrollback.

:class:`StatusLine` does the drawing; :class:`FileProgress` (``sseq
usage`` over many files) and :class:`FetchProgress` (``sseq fetch``) say
what is drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["StatusLine", "FileProgress", "FetchProgress", "format_size"]


class RunFigures(Protocol):
    """What :class:`FetchProgress` shows of a fetch run."""

    events: int
    bytes: int
    first_event_t: float | None

    def elapsed(self) -> float: ...


BAR_WIDTH = 30
_ERASE = "\x1b[K"  # clear to the end of the line


class StatusLine:
    """One self-rewriting line, drawn through ``write`` (the console's
    :meth:`~sseq.console.Console.write_message`: standard error).

    ``enabled``: draw at all (callers pass False off a terminal or under
    --quiet); messages from :meth:`say` are written either way.  ``erase``:
    clear what the last drawing left, for a line that may get shorter.
    """

    def __init__(self, prefix: str, write: Callable[[str], None], enabled: bool = True, erase: bool = True):
        self.prefix = prefix
        self.write = write
        self.enabled = enabled
        self.erase = erase
        self.drawn = False
        self.last_draw = 0.0

    def due(self) -> bool:
        """True when the last drawing is at least a tenth of a second old."""
        return self.enabled and time.monotonic() - self.last_draw >= 0.1

    def draw(self, text: str) -> None:
        self.last_draw = time.monotonic()
        self.write("\r" + (_ERASE if self.erase else "") + f"{self.prefix}: {text}")
        self.drawn = True

    def say(self, message: str) -> None:
        """A message on a line of its own, the status line wiped first."""
        self.clear()
        self.write(f"{self.prefix}: {message}\n")

    def clear(self) -> None:
        if self.drawn:
            self.write("\r" + _ERASE)
            self.drawn = False


class FileProgress:
    """``sseq usage: [#####.....] 12/30 files``."""

    def __init__(self, total: int, write: Callable[[str], None], prefix: str = "sseq usage"):
        self.total = total
        self.done = 0
        # The bar keeps its width, so there is nothing to erase.
        self.line = StatusLine(prefix, write, erase=False)

    def step(self, _path: str | None = None) -> None:
        self.done += 1
        if self.line.due() or self.done == self.total:
            filled = BAR_WIDTH * min(self.done, self.total) // max(self.total, 1)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.line.draw(f"[{bar}] {self.done}/{self.total} files")

    def close(self) -> None:
        self.line.clear()


class FetchProgress:
    """``sseq fetch: 42 events, 12.3 KiB, 3.1 s, first event after 0.84 s``
    (a terminal only), and the run's messages for people."""

    def __init__(self, enabled: bool, write: Callable[[str], None], prefix: str = "sseq fetch"):
        self.line = StatusLine(prefix, write, enabled=enabled)

    def update(self, run: RunFigures) -> None:
        """Show ``run``'s ``events``, ``bytes``, ``elapsed()`` and ``first_event_t``."""
        if not self.line.due():
            return
        first = f", first event after {run.first_event_t:.2f} s" if run.first_event_t is not None else ""
        self.line.draw(f"{run.events} events, {format_size(run.bytes)}, {run.elapsed():.1f} s{first}")

    def say(self, message: str) -> None:
        self.line.say(message)

    def done(self) -> None:
        self.line.clear()


def format_size(count: int) -> str:
    """Bytes for people: ``512 B``, ``12.3 KiB``, ``4.0 MiB``."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"
