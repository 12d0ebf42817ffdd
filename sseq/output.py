"""Writing to standard output: bytes, flushed once per batch so that a
record leaves as soon as the read that completed it has been processed."""

from __future__ import annotations

import sys
from typing import BinaryIO

from .errors import SseqError


class Output:
    """A binary sink that writes a batch of lines and flushes."""

    def __init__(self, stream: BinaryIO | None = None):
        self.stream = stream if stream is not None else sys.stdout.buffer

    def write_lines(self, lines: list[bytes]) -> None:
        if lines:
            self.write(b"".join(lines))

    def write(self, data: bytes) -> None:
        if data:
            try:
                self.stream.write(data)
                self.stream.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise SseqError(f"cannot write output: {exc.strerror or exc}") from None
