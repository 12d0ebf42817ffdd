"""A sans-IO parser for the WHATWG "event stream interpretation" algorithm.

Feed it bytes as they arrive; it returns what those bytes completed.  It knows
nothing of HTTP, files, JSON or the command line.  End of input is said
explicitly with :meth:`EventStreamParser.end`, which discards an incomplete
final block exactly as a browser does.

The parser works on bytes rather than decoded text.  That is equivalent to
decoding first: every delimiter the algorithm looks at (CR, LF, colon, space)
is ASCII, and a UTF-8 decoder with replacement never folds an ASCII byte into
an invalid sequence, so decoding each field value on its own gives the same
characters as decoding the whole stream.  Working on bytes lets a JSON payload
travel through untouched, which is what makes byte-exact replay and speed
possible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

# The fast path of the parser: one scan of a run of complete lines turns it
# into tokens.  A token is either a whole common block -- an optional
# ``event:`` line, one ``data:`` line and the blank line that dispatches it
# (groups: "e" when the event line is there, the type, the data, the line
# end) -- or any other single line (last group), which goes through the
# general line-by-line code.  Every position at the start of a line matches
# one of the two, so the tokens cover the run without gaps.  The second
# pattern is for chunks whose every CR is part of a CRLF: common blocks must
# then use CRLF throughout, and a CR left at the end of another line is the
# CR of its CRLF.  A chunk holding a lone CR is normalised to LF first.
# (Without DOTALL, "." is any byte but LF: the same as [^\n], and faster.)
_TOKENS_LF = re.compile(rb"(?:(e)vent: ?(.*)\n)?data: ?(.*)(\n)\n|(.*)\n").findall
_lone_cr = re.compile(rb"\r(?!\n)").search
_TOKENS_CRLF = re.compile(rb"(?:(e)vent: ?(.*)\r\n)?data: ?(.*)(\r\n)\r\n|(.*)\n").findall


@dataclass(frozen=True, slots=True)
class Event:
    """One dispatched event.

    ``type``: the event type, ``"message"`` when the block had no, or an empty,
    ``event`` field.  ``data_bytes``: the data buffer as UTF-8 bytes (lines
    joined by LF, the final LF removed); it may hold invalid UTF-8, which
    :attr:`data` replaces with U+FFFD.  ``id``: the last-event-ID buffer at
    dispatch ("" when none).  ``retry``: the reconnection time in ms that this
    block set, if any.  ``line``: the input line number of the blank line that
    dispatched it.
    """

    type: str
    data_bytes: bytes
    id: str = ""
    retry: int | None = None
    line: int = 0

    @property
    def data(self) -> str:
        return self.data_bytes.decode("utf-8", "replace")


def _event_maker():
    """A faster ``Event(type, data_bytes, id, None, line)`` for the hot loop.

    A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``; setting the slots through their descriptors gives
    the same object at half the cost, which counts at a million events.
    """
    new = object.__new__
    set_type, set_data, set_id, set_retry, set_line = (
        Event.__dict__[name].__set__ for name in ("type", "data_bytes", "id", "retry", "line")
    )

    def make(type: str, data_bytes: bytes, id: str, line: int) -> Event:
        event = new(Event)
        set_type(event, type)
        set_data(event, data_bytes)
        set_id(event, id)
        set_retry(event, None)
        set_line(event, line)
        return event

    return make


_make_event = _event_maker()


def _expand(items: list) -> list:
    """Compact items (see ``feed_compact``) to Events."""
    for i, item in enumerate(items):
        if type(item) is tuple:
            items[i] = _make_event(*item)
    return items


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
    """An event's data grew past the limit.  ``items`` holds what the same
    feed completed before it, so a caller can keep them."""

    def __init__(self, limit: int, line: int, items: list):
        super().__init__(
            f"line {line}: event larger than {limit} bytes "
            "(raise --max-event-size if it is genuine)"
        )
        self.limit = limit
        self.line = line
        self.items = items


def _decode(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class EventStreamParser:
    """Incremental event-stream parser.

    ``feed(chunk)`` and ``end()`` return lists of :class:`Event`,
    :class:`Comment` and :class:`RetryOnly`.  Output never depends on how the
    input was split into chunks.  Cost is linear in the input, also for one
    event of many megabytes: partial lines are kept as a list of pieces and
    joined once.
    """

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, last_event_id: str = ""):
        # last_event_id: the buffer a reconnecting client carries over.
        self.max_event_size = max_event_size
        self.line = 0  # lines completed so far
        self._head = b""  # bytes seen before the BOM question is settled
        self._started = False
        self._skip_lf = False  # the previous chunk ended with CR
        self._partial: list[bytes] = []  # pieces of an unterminated line
        self._partial_size = 0
        self._data: list[bytes] = []
        self._data_size = 0
        self._type = b""
        self._last_id = last_event_id
        self._retry: int | None = None
        self._types: dict[bytes, str] = {b"": "message"}  # decoded event types, reused
        self._ended = False

    # -- public -----------------------------------------------------------

    @property
    def last_event_id(self) -> str:
        """The last-event-ID buffer, for a reconnecting client."""
        return self._last_id

    def feed(self, chunk: bytes) -> list:
        """The items that ``chunk`` completed: Event, Comment, RetryOnly."""
        try:
            items = self.feed_compact(chunk)
        except EventTooLarge as exc:
            exc.items = _expand(exc.items)
            raise
        return _expand(items)

    def feed_compact(self, chunk: bytes) -> list:
        """As :meth:`feed`, but the common event -- one data line, no
        ``retry`` -- comes as the tuple ``(type, data_bytes, id, line)``
        instead of an :class:`Event` (its data never holds a newline), for
        callers that turn a million events a second into something else.
        EventTooLarge's ``items`` are compact too."""
        if self._ended:
            raise RuntimeError("feed() after end()")
        if not self._started:
            chunk = self._strip_bom(chunk)
            if chunk is None:
                return []
        if self._skip_lf and chunk:  # (an empty read says nothing about the LF)
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        if b"\r" in chunk and (chunk[-1] == 13 or _lone_cr(chunk)):
            # A lone CR ends a line too: normalise (a CRLF may be split
            # across two reads).  Chunks with only CRLF and LF line ends are
            # scanned as they are.
            if chunk[-1] == 13:
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = chunk.rfind(b"\n") + 1
        if not end:
            self._partial.append(chunk)
            self._partial_size += len(chunk)
            if self._partial_size > self.max_event_size + 16:
                raise EventTooLarge(self.max_event_size, self.line + 1, [])
            return []
        out: list = []
        start = 0
        if self._partial:
            start = chunk.find(b"\n") + 1
            # (A CR before that LF is the CR of a CRLF: lone CRs were normalised.)
            pieces = self._partial
            pieces.append(chunk[: start - 2 if chunk[start - 2 : start - 1] == b"\r" else start - 1])
            self._partial = []
            self._partial_size = 0
            first = pieces[0]
            if len(pieces) > 2 and first[:5] == b"data:" and len(first) > 5:
                # A data line that spanned reads (a big event): join its value
                # without the field name, sparing a copy of many megabytes.
                pieces[0] = first[6:] if first[5:6] == b" " else first[5:]
                value = b"".join(pieces)
                pieces.clear()
                out = self._data_line(value)
            else:
                out = self._process([b"".join(pieces)])
        if end < len(chunk):
            self._partial.append(chunk[end:])
            self._partial_size = len(chunk) - end
        if start < end:
            self._scan(chunk, start, end, out, b"\r" in chunk)
        return out

    def end(self) -> list:
        """Say the input is over.  A BOM-prefix still held is processed; an
        unterminated line and an incomplete block are discarded, per the
        standard."""
        out: list = []
        if not self._started and self._head:
            head, self._head = self._head, b""
            self._started = True
            out = self.feed(head)
        self._ended = True
        self._partial = []
        self._data = []
        return out

    # -- internals ----------------------------------------------------------

    def _strip_bom(self, chunk: bytes) -> bytes | None:
        head = self._head + chunk
        if len(head) < 3 and _BOM.startswith(head):
            self._head = head
            return None
        self._head = b""
        self._started = True
        return head[3:] if head.startswith(_BOM) else head

    def _scan(self, chunk: bytes, start: int, end: int, out: list, crlf: bool) -> None:
        """Parse the complete lines in ``chunk[start:end]`` into ``out``.

        A common block met in a clean state (no data, type or retry pending)
        is dispatched at once -- exactly what the line-by-line rules would do
        with its two or three lines.  Everything else is handed to
        :meth:`_process` line by line, as are common blocks met in any other
        state and data lines at the size limit, so the general code keeps the
        last word.
        """
        line_no = self.line
        last_id = self._last_id
        types = self._types
        limit = self.max_event_size
        small = end - start < limit  # then no data line here can reach the limit
        append = out.append
        clean = not self._data and not self._type and self._retry is None
        for e, kind, value, block, other in (_TOKENS_CRLF if crlf else _TOKENS_LF)(chunk, start, end):
            if block:
                if clean and (small or len(value) < limit):
                    name = types.get(kind)
                    if name is None:
                        name = types[kind] = _decode(kind)
                    line_no += 3 if e else 2
                    append((name, value, last_id, line_no))
                    continue
                lines = [b"event: " + kind, b"data: " + value, b""] if e else [b"data: " + value, b""]
            elif crlf and other[-1:] == b"\r":
                lines = [other[:-1]]
            else:
                lines = [other]
            self.line = line_no
            try:
                out += self._process(lines)
            except EventTooLarge as exc:
                exc.items[:0] = out
                raise
            line_no = self.line
            last_id = self._last_id
            clean = not self._data and not self._type and self._retry is None
        self.line = line_no

    def _data_line(self, value: bytes) -> list:
        """One ``data:`` line, as :meth:`_process` takes it."""
        self.line += 1
        self._data.append(value)
        self._data_size += len(value) + 1
        if self._data_size > self.max_event_size:
            raise EventTooLarge(self.max_event_size, self.line, [])
        return []

    def _process(self, lines: list[bytes]) -> list:
        out: list = []
        data = self._data
        line_no = self.line
        for line in lines:
            line_no += 1
            if not line:
                if data or self._retry is not None:
                    self.line = line_no
                    self._dispatch(out, line_no)
                    data = self._data
                else:
                    self._type = b""
                continue
            if line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                data.append(value)
                self._data_size += len(value) + 1
                if self._data_size > self.max_event_size:
                    self.line = line_no
                    raise EventTooLarge(self.max_event_size, line_no, out)
            elif line[:6] == b"event:":
                self._type = line[7:] if line[6:7] == b" " else line[6:]
            elif line[0] == 58:  # ":" starts a comment
                out.append(Comment(_decode(line[1:]), line_no))
            else:
                self._field(line, line_no, out)
                data = self._data
        self.line = line_no
        return out

    def _field(self, line: bytes, line_no: int, out: list) -> None:
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            value = line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._data_size += len(value) + 1
            if self._data_size > self.max_event_size:
                self.line = line_no
                raise EventTooLarge(self.max_event_size, line_no, out)
        elif name == b"event":
            self._type = value
        elif name == b"id":
            if b"\x00" not in value:
                self._last_id = _decode(value)
        elif name == b"retry":
            if value and value.isdigit() and value.isascii():
                self._retry = int(value)

    def _dispatch(self, out: list, line_no: int) -> None:
        data, retry = self._data, self._retry
        self._retry = None
        if not data:
            # A block with no data dispatches nothing; it may still have set
            # the reconnection time, which --all records keep.
            self._type = b""
            out.append(RetryOnly(retry, self._last_id, line_no))
            return
        self._data = []
        self._data_size = 0
        kind = self._type
        self._type = b""
        if kind:
            name = self._types.get(kind)
            if name is None:
                name = self._types[kind] = _decode(kind)
        else:
            name = "message"
        payload = data[0] if len(data) == 1 else b"\n".join(data)
        out.append(Event(name, payload, self._last_id, retry, line_no))
