"""Opening inputs and reading them as records, whichever form they are in.

Every reading command accepts raw SSE as well as NDJSON records: the first
non-blank byte tells them apart (``{`` starts a record; an SSE stream never
starts a field name with it in practice).  Inputs are read with ``read1`` so
that a live pipe hands over what has arrived without waiting to fill a buffer;
each batch of records is what one read completed, and a writer flushes once
per batch.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from .errors import BadInput
from .parser import DEFAULT_MAX_EVENT_SIZE, Event, EventStreamParser, EventTooLarge
from .records import (
    Record,
    RecordError,
    format_record,
    parse_record_line,
    parse_record_types,
    record_from_item,
)

__all__ = [
    "Source",
    "open_source",
    "iter_sources",
    "iter_chunks",
    "iter_record_batches",
    "iter_type_batches",
    "BadLines",
    "READ_SIZE",
]

READ_SIZE = 1 << 20
_BLANK = b" \t\r\n"


@dataclass
class Source:
    """A named input: a file or standard input; ``gzip`` when its bytes are
    gzip-compressed (decompressed as they are read)."""

    name: str
    stream: BinaryIO
    gzip: bool = False
    owned: bool = True  # close() closes the stream (never standard input)

    def close(self) -> None:
        if self.owned:
            self.stream.close()


def open_source(path: str, stdin: BinaryIO | None = None) -> Source:
    """Open one input for reading; ``-`` is ``stdin`` (the caller's standard
    input; without one, ``-`` is an error), ``*.gz`` is decompressed.
    Raises BadInput with a one-line reason."""
    if path == "-":
        if stdin is None:
            raise BadInput("<stdin>", None, "no standard input to read")
        return Source("<stdin>", stdin, owned=False)
    if os.path.isdir(path):
        raise BadInput(path, None, "is a directory (give the files in it)")
    try:
        return Source(path, open(path, "rb"), gzip=path.endswith(".gz"))
    except FileNotFoundError:
        raise BadInput(path, None, "no such file") from None
    except PermissionError:
        raise BadInput(path, None, "permission denied") from None
    except OSError as exc:
        raise BadInput(path, None, exc.strerror or str(exc)) from None


def iter_sources(paths: Iterable[str], stdin: BinaryIO | None = None) -> Iterator[Source]:
    """Open each path in turn (``stdin`` when there are none)."""
    for path in list(paths) or ["-"]:
        source = open_source(path, stdin)
        try:
            yield source
        finally:
            source.close()


def iter_chunks(source: Source, size: int = READ_SIZE) -> Iterator[bytes]:
    """The bytes of a source as they arrive (decompressed for gzip).  Read
    errors become BadInput naming the source, after every byte before them."""
    stream = source.stream
    read = getattr(stream, "read1", stream.read)
    try:
        if not source.gzip:
            while chunk := read(size):
                yield chunk
            return
        yield from _gunzip(iter(lambda: read(size), b""), source.name)
    except IsADirectoryError:
        raise BadInput(source.name, None, "is a directory") from None
    except OSError as exc:
        raise BadInput(source.name, None, exc.strerror or str(exc)) from None


def _gunzip(compressed: Iterator[bytes], name: str) -> Iterator[bytes]:
    # Decompressed piece by piece, rather than through gzip.GzipFile, so that
    # a truncated file still yields everything before the cut.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    fed = False  # the current member has received bytes
    try:
        for data in compressed:
            while data:
                fed = True
                out = inflater.decompress(data)
                if out:
                    yield out
                if not inflater.eof:
                    break
                # One gzip member ended; another may follow (cat a.gz b.gz),
                # or zero padding.
                data = inflater.unused_data.lstrip(b"\0")
                inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                fed = False
        if fed and not inflater.eof:
            raise EOFError("the file ends in the middle of the compressed data")
    except (EOFError, zlib.error) as exc:
        raise BadInput(name, None, f"corrupt or truncated gzip data: {exc}") from None


class BadLines:
    """Counts the lines skipped under ``--skip-bad``; ``None`` means stop at
    the first one."""

    def __init__(self) -> None:
        self.count = 0
        self.first: BadInput | None = None

    def add(self, error: BadInput) -> None:
        self.count += 1
        if self.first is None:
            self.first = error


def iter_record_batches(
    source: Source,
    skip_bad: BadLines | None = None,
    raw_data: bool = False,
    include_all: bool = True,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
) -> Iterator[list[Record]]:
    """Records from a source, one list per read.  Raw SSE is parsed (with
    comments and retry-only blocks kept when ``include_all``); NDJSON records
    are read as they are.  A bad line ends the input with BadInput, after the
    records before it have been yielded, unless ``skip_bad`` counts it."""
    chunks = iter_chunks(source)
    first = _first_bytes(chunks)
    if not first:
        return
    if first.lstrip(_BLANK)[:1] == b"{":
        yield from _iter_ndjson(source.name, first, chunks, skip_bad, parse_record_line)
    else:
        yield from _iter_sse(source.name, first, chunks, raw_data, include_all, max_event_size)


def iter_type_batches(
    source: Source,
    skip_bad: BadLines | None = None,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
) -> Iterator[tuple[Sequence[str], Sequence[str], Sequence[bytes]]]:
    """As :func:`iter_record_batches`, but each batch comes as three sequences,
    ``(events, types, lines)``: each record's ``event``, its ``type`` and its
    NDJSON line (without the newline).  NDJSON lines are checked without
    building Records -- what a filter by type needs -- and bad lines are
    found and reported exactly as there."""
    chunks = iter_chunks(source)
    first = _first_bytes(chunks)
    if not first:
        return
    if first.lstrip(_BLANK)[:1] == b"{":
        for batch in _iter_ndjson(source.name, first, chunks, skip_bad, _types_and_line):
            events, kinds, lines = zip(*batch, strict=True)
            yield events, kinds, lines
    else:
        for batch in _iter_sse(source.name, first, chunks, False, True, max_event_size):
            yield [r.event for r in batch], [r.type for r in batch], [format_record(r)[:-1] for r in batch]


def _first_bytes(chunks: Iterator[bytes]) -> bytes:
    """The first read(s), up to the first non-blank byte, which tells raw
    SSE from records; b"" when the input is blank."""
    first = b""
    for chunk in chunks:
        first += chunk
        if first.lstrip(_BLANK):
            return first
    return b""


def _types_and_line(line: bytes) -> tuple[str, str, bytes]:
    event, kind = parse_record_types(line)
    return event, kind, line


def _iter_ndjson(name: str, first: bytes, chunks: Iterator[bytes], skip_bad: BadLines | None, convert):
    """Records (``convert`` of each line) from NDJSON, one list per read."""
    line_no = 0
    partial = b""

    def lines_of(block: bytes, batch: list):
        nonlocal line_no
        append = batch.append
        for line in block:
            line_no += 1
            if not line or line.isspace():
                continue
            try:
                append(convert(line))
            except RecordError as exc:
                error = BadInput(name, line_no, f"{exc}: {_preview(line)}")
                if skip_bad is None:
                    return error
                skip_bad.add(error)
        return None

    for chunk in _prepend(first, chunks):
        block = (partial + chunk).split(b"\n") if partial else chunk.split(b"\n")
        partial = block.pop()
        batch: list[Record] = []
        error = lines_of(block, batch)
        if batch:
            yield batch
        if error is not None:
            raise error
    if partial.strip():
        batch = []
        error = lines_of([partial], batch)
        if batch:
            yield batch
        if error is not None:
            raise error


def _iter_sse(name, first, chunks, raw_data, include_all, max_event_size):
    parser = EventStreamParser(max_event_size)

    def records(items: list) -> list[Record]:
        return [record_from_item(i, None, raw_data) for i in items if include_all or type(i) is Event]

    try:
        for chunk in _prepend(first, chunks):
            items = parser.feed(chunk)
            if items:
                yield records(items)
        items = parser.end()
        if items:
            yield records(items)
    except EventTooLarge as exc:
        if exc.items:
            yield records(exc.items)
        raise BadInput(name, exc.line, f"event larger than {exc.limit} bytes (raise --max-event-size if it is genuine)") from None


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _preview(line: bytes, limit: int = 60) -> str:
    text = line[:limit].decode("utf-8", "replace")
    return repr(text + ("…" if len(line) > limit else ""))


def iter_batches(paths: Iterable[str], skip_bad: BadLines | None = None, stdin: BinaryIO | None = None,
                 **options) -> Iterator[tuple[Source, list[Record]]]:
    """(source, batch) for every input in turn (``-`` is ``stdin``): what a
    reading command loops over."""
    for source in iter_sources(paths, stdin):
        for batch in iter_record_batches(source, skip_bad, **options):
            yield source, batch
