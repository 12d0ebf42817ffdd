"""Files read in N processes, streams handed on in the order one process
would give them: the report of ``-j N`` is the report of ``-j 1``.

Each worker reads whole files (a file's streams stay together and in
order); results come back in input order, and bad inputs are reported in
that order too.  Where the system can fork (and this process runs one
thread), this process reads one task in N itself and N - 1 forked workers
read the others, each sending its results down a pipe of its own: no pool,
no threads, nothing imported again.  Elsewhere a process pool does it.
"""

from __future__ import annotations

import gc
import json
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import BinaryIO

import orjson

from ..errors import BadInput, SseqError
from ..inputs import BadLines
from ..parser import DEFAULT_MAX_EVENT_SIZE
from ..records import loads_json
from .model import StreamUsage
from .streams import iter_file_usages, iter_usages


@dataclass(frozen=True, slots=True)
class SourceSeen:
    """What ``on_source`` reads of an input a worker read (the Source
    itself stays in the worker)."""

    name: str
    yielded_nothing: bool
    messages: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        return self.messages


def _quiet_worker() -> None:
    """Ctrl-C is the main process's to handle (exit 130, no traceback):
    the workers ignore it and are shut down by it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _read_files(jobs: list[tuple]) -> list[tuple]:
    """:func:`_read_file` of each job, in order: one task."""
    return [_read_file(job) for job in jobs]


def _iter_forked(chunks: list[list[tuple]], jobs: int) -> Iterator[list[tuple]]:
    """The results of each task in order: task k read here when k % jobs
    is 0, else by forked worker k % jobs.  A worker that fails or dies is
    an error here; leaving early (an error, Ctrl-C) ends the workers.
    Leaves this process's objects frozen (see gc.freeze below)."""
    workers: list[tuple[int, BinaryIO]] = []
    # What exists now the workers share with this process, page for page,
    # until one writes to it: kept out of the cycle collector's walks, it
    # stays shared (fewer pages copied), and this process's own collections
    # skip it (W7 -j 2 went from 1.66x to 1.70x of -j 1).  It is left frozen,
    # as the gc module advises for a forking parent: sseq usage exits after
    # its report (a caller that lives on may gc.unfreeze()).
    gc.freeze()
    try:
        for number in range(1, jobs):
            mine = [chunk for k, chunk in enumerate(chunks) if k % jobs == number]
            readable, writable = os.pipe()
            _widen_pipe(writable)
            pid = os.fork()
            if pid == 0:
                os.close(readable)
                _work(writable, mine)  # (never returns)
            os.close(writable)
            workers.append((pid, os.fdopen(readable, "rb")))
        for k, chunk in enumerate(chunks):
            yield _read_files(chunk) if k % jobs == 0 else _receive(workers[k % jobs - 1][1])
    finally:
        for pid, pipe in workers:
            pipe.close()
            try:
                os.kill(pid, signal.SIGTERM)  # (harmless once it has finished)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


def _widen_pipe(fd: int) -> None:
    # A worker that is ahead need not wait for this process to read: up to
    # 1 MiB of results fits in the pipe (Linux; elsewhere the default).
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _work(fd: int, chunks: list[list[tuple]]) -> None:
    """A forked worker: each task's results down the pipe, then exit
    (``os._exit``: nothing of the parent's is flushed or closed twice)."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # (Ctrl-C is the parent's; it ends us)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                try:
                    message: dict = {"ok": [_plain_result(result) for result in _read_files(chunk)]}
                except Exception as exc:  # (a bug: the parent reports it)
                    message, code = {"failed": f"{type(exc).__name__}: {exc}"}, 1
                out.write(_dumps(message) + b"\n")
                out.flush()
                if code:
                    break
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _receive(pipe: BinaryIO) -> list[tuple]:
    line = pipe.readline()
    if not line.endswith(b"\n"):
        raise SseqError("a usage -j worker process ended before its files were read (killed?)")
    message = loads_json(line)
    if "ok" not in message:
        raise RuntimeError(f"a usage -j worker process failed: {message.get('failed')}")
    return [_result_of(plain) for plain in message["ok"]]


# A worker's results go down its pipe as JSON, one line per task (no
# module of sseq unpickles anything); a file name's surrogate escapes, which
# orjson refuses, take the standard library's way.
_FIELDS = tuple(f.name for f in fields(StreamUsage))


def _dumps(message: dict) -> bytes:
    try:
        return orjson.dumps(message)
    except TypeError:
        return json.dumps(message).encode()


def _plain_result(result: tuple) -> list:
    usages, problem, skipped, seen = result
    return [[[getattr(usage, name) for name in _FIELDS] for usage in usages], problem, skipped,
            None if seen is None else [seen.name, seen.yielded_nothing, seen.messages]]


def _result_of(plain: list) -> tuple:
    usages, problem, skipped, seen = plain
    if skipped is not None:
        count, first = skipped
        skipped = (count, tuple(first) if first is not None else None)
    return ([StreamUsage(*values) for values in usages], tuple(problem) if problem is not None else None, skipped,
            None if seen is None else SourceSeen(*seen))


def _iter_pooled(chunks: list[list[tuple]], jobs: int) -> Iterator[tuple]:
    """The results of each job in order, from a pool of ``jobs`` processes
    (where this process cannot fork)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                                          else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_quiet_worker) as pool:
        for results in pool.map(_read_files, chunks):
            yield from results


def _read_file(job: tuple) -> tuple[list[StreamUsage], tuple | None, tuple | None, SourceSeen | None]:
    """In a worker: one file's streams, its bad input as (source, line,
    reason), what --skip-bad counted (count, first), and what its source
    said once read."""
    path, estimate, skip_bad, max_event_size = job
    estimator = None
    if estimate:
        from .estimate import Estimator

        estimator = Estimator()
    bad = BadLines() if skip_bad else None
    usages: list[StreamUsage] = []
    problem = None
    seen: list[SourceSeen] = []

    def on_source(source) -> None:
        seen.append(SourceSeen(source.name, bool(source.yielded_nothing), list(source.warnings())))

    try:
        for usage in iter_file_usages(path, estimator, bad, max_event_size, on_source):
            usages.append(usage)
    except BadInput as exc:
        problem = (exc.source, exc.line, exc.reason)
    skipped = None
    if bad is not None and bad.count:
        first = bad.first
        skipped = (bad.count, (first.source, first.line, first.reason) if first is not None else None)
    return usages, problem, skipped, seen[0] if seen else None


def iter_usages_parallel(
    paths: list[str],
    jobs: int,
    on_problem: Callable[[BadInput], None],
    estimate: bool = False,
    skip_bad: BadLines | None = None,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    on_file: Callable[[str], None] | None = None,
    on_source: Callable | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[StreamUsage]:
    """Every stream of every input, read by ``jobs`` processes; standard
    input (``-``, read from ``stdin``), and a single file, are read here."""
    if jobs <= 1 or len(paths) < 2 or "-" in paths:
        estimator = None
        if estimate:
            from .estimate import Estimator

            estimator = Estimator()
        yield from iter_usages(paths, on_problem, estimator, skip_bad, max_event_size, on_file, on_source, stdin)
        return
    # Enough files per task to keep the workers' start-up and pickling small
    # beside the reading, few enough that the work stays spread.
    chunksize = max(1, min(16, len(paths) // (jobs * 8)))
    work = [(path, estimate, skip_bad is not None, max_event_size) for path in paths]
    chunks = [work[at:at + chunksize] for at in range(0, len(work), chunksize)]
    import threading

    results: Iterator[tuple]
    if hasattr(os, "fork") and threading.active_count() == 1:
        results = (result for batch in _iter_forked(chunks, jobs) for result in batch)
    else:
        results = _iter_pooled(chunks, jobs)
    for path, (usages, problem, skipped, seen) in zip(paths, results, strict=True):
        if on_file is not None:
            on_file(path)
        if seen is not None and on_source is not None:
            on_source(seen)
        yield from usages
        if skipped is not None and skip_bad is not None:
            count, first = skipped
            if skip_bad.first is None and first is not None:
                skip_bad.first = BadInput(*first)
            skip_bad.count += count
        if problem is not None:
            on_problem(BadInput(*problem))
