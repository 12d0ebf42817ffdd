"""sseq replay: records back to SSE wire bytes."""

from __future__ import annotations

import math
import time

import click

from ..errors import BadInput
from ..inputs import BadLines, iter_batches
from ..options import input_files, report_skipped, skip_bad, warner
from ..output import Output
from ..records import OPEN
from ..wire import WireEncoder


_LONGEST_WAIT = 366 * 86400.0  # (past a year, a t is a mistake, and sleep() overflows)


def _speed(ctx, param, value: float) -> float:
    if math.isnan(value):
        raise click.BadParameter("must be a number (0 = as fast as possible)")
    return value


@click.command("replay")
@input_files
@click.option("--speed", type=click.FloatRange(min=0), default=0.0, show_default=True, callback=_speed,
              help="Follow the recorded t at this speed (1 = real time, 2 = twice as fast); 0 = as fast as possible. "
                   "Each stream (each file, each sseq.open) starts its own clock.")
@skip_bad
def command(files, speed, skip_bad):
    """Write the records in FILES back as SSE wire bytes on standard output.

    Parsing the output gives the same records again; JSON data goes out as
    the exact bytes that were recorded.
    """
    bad = BadLines() if skip_bad else None
    out = Output()
    encoder = WireEncoder()
    clock = _StreamClock(speed)
    current = None
    for source, batch in iter_batches(files, bad, warn=warner("replay")):
        if not speed:
            out.write(b"".join(encoder.encode(r) for r in batch))
            continue
        if source is not current:
            current = source
            clock.new_stream()
        for record in batch:
            if record.event == OPEN:
                clock.new_stream()
            if record.t is not None:
                try:
                    clock.wait_for(record.t)
                except ValueError as exc:
                    raise BadInput(source.name, record.line_no, str(exc)) from None
            out.write(encoder.encode(record))
    report_skipped("replay", bad)


class _StreamClock:
    """Recorded ``t`` to waiting: ``t`` counts from its stream's start, so
    each stream (a new file, an ``sseq.open``, or a ``t`` that goes back)
    begins when the one before it has finished."""

    def __init__(self, speed: float):
        self.speed = speed
        self.origin = time.monotonic()
        self.last_t = 0.0

    def new_stream(self) -> None:
        self.origin = time.monotonic()
        self.last_t = 0.0

    def wait_for(self, t: float) -> None:
        if t < self.last_t:
            self.new_stream()
        self.last_t = t
        delay = self.origin + t / self.speed - time.monotonic()
        if not delay < _LONGEST_WAIT:
            raise ValueError(f"t = {t:g} s at --speed {self.speed:g} would wait {delay:.3g} s")
        if delay > 0:
            time.sleep(delay)
