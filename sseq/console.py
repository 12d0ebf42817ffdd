"""The process's streams, handed to commands instead of reached for.

``sseq.cli`` makes one :class:`Console` per run and puts it in click's
``ctx.obj``; a command gets it with :func:`current` and gives library code
what it needs (a binary stream, a ``warn`` callback), so that only the CLI
and this module touch ``sys.stdin``, ``sys.stdout`` and ``sys.stderr``.
Tests make a console over byte buffers and run commands in-process.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from typing import BinaryIO, NoReturn, TextIO, cast

import click

__all__ = ["Console", "current"]


class _Closed:
    """Stands in for a stream the process was started without (``<&-``,
    ``>&-``): every read or write fails as a closed descriptor would, with a
    message that says which stream it was."""

    def __init__(self, what: str):
        self.what = what

    def _fail(self, *args: object) -> NoReturn:
        raise OSError(errno.EBADF, f"{self.what} is closed")

    read = read1 = readline = write = writelines = fileno = _fail
    closed = False

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass  # nothing is ever buffered here

    def close(self) -> None:
        pass


class Console:
    """stdin and stdout as binary streams, stderr as text, whether each is a
    terminal, and the run's messages with the ``sseq CMD:`` prefix.

    ``command`` is the prefix (``sseq parse``); the CLI sets it as soon as it
    knows which command runs.  A stream given as None is closed: reading or
    writing it is an OSError that says so; messages to a closed stderr are
    dropped.
    """

    def __init__(
        self,
        stdin: BinaryIO | None,
        stdout: BinaryIO | None,
        stderr: TextIO | None,
        *,
        stdout_isatty: bool = False,
        stderr_isatty: bool = False,
        command: str = "sseq",
    ):
        self.stdin: BinaryIO = stdin if stdin is not None else _closed("standard input")
        self.stdout: BinaryIO = stdout if stdout is not None else _closed("standard output")
        self.stderr: TextIO | None = stderr
        self.stdout_isatty = stdout_isatty
        self.stderr_isatty = stderr_isatty
        self.command = command
        self.is_process = False  # set by for_process: these are the process's own streams
        # serve's connection threads report through the same console.
        self._lock = threading.Lock()

    @classmethod
    def for_process(cls) -> Console:
        """The console of this process: its own three streams."""
        console = cls(
            sys.stdin.buffer if sys.stdin is not None else None,
            sys.stdout.buffer if sys.stdout is not None else None,
            sys.stderr,
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
        )
        console.is_process = True
        return console

    def discard_stdout(self) -> None:
        """The reader of stdout went away (``| head``): drop whatever is
        still buffered, so that the interpreter's own flush at exit cannot
        complain either."""
        if not self.is_process or sys.stdout is None:
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass

    def warn(self, message: str) -> None:
        """``sseq CMD: message`` on stderr, one line: a warning or a note
        for people."""
        self.write_message(f"{self.command}: {_one_line(message)}\n")

    def error(self, message: str) -> None:
        """``sseq CMD: error: message`` on stderr, one line: why the run
        failed."""
        self.write_message(f"{self.command}: error: {_one_line(message)}\n")

    def write_message(self, text: str) -> None:
        """Text on stderr as it is, flushed.  A reader of stderr that went
        away (``2>&1 | grep -m1``) must not stop the run: its messages are
        dropped."""
        if self.stderr is None:
            return
        with self._lock:
            try:
                self.stderr.write(text)
                self.stderr.flush()
            except (OSError, ValueError):
                pass


def _one_line(message: str) -> str:
    # A message from a library (jq's shows the program under a caret) may
    # span lines; each of ours is one line that grep and logs keep whole.
    if "\n" not in message and "\r" not in message:
        return message
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def _closed(what: str) -> BinaryIO:
    return cast(BinaryIO, _Closed(what))


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def current() -> Console:
    """The console of the command being run (click's ``ctx.obj``)."""
    obj = click.get_current_context().obj
    if not isinstance(obj, Console):
        raise RuntimeError("sseq commands are run through sseq.cli, which makes their console")
    return obj
