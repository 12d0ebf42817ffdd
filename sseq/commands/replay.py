"""sseq replay: records back to SSE wire bytes."""

from __future__ import annotations

import threading
import time

import click

from .. import console
from ..errors import BadInput
from ..inputs import BadLines, iter_batches
from ..options import FiniteFloat, input_files, report_skipped, skip_bad
from ..output import Output
from ..records import OPEN
from ..wire import WireEncoder


@click.command("replay")
@input_files
@click.option("--speed", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Follow the recorded t at this speed (1 = real time, 2 = twice as fast); 0 = as fast as possible. "
                   "Each stream (each file, each sseq.open) starts its own clock.")
@skip_bad
def command(files, speed, skip_bad):
    """Write the records in FILES back as SSE wire bytes on standard output.

    Parsing the output gives the same records again; JSON data goes out as
    the exact bytes that were recorded.
    """
    bad = BadLines() if skip_bad else None
    streams = console.current()
    out = Output(streams.stdout)
    encoder = WireEncoder()
    clock = _StreamClock(speed)
    current = None
    for source, batch in iter_batches(files, bad, streams.stdin, warn=streams.warn):
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
                clock.wait_for(record.t, source.name, record.line_no)
            out.write(encoder.encode(record))
    report_skipped(bad)


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

    def wait_for(self, t: float, name: str, line: int | None) -> None:
        if t < self.last_t:
            self.new_stream()
        self.last_t = t
        delay = self.origin + t / self.speed - time.monotonic()
        if not delay < threading.TIMEOUT_MAX:  # inf too: no clock waits that long
            raise BadInput(name, line, f"t = {t:g} s at --speed {self.speed:g} is a wait of {delay:.3g} s, "
                                       "longer than this machine can wait")
        if delay > 0:
            time.sleep(delay)
