"""A progress bar on standard error, over the files of a long run."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """``sseq usage: [#####.....] 12/30 files`` redrawn in place, at most ten
    times a second, and wiped when the run ends."""

    def __init__(self, total: int, stream: TextIO | None = None, prefix: str = "sseq usage"):
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.prefix = prefix
        self.last_draw = 0.0
        self.drawn = False

    def step(self, _path: str | None = None) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last_draw >= 0.1 or self.done == self.total:
            self.last_draw = now
            filled = WIDTH * min(self.done, self.total) // max(self.total, 1)
            bar = "#" * filled + "." * (WIDTH - filled)
            self.stream.write(f"\r{self.prefix}: [{bar}] {self.done}/{self.total} files")
            self.stream.flush()
            self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False
