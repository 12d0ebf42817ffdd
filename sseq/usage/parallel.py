"""Files read in N processes, streams handed on in the order one process
would give them: the report of ``-j N`` is the report of ``-j 1``.

Each worker reads whole files (a file's streams stay together and in
order); results come back in input order, and bad inputs are reported in
that order too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from ..errors import BadInput
from ..inputs import BadLines
from ..parser import DEFAULT_MAX_EVENT_SIZE
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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Enough files per task to keep the workers' start-up and pickling small
    # beside the reading, few enough that the work stays spread.
    chunksize = max(1, min(64, len(paths) // (jobs * 8)))
    work = [(path, estimate, skip_bad is not None, max_event_size) for path in paths]
    # Forked workers start at once with sseq already imported (a forkserver's
    # import costs more than reading a few hundred recordings); forking is
    # safe while this process runs no other thread, else the forkserver.
    import threading

    single = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if single else "forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_quiet_worker) as pool:
        for path, (usages, problem, skipped, seen) in zip(paths, pool.map(_read_file, work, chunksize=chunksize),
                                                    strict=True):
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
