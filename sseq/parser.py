"""A sans-IO parser for the WHATWG "event stream interpretation" algorithm.

Feed it bytes as they arrive; it returns what those bytes completed.  It knows
nothing of HTTP, files, JSON or the command line.  End of input is said
explicitly with :meth:`EventStreamParser.end`, which discards an incomplete
final block exactly as a browser does (and says so, in
:attr:`EventStreamParser.ended_in_block`).

The parser works on bytes rather than decoded text.  That is equivalent to
decoding first: every delimiter the algorithm looks at (CR, LF, colon, space)
is ASCII, and a UTF-8 decoder with replacement never folds an ASCII byte into
an invalid sequence, so decoding each field value on its own gives the same
characters as decoding the whole stream.  Working on bytes lets a JSON payload
travel through untouched, which is what makes byte-exact replay and speed
possible.

This module is the standard, line by line.  Its one optimisation, a scanner
that takes whole common blocks at once, lives in :mod:`sseq.blockscan` and is
tested to give the same items.

The size limit: the event being built -- its data so far plus the line being
read -- may not grow past ``max_event_size``.  Comments are not part of an
event; a kept comment is bounded by the limit on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "Comment",
    "Event",
    "EventStreamParser",
    "EventTooLarge",
    "RetryOnly",
    "DEFAULT_MAX_EVENT_SIZE",
]

DEFAULT_MAX_EVENT_SIZE = 64 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
# A line in progress is measured without the longest field prefix ("data: "),
# so that it never counts more than the same line will once it is complete.
_PREFIX = 6
_lone_cr = re.compile(rb"\r(?!\n)").search


class Event(NamedTuple):
    """One dispatched event.

    ``type``: the event type, ``"message"`` when the block had no, or an empty,
    ``event`` field.  ``data_bytes``: the data buffer as UTF-8 bytes (lines
    joined by LF, the final LF removed); it may hold invalid UTF-8, which
    :attr:`data` replaces with U+FFFD.  ``id``: the last-event-ID buffer at
    dispatch ("" when none).  ``retry``: the reconnection time in ms that this
    block set, if any.  ``line``: the input line number of the blank line that
    dispatched it.

    (A named tuple rather than a frozen dataclass: a stream can hold a million
    events a second, and a tuple is built at a fraction of the cost.)
    """

    type: str
    data_bytes: bytes
    id: str = ""
    retry: int | None = None
    line: int = 0

    @property
    def data(self) -> str:
        return self.data_bytes.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line: ``text`` is everything after the colon, verbatim."""

    text: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class RetryOnly:
    """A block that set the reconnection time but dispatched no event."""

    retry: int
    id: str = ""
    line: int = 0


class EventTooLarge(Exception):
    """An event grew past the limit.  ``items`` holds what the same feed
    completed before it, so a caller can keep them; ``reason`` is the message
    without the line number."""

    def __init__(self, limit: int, line: int, items: list):
        self.reason = f"event larger than {limit} bytes (raise --max-event-size if it is genuine)"
        super().__init__(f"line {line}: {self.reason}")
        self.limit = limit
        self.line = line
        self.items = items


_new = tuple.__new__


def _expand(items: list) -> list:
    """The block scanner's compact events (see ``compact``) made Events."""
    for i, item in enumerate(items):
        if type(item) is tuple:
            type_, data_bytes, id, line = item
            items[i] = _new(Event, (type_, data_bytes, id, None, line))
    return items


def _decode(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class EventStreamParser:
    """Incremental event-stream parser.

    ``feed(chunk)`` and ``end()`` return lists of :class:`Event`,
    :class:`Comment` and :class:`RetryOnly`.  Output never depends on how the
    input was split into chunks.  Cost is linear in the input, also for one
    event of many megabytes or of millions of lines: a partial line is kept
    as a list of pieces and joined once, a data buffer grows in place.

    ``keep_comments=False`` drops comment lines as they are read, without
    holding them (what a reader that never writes them wants).
    ``fast=False`` turns the block scanner off, leaving the standard's
    line-by-line rules alone (for the tests that compare the two).

    ``compact=True`` is for ``sseq parse`` alone: an event that the block
    scanner took whole (one data line, no retry) then comes as the plain
    tuple ``(type, data_bytes, id, line)``, which
    :func:`sseq.records.encode_items` writes without building an Event (a
    third of the time at a million events).  Other callers get Events.

    ``encoder`` (with ``compact``) goes one step further: a callable that
    turns a run of common blocks straight into output bytes (see
    :class:`sseq.records.BlockEncoder`, the compiled core's record writer).
    Items may then also be ``bytes``: the encoded runs, in stream order
    among the other items.  The parser itself never looks inside them.
    """

    def __init__(
        self,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        last_event_id: str = "",
        *,
        keep_comments: bool = True,
        fast: bool = True,
        compact: bool = False,
        encoder: Callable[[bytes, int, int, bool, str, int], tuple[bytes, int, int]] | None = None,
    ):
        # last_event_id: the buffer a reconnecting client carries over.
        self.max_event_size = max_event_size
        self.keep_comments = keep_comments
        self.compact = compact
        self.line = 0  # lines completed so far
        self.ended_in_block = False  # set by end(): see there
        self._head = b""  # bytes seen before the BOM question is settled
        self._started = False
        self._skip_lf = False  # the previous chunk ended with CR
        self._partial: list[bytes] = []  # pieces of the line in progress
        self._partial_size = 0
        self._data: bytes | bytearray | None = None  # None: the data buffer is empty
        self._type = b""
        self._last_id = last_event_id
        self._retry: int | None = None
        self._ended = False
        self._scan: Callable[[Any, bytes, int, int, bool, list[Any]], None] | None = None
        self.encoder = encoder if compact else None
        if fast:
            from .blockscan import scan_blocks, scan_encoded

            self._scan = scan_encoded if self.encoder is not None else scan_blocks

    # -- public -----------------------------------------------------------

    @property
    def last_event_id(self) -> str:
        """The last-event-ID buffer, for a reconnecting client."""
        return self._last_id

    @property
    def block_pending(self) -> bool:
        """A block has begun that no blank line has ended yet (data, an event
        type or a retry is waiting for dispatch)."""
        return self._data is not None or bool(self._type) or self._retry is not None

    def feed(self, chunk: bytes) -> list:
        """The items that ``chunk`` completed: Event, Comment, RetryOnly."""
        if self.compact:
            return self._feed(chunk)
        try:
            return _expand(self._feed(chunk))
        except EventTooLarge as exc:
            _expand(exc.items)
            raise

    def _feed(self, chunk: bytes) -> list:
        if self._ended:
            raise RuntimeError("feed() after end()")
        if not self._started:
            rest = self._strip_bom(chunk)
            if rest is None:
                return []
            chunk = rest
        if self._skip_lf and chunk:  # (an empty read says nothing about the LF)
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        # CR, LF and CRLF each end a line.  A chunk whose every CR is part of
        # a CRLF is read as it is (``crlf``: its lines end in CR LF);
        # otherwise CRs are made LFs, remembering a CR at the very end, whose
        # LF may come with the next read.
        crlf = b"\r" in chunk
        if crlf and (chunk[-1] == 13 or _lone_cr(chunk)):
            self._skip_lf = chunk[-1] == 13
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            crlf = False
        end = chunk.rfind(b"\n") + 1
        if not end:
            self._grow_partial(chunk, [])
            return []
        out: list = []
        start = 0
        if self._partial:
            start = chunk.find(b"\n") + 1
            self._finish_partial(chunk[: start - 2 if crlf and chunk[start - 2 : start - 1] == b"\r" else start - 1], out)
        if start < end:
            if self._scan is not None:
                self._scan(self, chunk, start, end, crlf, out)
            else:
                for line in chunk[start : end - 1].split(b"\n"):
                    self.process_line(line[:-1] if crlf and line[-1:] == b"\r" else line, out)
        if end < len(chunk):
            self._grow_partial(chunk[end:], out)
        return out

    def end(self, dispatch_incomplete: bool = False) -> list:
        """Say the input is over.  A BOM-prefix still held is processed.  An
        unterminated line and an incomplete block are discarded, per the
        standard, and :attr:`ended_in_block` says whether there was one (data
        or a retry waiting, or a field line without its line end).  With
        ``dispatch_incomplete`` they are read as if a blank line followed
        (the lenient reading many libraries use)."""
        out: list = []
        if not self._started and self._head:
            head, self._head = self._head, b""
            self._started = True
            out = self.feed(head)  # (a BOM prefix: no block event in it)
        partial = b"".join(self._partial)
        unfinished_line = bool(partial) and partial[:1] != b":"
        self.ended_in_block = unfinished_line or self._data is not None or self._retry is not None
        if dispatch_incomplete and self.ended_in_block:
            self._partial, self._partial_size = [], 0
            if partial:
                self.process_line(partial, out)
            self.process_line(b"", out)
        self._ended = True
        self._partial = []
        self._data = None
        return out

    def process_line(self, line: bytes, out: list) -> None:
        """One complete line (without its line end), per the standard; what
        it completes is appended to ``out``."""
        self.line += 1
        if not line:
            self._dispatch(out)
        elif line[0] == 58:  # ":" starts a comment
            if self.keep_comments:
                self._check_size(len(line) - 1, out)
                out.append(Comment(_decode(line[1:]), self.line))
        else:
            colon = line.find(b":")
            if colon < 0:
                name, value = line, b""
            else:
                name, value = line[:colon], line[colon + 1 :]
                if value[:1] == b" ":
                    value = value[1:]
            if name == b"data":
                self._append_data(value, out)
                return
            self._check_size(self._pending_size() + len(line) - _PREFIX, out)
            if name == b"event":
                self._type = value
            elif name == b"id":
                if b"\x00" not in value:
                    self._last_id = _decode(value)
            elif name == b"retry":
                if value and value.isdigit() and value.isascii():
                    self._retry = int(value)

    # -- internals ----------------------------------------------------------

    def _strip_bom(self, chunk: bytes) -> bytes | None:
        head = self._head + chunk
        if len(head) < 3 and _BOM.startswith(head):
            self._head = head
            return None
        self._head = b""
        self._started = True
        return head[3:] if head.startswith(_BOM) else head

    def _pending_size(self) -> int:
        # The data buffer as the standard counts it: each line and its LF.
        return 0 if self._data is None else len(self._data) + 1

    def _check_size(self, size: int, out: list, line: int | None = None) -> None:
        """The one size check: raise when ``size`` is past the limit, with
        the items completed so far (``line``: the line being read, if it is
        not the last one completed)."""
        if size > self.max_event_size:
            raise EventTooLarge(self.max_event_size, self.line if line is None else line, out)

    def _grow_partial(self, piece: bytes, out: list) -> None:
        self._partial.append(piece)
        self._partial_size += len(piece)
        if self._partial[0][:1] == b":":
            if not self.keep_comments:  # a comment nobody keeps need not be held
                self._partial = [b":"]
                self._partial_size = 1
            size = self._partial_size - 1
        else:
            size = self._pending_size() + self._partial_size - _PREFIX
        self._check_size(size, out, self.line + 1)

    def _finish_partial(self, rest: bytes, out: list) -> None:
        """The line in progress, completed by ``rest``."""
        pieces, self._partial, self._partial_size = self._partial, [], 0
        pieces.append(rest)
        first = pieces[0]
        if len(pieces) > 2 and first[:5] == b"data:" and len(first) > 5:
            # A data line that spanned reads (a big event): join its value
            # without the field name, sparing a copy of many megabytes.
            pieces[0] = first[6:] if first[5:6] == b" " else first[5:]
            value = b"".join(pieces)
            pieces.clear()
            self.line += 1
            self._append_data(value, out)
        else:
            self.process_line(b"".join(pieces), out)

    def _append_data(self, value: bytes, out: list) -> None:
        data = self._data
        if data is None:
            self._data = value  # the common single line: kept without a copy
        else:
            if type(data) is bytes:
                data = self._data = bytearray(data)
            data += b"\n"
            data += value
        self._check_size(self._pending_size(), out)

    def _dispatch(self, out: list) -> None:
        data, retry, kind = self._data, self._retry, self._type
        self._data, self._retry, self._type = None, None, b""
        if data is None:
            # A block with no data dispatches nothing; it may still have set
            # the reconnection time, which --all records keep.
            if retry is not None:
                out.append(RetryOnly(retry, self._last_id, self.line))
            return
        name = _decode(kind) if kind else "message"
        out.append(Event(name, bytes(data) if isinstance(data, bytearray) else data, self._last_id, retry, self.line))
