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
from ..wire import WireEncoder


@click.command("replay")
@input_files
@click.option("--speed", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Follow the recorded t at this speed (1 = real time, 2 = twice as fast); 0 = as fast as possible.")
@skip_bad
def command(files, speed, skip_bad):
    """Write the records in FILES back as SSE wire bytes on standard output.

    Parsing the output gives the same records again; JSON data goes out as
    the exact bytes that were recorded.
    """
    streams = console.current()
    bad = BadLines() if skip_bad else None
    out = Output(streams.stdout)
    encoder = WireEncoder()
    start = time.monotonic()
    for source, batch in iter_batches(files, bad, streams.stdin):
        if not speed:
            out.write(b"".join(encoder.encode(r) for r in batch))
            continue
        for record in batch:
            if record.t is not None:
                delay = start + record.t / speed - time.monotonic()
                if not delay < threading.TIMEOUT_MAX:  # inf too: no clock waits that long
                    raise BadInput(source.name, None, f"t {record.t:g} at --speed {speed:g} is a wait of {delay:.3g} s, "
                                                      "longer than this machine can wait")
                if delay > 0:
                    time.sleep(delay)
            out.write(encoder.encode(record))
    report_skipped(bad)
