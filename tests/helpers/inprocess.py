"""Running a command line in this process: sseq.cli.run with a console over
byte buffers, so that a test needs no interpreter start-up.  Pipes, signals
and live pipelines still need real processes (helpers.processes)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sseq.cli import run
from sseq.console import Console


@dataclass(frozen=True)
class Invocation:
    """What a user would see: the exit status, stdout and stderr apart."""

    status: int
    stdout: bytes
    stderr: bytes

    @property
    def returncode(self) -> int:
        """The status, under subprocess.CompletedProcess's name, so that a
        test reads the same with either runner."""
        return self.status


def invoke(*args, input: bytes | None = b"", stdout_closed: bool = False, stdout_isatty: bool = False,
           stderr_isatty: bool = False) -> Invocation:
    """Run ``sseq ARGS...`` in-process with ``input`` as standard input
    (None: started with stdin closed, as ``<&-``; ``stdout_closed``: as
    ``>&-``).  An exception sseq did not turn into a message propagates, so
    that the test shows it."""
    out, err = io.BytesIO(), io.BytesIO()
    err_text = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    console = Console(
        io.BytesIO(input) if input is not None else None,
        None if stdout_closed else out,
        err_text,
        stdout_isatty=stdout_isatty,
        stderr_isatty=stderr_isatty,
    )
    status = run([str(a) for a in args], console, catch_all=False)
    err_text.flush()
    return Invocation(status, out.getvalue(), err.getvalue())
