"""The NDJSON record format: the only module that knows its schema.

A record is one JSON object per line::

    {"event":"response.output_text.delta","id":"7","t":0.412,"data":{...}}

``data`` is written last, and when it is a JSON object or array received on
one line its bytes are embedded exactly as they arrived.  Reading such a line
back, the same bytes can be sliced out again, so a replay gives the upstream's
own bytes (key order and spacing included) without re-serialising anything.
JSON of several data lines is embedded as its own bytes too, its line feeds
made spaces; what orjson refuses but JSON allows (a lone surrogate escape, an
integer past 64 bits in ``retry``) is read with the standard library, so
sseq always reads what it wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from .parser import Comment, Event, RetryOnly
from .speedups import compiled

__all__ = [
    "Record",
    "RecordError",
    "OPEN",
    "CLOSE",
    "COMMENT",
    "RETRY",
    "UPSTREAM",
    "record_event",
    "wire_event",
    "record_from_item",
    "encode_item",
    "encode_items",
    "BlockEncoder",
    "block_encoder",
    "format_record",
    "parse_record_line",
    "parse_record_types",
    "classify_data",
    "loads_json",
]

OPEN = "sseq.open"
CLOSE = "sseq.close"
COMMENT = "sseq.comment"
RETRY = "sseq.retry"
# ``sseq.*`` is sseq's own namespace.  An upstream event whose type is in it
# is recorded under this prefix (``sseq.open`` -> ``sseq.upstream.sseq.open``),
# so that it is never taken for sseq's own record, and restored on the wire.
UPSTREAM = "sseq.upstream."


def record_event(event_type: str) -> str:
    """The record ``event`` of an SSE event type (see UPSTREAM)."""
    return UPSTREAM + event_type if event_type.startswith("sseq.") else event_type


def wire_event(event: str) -> str | None:
    """The SSE event type of a record ``event``; None for sseq's own records
    (``sseq.open``, ``sseq.comment``... and any ``sseq.*`` unknown here),
    which never go on the wire as events."""
    if event.startswith("sseq."):
        return event[len(UPSTREAM):] if event.startswith(UPSTREAM) else None
    return event


_DATA_KEY = b',"data":'
_STARTS = frozenset((b"{", b"["))
_BLANKS = b" \t"
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


@dataclass(frozen=True, slots=True)
class Record:
    """One line of NDJSON: an SSE event, or one of sseq's own ``sseq.*``.

    ``event``: the event type.  ``data``: the parsed JSON object/array, or the
    raw string.  ``id``: the last-event-ID, when non-empty.  ``retry``: ms,
    when the dispatching block set it.  ``t``: seconds since the stream began,
    when known.  ``raw``: the exact JSON bytes of ``data`` when they are known
    (not compared).  ``line``: the exact NDJSON line this record was read from,
    if any, so a record can pass through a filter untouched (not compared).
    ``line_no``: where it was read, the NDJSON line or the SSE line that
    dispatched it, for messages that name a line (not compared).
    """

    event: str
    data: Any
    id: str | None = None
    retry: int | None = None
    t: float | None = None
    raw: bytes | None = field(default=None, compare=False, repr=False)
    line: bytes | None = field(default=None, compare=False, repr=False)
    line_no: int | None = field(default=None, compare=False, repr=False)

    @property
    def type(self) -> str:
        """The event type a reader means: ``data.type`` for plain
        ``message`` events that carry one (OpenRouter's Responses stream has
        no ``event:`` lines), else ``event``."""
        return Record.type_of(self.event, self.data)

    @staticmethod
    def type_of(event: str, data: Any) -> str:
        """:attr:`type` for a record's ``event`` and ``data``: the one home of
        the rule."""
        if event == "message" and type(data) is dict:
            inner = data.get("type")
            if type(inner) is str:
                return inner
        return event

    def to_dict(self) -> dict:
        out: dict = {"event": self.event}
        if self.id:
            out["id"] = self.id
        if self.retry is not None:
            out["retry"] = self.retry
        if self.t is not None:
            out["t"] = self.t
        out["data"] = self.data
        return out


class RecordError(ValueError):
    """A line that is not a record."""


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_STDLIB_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]").search


def loads_json(text: bytes) -> Any:
    """Parse JSON: orjson, and for the legal JSON it refuses -- a lone
    surrogate escape such as ``"\\ud83d"`` -- the standard library.  Both
    stop at the same depth (about a thousand levels), so what one refuses
    for depth the other refuses too.  Raises ValueError."""
    try:
        return _loads(text)
    except _JSONDecodeError as exc:
        if not _SURROGATE_ESCAPE(text):
            raise
        try:
            return _STDLIB_DECODER.decode(text.decode("utf-8"))
        except (ValueError, RecursionError):
            raise exc from None


def _json_text(payload: bytes) -> bool:
    """Whether a data buffer may hold a JSON object or array: the one sniff,
    before the parse that decides."""
    first = payload[:1]
    return first == b"{" or first == b"[" or (first in _BLANKS and payload.lstrip()[:1] in _STARTS)


def classify_data(payload: bytes, raw_data: bool = False) -> tuple[Any, bytes | None]:
    """The record value of a data buffer, and its JSON bytes to embed.

    A JSON object or array becomes the parsed value; anything else (``[DONE]``,
    plain text, a bare JSON number, JSON nested too deep to parse) stays a
    string.  The bytes are the payload's own, so that no digit or escape is
    lost to a re-serialisation; a payload of several data lines has its line
    feeds (whitespace in JSON) made spaces, since a record is one line.
    """
    if not raw_data and _json_text(payload):
        try:
            value = _loads(payload)
        except _JSONDecodeError:
            return _classify_refused(payload)
        return value, payload.replace(b"\n", b" ") if 10 in payload else payload
    return payload.decode("utf-8", "replace"), None


def _classify_refused(payload: bytes) -> tuple[Any, bytes | None]:
    """classify_data of a payload that looks like JSON and that orjson
    refused: JSON after all if the standard library reads it (see
    loads_json), else a string."""
    if _SURROGATE_ESCAPE(payload):
        try:
            value = _STDLIB_DECODER.decode(payload.decode("utf-8"))
        except (ValueError, RecursionError):
            pass
        else:
            return value, payload.replace(b"\n", b" ") if 10 in payload else payload
    return payload.decode("utf-8", "replace"), None


def record_from_item(item, t: float | None = None, raw_data: bool = False) -> Record:
    """Turn a parser item (Event, Comment, RetryOnly) into a Record."""
    if type(item) is Event:
        value, raw = classify_data(item.data_bytes, raw_data)
        return Record(record_event(item.type), value, item.id or None, item.retry, t, raw, line_no=item.line)
    if type(item) is Comment:
        return Record(COMMENT, item.text, None, None, t, line_no=item.line)
    if type(item) is RetryOnly:
        return Record(RETRY, "", item.id or None, item.retry, t, line_no=item.line)
    raise TypeError(f"not a parser item: {item!r}")


_event_keys: dict[str, bytes] = {}


def _head(event: str, id: str | None = None, retry: int | None = None, t: float | None = None) -> bytes:
    """A record line up to its data value: ``{"event":...,"data":``."""
    head = _event_keys.get(event)
    if head is None:
        head = b'{"event":' + orjson.dumps(event)
        if len(_event_keys) < 4096:  # (bounded: an upstream chooses the types)
            _event_keys[event] = head
    if id:
        head += b',"id":' + orjson.dumps(id)
    if retry is not None:
        head += b',"retry":%d' % retry
    if t is not None:
        head += _t_field(t)
    return head + _DATA_KEY


def _t_field(t: float) -> bytes:
    return b',"t":%.3f' % t


class BlockEncoder:
    """The compiled core's record writer (``_speedups.encode_blocks``),
    bound to one output's options: what :class:`EventStreamParser` takes as
    its ``encoder``.  It writes exactly the lines :func:`encode_items` would
    for the blocks it takes, and declines the rest, which the parser reads
    line by line.  ``t``: the arrival time to give the records of the next
    read, None for none (set it before each ``feed``)."""

    def __init__(self, raw_data: bool = False) -> None:
        if compiled is None:
            raise RuntimeError("sseq's compiled core is not built (see sseq.speedups)")
        self.raw_data = raw_data
        self.t: float | None = None
        self._encode = compiled.encode_blocks
        self._mid_of: tuple[str, float | None] = ("", None)
        self._mid = b""

    def __call__(self, chunk: bytes, pos: int, end: int, crlf: bool, last_id: str, limit: int) -> tuple[bytes, int, int]:
        if (last_id, self.t) != self._mid_of:
            # What goes between a record's event and its data, as _head writes it.
            self._mid_of = (last_id, self.t)
            self._mid = (b',"id":' + orjson.dumps(last_id) if last_id else b"") + (
                _t_field(self.t) if self.t is not None else b"")
        return self._encode(chunk, pos, end, crlf, self._mid, limit, self.raw_data)


def block_encoder(raw_data: bool = False) -> BlockEncoder | None:
    """A BlockEncoder, or None where sseq runs in pure Python."""
    return BlockEncoder(raw_data) if compiled is not None else None


def _pieces(record: Record) -> tuple[bytes, ...]:
    """A record's line in pieces: three, the data bytes apart, when they are
    the payload's own, so that a writer need not copy a big payload into one
    line; else one.  (A serialised value is never kept as a piece: orjson
    gives back a buffer of several KiB even for ``"x"``, and a read of a
    million tiny events would hold them all.)"""
    head = _head(record.event, record.id, record.retry, record.t)
    if record.raw is not None:
        return head, record.raw, b"}\n"
    return (head + _dumps(record.data) + b"}\n",)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # a lone surrogate (see loads_json): escaped as JSON allows
        return json.dumps(value, separators=(",", ":")).encode()


def format_record(record: Record) -> bytes:
    """A Record to its NDJSON line (with the trailing newline)."""
    return b"".join(_pieces(record))


def encode_item(item, t: float | None = None, raw_data: bool = False) -> bytes:
    """A parser item straight to its NDJSON line: ``format_record`` of
    ``record_from_item``."""
    return b"".join(encode_items([item], t, raw_data))


def encode_items(items: list, t: float | None = None, raw_data: bool = False, include_all: bool = True) -> list[bytes]:
    """Parser items to NDJSON, as pieces to write in order (a line may come
    in more than one piece, so that a big payload is not copied); the bytes
    of ``format_record(record_from_item(item, t, raw_data))`` for each.
    Without ``include_all`` only events are written (no comments or
    retry-only blocks).

    This is the hot loop of ``sseq parse``: it also takes the parser's
    compact events (``(type, data_bytes, id, line)``, one data line, no
    retry; see ``EventStreamParser``'s ``compact``), and writes those whose
    data is a JSON object or array with the least work: checked, then
    embedded as they came.  Everything else goes through a Record.  Items
    that are ``bytes`` are records already encoded (by a
    :class:`BlockEncoder`), written as they are."""
    out: list[bytes] = []
    append = out.append
    loads, Error = _loads, _JSONDecodeError
    heads = _data_heads
    starts = _STARTS
    plain = t is None  # (then a record's head depends on its type and id only)
    for item in items:
        if type(item) is bytes:
            append(item)
            continue
        if type(item) is tuple:
            kind, payload, id, line = item
            if payload[:1] in starts and not raw_data:  # (surely JSON text, as classify_data sniffs it)
                if plain and not id:
                    head = heads.get(kind)
                    if head is None:
                        head = _head(record_event(kind))
                        if len(heads) < 4096:  # (bounded: an upstream chooses the types)
                            heads[kind] = head
                else:
                    head = _head(record_event(kind), id, None, t)
                try:
                    loads(payload)
                except Error:
                    value, raw = _classify_refused(payload)  # ([DONE]: one failed parse is enough)
                    append(head + (raw if raw is not None else _dumps(value)) + b"}\n")
                else:
                    append(head + payload + b"}\n")
                continue
            item = Event(kind, payload, id, None, line)
        elif type(item) is not Event:
            if include_all:
                out += _pieces(record_from_item(item, t, raw_data))
            continue
        out += _event_pieces(item, t, raw_data)
    return out


def _event_pieces(event: Event, t: float | None, raw_data: bool) -> tuple[bytes, ...]:
    """The pieces of an Event's line.  With the compiled core, JSON data
    (one big event, data of several lines) is checked without building it
    -- a 50 MB payload is not made a Python object only to be thrown away;
    what the core is unsure of goes the Python way."""
    payload = event.data_bytes
    if compiled is not None and not raw_data and payload[:1] in _STARTS and compiled.json_check(payload) == 1:
        head = _head(record_event(event.type), event.id or None, event.retry, t)
        return head, payload.replace(b"\n", b" ") if 10 in payload else payload, b"}\n"
    return _pieces(record_from_item(event, t, raw_data))


_data_heads: dict[str, bytes] = {}


def _record_maker():
    """A faster ``Record(...)`` for reading: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; setting the
    slots through their descriptors gives the same object at half the cost."""
    new = object.__new__
    setters = tuple(Record.__dict__[name].__set__ for name in ("event", "data", "id", "retry", "t", "raw", "line", "line_no"))
    s_event, s_data, s_id, s_retry, s_t, s_raw, s_line, s_line_no = setters

    def make(event, data, id, retry, t, raw, line, line_no) -> Record:
        record = new(Record)
        s_event(record, event)
        s_data(record, data)
        s_id(record, id)
        s_retry(record, retry)
        s_t(record, t)
        s_raw(record, raw)
        s_line(record, line)
        s_line_no(record, line_no)
        return record

    return make


_make_record = _record_maker()


def _loads_or_explain(line: bytes) -> Any:
    """A line orjson refused: legal JSON it does not take, or RecordError."""
    try:
        return loads_json(line)
    except ValueError as exc:
        if "depth" in str(exc):
            raise RecordError(f"nested deeper than sseq reads ({exc})") from None
        raise RecordError(f"not JSON ({exc})") from None


def _checked(line: bytes) -> tuple[dict, str, str | None, int | None, float | None]:
    """Parse one NDJSON line and check it is a record: ``(obj, event, id,
    retry, t)``.  Raises RecordError with a message meant for a person."""
    try:
        obj = _loads(line)
    except _JSONDecodeError:
        obj = _loads_or_explain(line)
    if type(obj) is not dict:
        raise RecordError("a record must be a JSON object")
    event = obj.get("event")
    if type(event) is not str:
        raise RecordError('a record needs a string "event" field')
    if "data" not in obj:
        raise RecordError('a record needs a "data" field')
    if len(obj) == 2:  # just event and data: the common record
        return obj, event, None, None, None
    id = obj.get("id")
    if id is not None and type(id) is not str:
        raise RecordError('"id" must be a string')
    retry = obj.get("retry")
    if type(retry) is float and retry.is_integer() and retry >= 0:
        # Past 64 bits orjson gives a float; sseq writes what the stream
        # said, exactly, so read it back exactly.
        obj = json.loads(line)
        retry = obj["retry"]
    if retry is not None and (type(retry) is not int or retry < 0):
        raise RecordError('"retry" must be a non-negative integer')
    t = obj.get("t")
    if t is not None and type(t) not in (int, float):
        raise RecordError('"t" must be a number')
    return obj, event, id, retry, t


def parse_record_line(line: bytes, line_no: int | None = None) -> Record:
    """One NDJSON line (without its newline) to a Record; ``line_no`` says
    where it was read.

    Raises RecordError with a message meant for a person.
    """
    obj, event, id, retry, t = _checked(line)
    data = obj["data"]
    raw = None
    kind = type(data)
    if kind is dict or kind is list:
        raw = _maybe_data_bytes(line, obj, event, id, retry, t)
    return _make_record(event, data, id or None, retry, t, raw, line, line_no)


def parse_record_types(line: bytes) -> tuple[str, str]:
    """``(record.event, record.type)`` of one NDJSON line, checked exactly as
    :func:`parse_record_line` checks it (same RecordError), without building
    the Record: what a filter by type needs."""
    obj, event, _id, _retry, _t = _checked(line)
    return event, Record.type_of(event, obj["data"])


# After the data value, a duplicated top-level key would show as a comma and
# a key: spelled plainly, or with an escape in its name.
_MAYBE_DUPLICATE_KEY = re.compile(rb',\s*"(?:event|id|retry|t|data)"\s*:|,\s*"[^"]*\\').search


def _maybe_data_bytes(line: bytes, obj: dict, event: str, id, retry, t) -> bytes | None:
    """The exact bytes of ``data`` inside a line that sseq wrote, else None
    (the caller then re-serialises the value).

    Trusted only when the line starts with exactly the bytes sseq writes for
    the other fields, holds no other key, and ends with the data value; a
    slice that could hide a duplicated key is checked by parsing it.
    """
    head = _head(event, id, retry, t)
    fields = 2 + (id is not None) + (retry is not None) + (t is not None)
    if len(obj) != fields or not line.startswith(head):
        return None
    if line[-1:] == b"}":
        raw = line[len(head) : -1]
    else:
        raw = line[len(head) :].rstrip()
        if raw[-1:] != b"}":
            return None
        raw = raw[:-1]
    if _MAYBE_DUPLICATE_KEY(raw):
        try:
            if loads_json(raw) != obj["data"]:
                return None
        except ValueError:
            return None
    return raw
