"""sseq parse: raw SSE bytes to NDJSON records."""

from __future__ import annotations

import gc
import time

import click

from .. import console
from ..inputs import iter_chunks, iter_item_batches, iter_sources
from ..options import input_files, max_event_size
from ..output import Output
from ..records import block_encoder, encode_items


@click.command("parse")
@input_files
@click.option("--raw-data", is_flag=True, help="Keep data as the raw string, even when it is JSON.")
@click.option(
    "--all", "include_all", is_flag=True,
    help="Also write comment lines (sseq.comment) and retry-only blocks (sseq.retry), for exact replay.",
)
@click.option("--timestamps", is_flag=True, help="Add t, seconds since reading began, to every record.")
@click.option(
    "--dispatch-at-eof", is_flag=True,
    help="Read an unfinished final block as if a blank line ended it (the standard discards it).",
)
@max_event_size
def command(files, raw_data, include_all, timestamps, dispatch_at_eof, max_event_size):
    """Parse raw SSE from FILES (or standard input) into NDJSON records.

    Follows the WHATWG event-stream rules exactly; each record is written as
    soon as the bytes that complete it have been read.
    """
    # Parsing makes no reference cycles, only short-lived tuples and bytes,
    # thousands per read: the cycle collector would keep walking them for
    # nothing (5-10% of the time), so it rests while this command runs.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _parse(files, raw_data, include_all, timestamps, dispatch_at_eof, max_event_size)
    finally:
        if collecting:
            gc.enable()


def _parse(files, raw_data, include_all, timestamps, dispatch_at_eof, max_event_size) -> None:
    streams = console.current()
    out = Output(streams.stdout)
    warn = streams.warn
    start = time.monotonic()
    # The compiled core writes the common blocks itself (None: pure Python).
    encoder = block_encoder(raw_data)
    t = None

    def timed(chunks):
        # Each read's arrival time, for the records it completes.
        nonlocal t
        for chunk in chunks:
            t = round(time.monotonic() - start, 3)
            if encoder is not None:
                encoder.t = t
            yield chunk

    for source in iter_sources(files, streams.stdin):
        chunks = timed(iter_chunks(source)) if timestamps else None
        for items in iter_item_batches(source, max_event_size, include_all, dispatch_at_eof, chunks, True, encoder):
            out.write_lines(encode_items(items, t, raw_data, include_all))
        for message in source.warnings():
            warn(message)
