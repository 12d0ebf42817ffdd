"""Writing to standard output (the console's) or an -o FILE: bytes,
flushed once per batch so that a record leaves as soon as the read that
completed it has been processed."""

from __future__ import annotations

from contextlib import contextmanager
from typing import BinaryIO

from .errors import BadInput, SseqError


class Output:
    """A binary sink that writes a batch of lines and flushes.

    ``name``: how error messages call it (a file given with -o); ``owned``:
    :meth:`close` closes the stream (never standard output).
    """

    def __init__(self, stream: BinaryIO, name: str | None = None, owned: bool = False):
        self.stream = stream
        self.name = name
        self.owned = owned

    def write_lines(self, lines: list[bytes]) -> None:
        if len(lines) > 4:
            self.write(b"".join(lines))
        elif lines:
            # Few pieces (perhaps one huge event in three): no joined copy.
            with self._reporting_errors():
                self.stream.writelines(lines)
                self.stream.flush()

    def write(self, data: bytes) -> None:
        if data:
            with self._reporting_errors():
                self.stream.write(data)
                self.stream.flush()

    def flush(self) -> None:
        """Flush, for a caller that wrote to the stream directly (an
        Output standing in for a binary stream)."""
        with self._reporting_errors():
            self.stream.flush()

    @contextmanager
    def _reporting_errors(self):
        # A closed pipe is a normal end (the CLI ends quietly); any other
        # write error, a full disk say, is one clear line.
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._write_error(exc) from None

    def close(self) -> None:
        if self.owned:
            try:
                self.stream.close()
            except OSError:  # what could not be written was already reported
                pass

    def _write_error(self, exc: OSError) -> SseqError:
        where = f"to {self.name}" if self.name else "output"
        return SseqError(f"cannot write {where}: {exc.strerror or exc}")


def open_output(path: str | None, stdout: BinaryIO) -> Output:
    """-o FILE; None or "-" is ``stdout`` (the console's)."""
    if path is None or path == "-":
        return Output(stdout, name="standard output")
    return open_file_output(path)


def open_file_output(path: str) -> Output:
    """An Output to the file ``path``, created or truncated ("-" too is a
    file name here)."""
    try:
        stream = open(path, "wb")
    except OSError as exc:
        raise BadInput(path, None, f"cannot write: {exc.strerror or exc}") from None
    return Output(stream, name=path, owned=True)
