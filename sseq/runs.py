"""Runs of records that a reader can take whole.

A stream is mostly text deltas, each record like the one before it in all a
reader looks at (see :class:`sseq.providers.base.DeltaShape`).  With the
compiled core, the readers that ask for it (``text``, ``usage``) get each
such run as one :class:`RecordRun`: its texts joined, its digest bytes, and
its lines for a reader that must look closer.  Nothing here is a Record
until a reader asks for one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BadInput
from .records import Record, parse_record_line
from .speedups import compiled

__all__ = ["RecordRun", "lines_of", "with_runs"]


@dataclass(slots=True)
class RecordRun:
    """Records that repeat the one before them in all a reader looks at
    (a run of text deltas: see :class:`sseq.providers.base.DeltaShape`),
    taken in one call by the compiled core, which a reader that asks for
    runs gets in place of their Records.

    ``shape``: the index of the shape in ``providers.RUN_SHAPES``.
    ``text``: the records' texts joined.  ``digest``: ``event\ndata\n\n``
    of each record joined (the data as its exact bytes), with ``ends`` the
    end offset of each in it (empty unless asked for).  ``last_t``: the t
    of the last record, if any.  ``count`` records, whose NDJSON lines are
    ``buf[start:stop]``, for a reader that cannot take the run whole
    (:meth:`records`)."""

    shape: int
    text: str
    digest: bytes
    ends: list[int] | None
    last_t: float | None
    buf: bytes
    start: int
    stop: int
    count: int

    def lines(self) -> list[bytes]:
        return lines_of(self.buf, self.start, self.stop)

    def records(self) -> list[Record]:
        return [parse_record_line(line) for line in self.lines()]

    def last(self) -> Record:
        start = max(self.start, self.buf.rfind(b"\n", self.start, self.stop - 1) + 1)
        end = self.buf.find(b"\n", start, self.stop)
        return parse_record_line(self.buf[start:end if end >= 0 else self.stop])


def lines_of(buf: bytes, start: int, stop: int) -> list[bytes]:
    """The lines of ``buf[start:stop]`` (the last may lack its LF)."""
    lines = buf[start:stop].split(b"\n")
    if not lines[-1]:
        lines.pop()
    return lines


def with_runs(buf: bytes, start: int, end: int, shapes: tuple, digest: bool, read_lines, batch: list,
               skip=None) -> BadInput | None:
    """The records of the NDJSON lines in ``buf[start:end]`` into ``batch``, runs of
    deltas as RecordRuns (the compiled core finds them; ``digest``: with
    their digest bytes); every other line through ``read_lines(start,
    stop)``, which appends their records and returns a BadInput for a bad
    line (then the reading stops there).  ``skip(n)`` hears of the n lines
    of each run."""
    delta_runs = compiled.delta_runs  # type: ignore[union-attr]
    at = start
    while at < end:
        _lead, after, stop, count, shape, text, joined, ends, last_t = delta_runs(buf, at, end, shapes, digest)
        error = read_lines(at, after)
        if error is not None:
            return error
        if count:
            batch.append(RecordRun(shape, text, joined, ends, float(last_t) if last_t else None, buf, after, stop, count))
            if skip is not None:
                skip(count)
        at = stop
    return None
