"""sseq parse: raw SSE bytes to NDJSON records."""

from __future__ import annotations

import gc
import time

import click

from .. import console
from ..errors import BadInput
from ..inputs import iter_chunks, iter_sources
from ..options import input_files, max_event_size
from ..output import Output
from ..parser import EventStreamParser, EventTooLarge
from ..records import encode_items


@click.command("parse")
@input_files
@click.option("--raw-data", is_flag=True, help="Keep data as the raw string, even when it is JSON.")
@click.option(
    "--all", "include_all", is_flag=True,
    help="Also write comment lines (sseq.comment) and retry-only blocks (sseq.retry), for exact replay.",
)
@click.option("--timestamps", is_flag=True, help="Add t, seconds since reading began, to every record.")
@max_event_size
def command(files, raw_data, include_all, timestamps, max_event_size):
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
        _parse(files, raw_data, include_all, timestamps, max_event_size)
    finally:
        if collecting:
            gc.enable()


def _parse(files, raw_data, include_all, timestamps, max_event_size) -> None:
    streams = console.current()
    out = Output(streams.stdout)
    start = time.monotonic()
    for source in iter_sources(files, streams.stdin):
        parser = EventStreamParser(max_event_size)
        try:
            for chunk in iter_chunks(source):
                t = round(time.monotonic() - start, 3) if timestamps else None
                _write(out, parser.feed_compact(chunk), t, raw_data, include_all)
            t = round(time.monotonic() - start, 3) if timestamps else None
            _write(out, parser.end(), t, raw_data, include_all)
        except EventTooLarge as exc:
            _write(out, exc.items, None, raw_data, include_all)
            raise BadInput(source.name, exc.line, f"event larger than {exc.limit} bytes (raise --max-event-size if it is genuine)") from None


def _write(out: Output, items: list, t, raw_data: bool, include_all: bool) -> None:
    if items:
        out.write_lines(encode_items(items, t, raw_data, include_all))
