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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from .errors import BadInput
from .parser import DEFAULT_MAX_EVENT_SIZE, Comment, Event, EventStreamParser, EventTooLarge, RetryOnly
from .records import (
    BlockEncoder,
    Record,
    RecordError,
    format_record,
    parse_record_line,
    parse_record_types,
    record_from_item,
)
from .runs import lines_of, with_runs
from .speedups import compiled

__all__ = [
    "Source",
    "open_source",
    "iter_sources",
    "iter_chunks",
    "iter_item_batches",
    "iter_record_batches",
    "iter_type_batches",
    "BadLines",
    "READ_SIZE",
]

READ_SIZE = 1 << 20
_BLANK = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Source:
    """A named input: a file or standard input.  What reading it found, for
    the warnings every reader owes its user (:meth:`warnings`): ``gzip``
    when its bytes were gzip-compressed (known by their magic bytes, and
    decompressed as they are read); ``content`` once a non-blank byte was
    read; ``eventful`` once an event or record came from it; ``unfinished_block`` when
    raw SSE ended inside a block that the standard discards."""

    name: str
    stream: BinaryIO
    gzip: bool = False
    owned: bool = True  # close() closes the stream (never standard input)
    content: bool = False
    eventful: bool = False
    unfinished_block: bool = False

    def close(self) -> None:
        if self.owned:
            self.stream.close()

    @property
    def yielded_nothing(self) -> bool:
        """Not blank, yet no event or record came from it."""
        return self.content and not self.eventful

    def warnings(self) -> list[str]:
        """One line per thing a reader must not pass over in silence."""
        out = []
        if self.unfinished_block:
            out.append(f"{self.name}: the input ended inside an unfinished event block, which was discarded "
                       "(the standard's rule; parse --dispatch-at-eof reads it)")
        if self.yielded_nothing:
            out.append(f"{self.name}: no events or records in this input")
        return out


def open_source(path: str, stdin: BinaryIO | None = None) -> Source:
    """Open one input for reading; ``-`` is ``stdin`` (the caller's standard
    input; without one, ``-`` is an error).  Raises BadInput with a one-line
    reason."""
    if path == "-":
        if stdin is None:
            raise BadInput("<stdin>", None, "no standard input to read")
        return Source("<stdin>", stdin, owned=False)
    if os.path.isdir(path):
        raise BadInput(path, None, "is a directory (give the files in it)")
    try:
        return Source(path, open(path, "rb"))
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
    """The bytes of a source as they arrive; gzip data, known by its magic
    bytes whatever the name and from a pipe too, is decompressed.  Read
    errors become BadInput naming the source, after every byte before them."""
    stream = source.stream
    read = getattr(stream, "read1", stream.read)
    try:
        head = read(size)
        while 0 < len(head) < len(_GZIP_MAGIC) and (more := read(size)):
            head += more
        if head[:2] != _GZIP_MAGIC:
            if head:
                yield head
            while chunk := read(size):
                yield chunk
            return
        source.gzip = True
        yield from _gunzip(_prepend(head, iter(lambda: read(size), b"")), source.name)
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


def iter_item_batches(
    source: Source,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    keep_comments: bool = True,
    dispatch_at_eof: bool = False,
    chunks: Iterator[bytes] | None = None,
    compact: bool = False,
    encoder=None,
) -> Iterator[list]:
    """A source read as raw SSE: the parser's items (Event, Comment,
    RetryOnly), one list per read.  An event past the size limit ends the
    input with BadInput, after the items before it.  ``dispatch_at_eof``
    reads an unfinished final block as if a blank line followed it;
    ``compact`` and ``encoder`` are the parser's (for ``sseq parse``)."""
    parser = EventStreamParser(max_event_size, keep_comments=keep_comments, compact=compact, encoder=encoder)
    try:
        for chunk in iter_chunks(source) if chunks is None else chunks:
            if not source.content and chunk.lstrip(_BLANK):
                source.content = True
            items = parser.feed(chunk)
            if items:
                if not source.eventful:
                    source.eventful = _any_event(items)
                yield items
        items = parser.end(dispatch_at_eof)
        source.unfinished_block = parser.ended_in_block and not dispatch_at_eof
        if items:
            source.eventful = source.eventful or _any_event(items)
            yield items
    except EventTooLarge as exc:
        if exc.items:
            source.eventful = source.eventful or _any_event(exc.items)
            yield exc.items
        raise BadInput(source.name, exc.line, exc.reason) from None


def _any_event(items: list) -> bool:
    return any(type(item) is not Comment and type(item) is not RetryOnly for item in items)


def iter_record_batches(
    source: Source,
    skip_bad: BadLines | None = None,
    raw_data: bool = False,
    include_all: bool = True,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    runs: tuple = (),
    run_digests: bool = False,
) -> Iterator[list]:
    """Records from a source, one list per read.  Raw SSE is parsed (with
    comments and retry-only blocks kept when ``include_all``); NDJSON records
    are read as they are.  A bad line ends the input with BadInput, after the
    records before it have been yielded, unless ``skip_bad`` counts it.

    ``runs``: delta shapes (``providers.RUN_SHAPES``) for a reader that
    takes RecordRuns in its batches as well as Records; with the compiled
    core, runs of such records then come as one RecordRun each (with their
    digest bytes when ``run_digests``)."""
    chunks = iter_chunks(source)
    first, ndjson = _sniff(chunks)
    if not first:
        return
    source.content = True
    if runs and compiled is None:
        runs = ()
    if ndjson:
        batches = (_iter_ndjson_runs(source.name, first, chunks, skip_bad, runs, run_digests) if runs else
                   _iter_ndjson(source.name, first, chunks, skip_bad, parse_record_line))
        for batch in batches:
            source.eventful = True
            yield batch
        return
    if runs and not raw_data:
        yield from _iter_sse_runs(source, first, chunks, include_all, max_event_size, runs, run_digests)
        return
    for items in iter_item_batches(source, max_event_size, include_all, chunks=_prepend(first, chunks)):
        yield [record_from_item(i, None, raw_data) for i in items if include_all or type(i) is Event]


def _iter_ndjson_runs(name: str, first: bytes, chunks: Iterator[bytes], skip_bad: BadLines | None, runs: tuple,
                      digest: bool):
    """:func:`_iter_ndjson` of parse_record_line, with runs (see RecordRun)."""
    line_no = 0
    for buf, begin, end in _iter_ndjson_spans(first, chunks):
        batch: list = []

        def read_lines(start: int, stop: int, buf=buf, batch=batch) -> BadInput | None:
            nonlocal line_no
            for line in lines_of(buf, start, stop):
                line_no += 1
                error = _read_line(name, line, line_no, parse_record_line, batch, skip_bad)
                if error is not None:
                    return error
            return None

        def skip(count: int) -> None:
            nonlocal line_no
            line_no += count

        error = with_runs(buf, begin, end, runs, digest, read_lines, batch, skip)
        if batch:
            yield batch
        if error is not None:
            raise error


def _iter_sse_runs(source: Source, first: bytes, chunks: Iterator[bytes], include_all: bool, max_event_size: int,
                   runs: tuple, digest: bool):
    """Raw SSE read with runs (see RecordRun): the compiled core writes the
    common blocks as record lines, in which it then finds the runs."""
    for items in iter_item_batches(source, max_event_size, include_all, chunks=_prepend(first, chunks), compact=True,
                                   encoder=BlockEncoder()):
        batch: list = []
        for item in items:
            if type(item) is bytes:

                def read_lines(start: int, stop: int, buf=item, batch=batch) -> None:
                    batch.extend(parse_record_line(line) for line in lines_of(buf, start, stop))

                with_runs(item, 0, len(item), runs, digest, read_lines, batch)
            elif type(item) is tuple:
                kind, payload, id, line = item
                batch.append(record_from_item(Event(kind, payload, id, None, line)))
            elif include_all or type(item) is Event:
                batch.append(record_from_item(item))
        yield batch


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
    first, ndjson = _sniff(chunks)
    if not first:
        return
    source.content = True
    if ndjson:
        if compiled is not None:
            for events, kinds, lines in _iter_ndjson_types(source.name, first, chunks, skip_bad):
                source.eventful = True
                yield events, kinds, lines
            return
        for batch in _iter_ndjson(source.name, first, chunks, skip_bad, _types_and_line):
            source.eventful = True
            events, kinds, lines = zip(*batch, strict=True)
            yield events, kinds, lines
        return
    for items in iter_item_batches(source, max_event_size, True, chunks=_prepend(first, chunks)):
        batch = [record_from_item(i) for i in items]
        yield [r.event for r in batch], [r.type for r in batch], [format_record(r)[:-1] for r in batch]


def _sniff(chunks: Iterator[bytes]) -> tuple[bytes, bool]:
    """The first read(s), up to the first non-blank byte after a UTF-8 BOM,
    and whether that byte says NDJSON records (``{``) rather than raw SSE;
    b"" when the input is blank.  A BOM before records is dropped here (the
    SSE parser drops its own)."""
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) < len(_BOM) and _BOM.startswith(first):
            continue  # (perhaps a BOM, arriving in pieces)
        text = first[len(_BOM):] if first.startswith(_BOM) else first
        start = text.lstrip(_BLANK)[:1]
        if start:
            return (text, True) if start == b"{" else (first, False)
    return (first, False) if first.lstrip(_BLANK) else (b"", False)


def _types_and_line(line: bytes, _line_no: int) -> tuple[str, str, bytes]:
    event, kind = parse_record_types(line)
    return event, kind, line


def _iter_ndjson(name: str, first: bytes, chunks: Iterator[bytes], skip_bad: BadLines | None, convert):
    """Records (``convert`` of each line) from NDJSON, one list per read."""
    line_no = 0
    for block in _iter_ndjson_blocks(first, chunks):
        batch: list = []
        error = None
        for line in block:
            line_no += 1
            error = _read_line(name, line, line_no, convert, batch, skip_bad)
            if error is not None:
                break
        if batch:
            yield batch
        if error is not None:
            raise error


def _iter_ndjson_types(name: str, first: bytes, chunks: Iterator[bytes], skip_bad: BadLines | None):
    """:func:`_iter_ndjson` of :func:`_types_and_line`, as ``(events, types,
    lines)`` lists, with the compiled core taking the plain records of each
    read in one call; a line it declines (blank, another field, an escape, a
    bad line) is read as _iter_ndjson reads it, with the same message."""
    plain_types = compiled.record_types  # type: ignore[union-attr]
    line_no = 0
    for block in _iter_ndjson_blocks(first, chunks):
        events: list[str] = []
        kinds: list[str] = []
        lines: list[bytes] = []
        at, count = 0, len(block)
        error = None
        while at < count:
            more_events, more_kinds, stop = plain_types(block, at)
            if stop > at:
                events += more_events
                kinds += more_kinds
                lines += block[at:stop]
                line_no += stop - at
                at = stop
                if at == count:
                    break
            one: list = []
            line_no += 1
            error = _read_line(name, block[at], line_no, _types_and_line, one, skip_bad)
            at += 1
            if one:
                event, kind, line = one[0]
                events.append(event)
                kinds.append(kind)
                lines.append(line)
            if error is not None:
                break
        if lines:
            yield events, kinds, lines
        if error is not None:
            raise error


def _iter_ndjson_spans(first: bytes, chunks: Iterator[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """The complete lines of each read, without copying it: ``(buf, start,
    end)``, the lines being ``buf[start:end]`` (the input's last line may
    lack its line end).  A line that spans reads is kept in pieces, joined
    once (the cost stays linear in its length) and comes on its own."""
    partial: list[bytes] = []
    for chunk in _prepend(first, chunks):
        end = chunk.rfind(b"\n") + 1
        if not end:
            partial.append(chunk)
            continue
        start = 0
        if partial:
            start = chunk.find(b"\n") + 1
            partial.append(chunk[:start])
            line = b"".join(partial)
            yield line, 0, len(line)
        partial = [chunk[end:]] if end < len(chunk) else []
        if start < end:
            yield chunk, start, end
    rest = b"".join(partial)
    if rest.strip():
        yield rest, 0, len(rest)


def _iter_ndjson_blocks(first: bytes, chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The complete lines of each read, as a list (see _iter_ndjson_spans)."""
    for buf, start, end in _iter_ndjson_spans(first, chunks):
        yield lines_of(buf, start, end)


def _read_line(name: str, line: bytes, line_no: int, convert, batch: list, skip_bad: BadLines | None) -> BadInput | None:
    """One NDJSON line into ``batch`` (nothing for a blank one); a bad line
    is a BadInput to raise, or counted under --skip-bad."""
    if not line or line.isspace():
        return None
    try:
        batch.append(convert(line, line_no))
        return None
    except RecordError as exc:
        if line.startswith(_BOM):  # a file that began with one, concatenated
            try:
                batch.append(convert(line[len(_BOM):], line_no))
                return None
            except RecordError:
                pass
        error = BadInput(name, line_no, f"{exc}: {_preview(line)}")
        if skip_bad is None:
            return error
        skip_bad.add(error)
        return None


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _preview(line: bytes, limit: int = 60) -> str:
    text = line[:limit].decode("utf-8", "replace")
    return repr(text + ("…" if len(line) > limit else ""))


def iter_batches(
    paths: Iterable[str],
    skip_bad: BadLines | None = None,
    stdin: BinaryIO | None = None,
    *,
    warn: Callable[[str], None] | None = None,
    **options,
) -> Iterator[tuple[Source, list[Record]]]:
    """(source, batch) for every input in turn (``-`` is ``stdin``): what a
    reading command loops over.  After each input, what it must not pass
    over in silence (see :meth:`Source.warnings`) goes to ``warn``."""
    for source in iter_sources(paths, stdin):
        for batch in iter_record_batches(source, skip_bad, **options):
            yield source, batch
        if warn is not None:
            for message in source.warnings():
                warn(message)
