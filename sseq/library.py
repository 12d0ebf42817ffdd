"""Convenience functions for Python callers: what the commands do, callable
from a test suite without a subprocess."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from .inputs import iter_record_batches, open_source
from .parser import DEFAULT_MAX_EVENT_SIZE, Event, EventStreamParser
from .records import Record, format_record, record_from_item


def parse_bytes(data: bytes, raw_data: bool = False, include_all: bool = False,
                max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> list[Record]:
    """Parse a whole SSE byte string into records."""
    parser = EventStreamParser(max_event_size)
    items = parser.feed(data) + parser.end()
    return [record_from_item(i, None, raw_data) for i in items if include_all or type(i) is Event]


def iter_file_records(path: str, raw_data: bool = False, include_all: bool = True) -> Iterator[Record]:
    """Records from a file of NDJSON records or raw SSE (``.gz`` too)."""
    source = open_source(path)
    try:
        for batch in iter_record_batches(source, raw_data=raw_data, include_all=include_all):
            yield from batch
    finally:
        source.close()


def read_records(path: str, raw_data: bool = False, include_all: bool = True) -> list[Record]:
    return list(iter_file_records(path, raw_data, include_all))


def write_records(records: Iterable[Record], stream: BinaryIO) -> None:
    """Write records as NDJSON to a binary stream."""
    for record in records:
        stream.write(format_record(record))


def iter_text(records: Iterable[Record], reasoning: bool = False) -> Iterator[str]:
    """The assistant's text, fragment by fragment (see sseq.text)."""
    from .text import TextAssembler

    assembler = TextAssembler(reasoning=reasoning)
    for record in records:
        fragment = assembler.feed(record)
        if fragment:
            yield fragment
