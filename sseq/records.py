"""The NDJSON record format: the only module that knows its schema.

A record is one JSON object per line::

    {"event":"response.output_text.delta","id":"7","t":0.412,"data":{...}}

``data`` is written last, and when it is a JSON object or array received on
one line its bytes are embedded exactly as they arrived.  Reading such a line
back, the same bytes can be sliced out again, so a replay gives the upstream's
own bytes (key order and spacing included) without re-serialising anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from .parser import Comment, Event, RetryOnly

__all__ = [
    "Record",
    "RecordError",
    "OPEN",
    "CLOSE",
    "COMMENT",
    "RETRY",
    "record_from_item",
    "encode_item",
    "encode_items",
    "format_record",
    "parse_record_line",
    "parse_record_types",
    "classify_data",
]

OPEN = "sseq.open"
CLOSE = "sseq.close"
COMMENT = "sseq.comment"
RETRY = "sseq.retry"

_DATA_KEY = b',"data":'


@dataclass(frozen=True, slots=True)
class Record:
    """One line of NDJSON: an SSE event, or one of sseq's own ``sseq.*``.

    ``event``: the event type.  ``data``: the parsed JSON object/array, or the
    raw string.  ``id``: the last-event-ID, when non-empty.  ``retry``: ms,
    when the dispatching block set it.  ``t``: seconds since the stream began,
    when known.  ``raw``: the exact JSON bytes of ``data`` when they are known
    (not compared).  ``line``: the exact NDJSON line this record was read from,
    if any, so a record can pass through a filter untouched (not compared).
    """

    event: str
    data: Any
    id: str | None = None
    retry: int | None = None
    t: float | None = None
    raw: bytes | None = field(default=None, compare=False, repr=False)
    line: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def type(self) -> str:
        """The event type a reader means: ``data.type`` for plain
        ``message`` events that carry one (OpenRouter's Responses stream has
        no ``event:`` lines), else ``event``."""
        if self.event == "message" and type(self.data) is dict:
            inner = self.data.get("type")
            if type(inner) is str:
                return inner
        return self.event

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


def classify_data(payload: bytes, raw_data: bool = False) -> tuple[Any, bytes | None]:
    """The record value of a data buffer, and its exact JSON bytes.

    A JSON object or array becomes the parsed value; anything else (``[DONE]``,
    plain text, a bare JSON number) stays a string.  The bytes are returned
    only when they can be embedded in a record line as they are: valid JSON on
    a single line.
    """
    if not raw_data:
        first = payload[:1]
        if first == b"{" or first == b"[" or (first in b" \t" and payload.lstrip()[:1] in (b"{", b"[")):
            try:
                value = orjson.loads(payload)
            except orjson.JSONDecodeError:
                pass
            else:
                if b"\n" in payload:
                    return value, None
                return value, payload
    return payload.decode("utf-8", "replace"), None


def record_from_item(item, t: float | None = None, raw_data: bool = False) -> Record:
    """Turn a parser item (Event, Comment, RetryOnly) into a Record."""
    if type(item) is Event:
        value, raw = classify_data(item.data_bytes, raw_data)
        return Record(item.type, value, item.id or None, item.retry, t, raw)
    if type(item) is Comment:
        return Record(COMMENT, item.text, None, None, t)
    if type(item) is RetryOnly:
        return Record(RETRY, "", item.id or None, item.retry, t)
    raise TypeError(f"not a parser item: {item!r}")


_event_keys: dict[str, bytes] = {}


def _event_prefix(event: str) -> bytes:
    prefix = _event_keys.get(event)
    if prefix is None:
        prefix = b'{"event":' + orjson.dumps(event)
        if len(_event_keys) < 4096:
            _event_keys[event] = prefix
    return prefix


def _tail(id: str | None, retry: int | None, t: float | None) -> bytes:
    tail = b""
    if id:
        tail += b',"id":' + orjson.dumps(id)
    if retry is not None:
        tail += b',"retry":%d' % retry
    if t is not None:
        tail += b',"t":%.3f' % t
    return tail


def encode_item(item, t: float | None = None, raw_data: bool = False) -> bytes:
    """A parser item straight to its NDJSON line (the hot path of ``parse``).

    Same bytes as ``format_record(record_from_item(item, ...))``, without
    building the Record.
    """
    return b"".join(_encode_pieces(item, t, raw_data))


def _encode_pieces(item, t: float | None, raw_data: bool) -> tuple[bytes, ...]:
    """encode_item's line in pieces, so that a big payload is not copied
    into it (a writer can write the pieces one after the other)."""
    if type(item) is Event:
        payload = item.data_bytes
        if not raw_data:
            first = payload[:1]
            if first == b"{" or first == b"[":
                try:
                    value = orjson.loads(payload)
                except orjson.JSONDecodeError:
                    pass
                else:
                    if b"\n" in payload:
                        payload = orjson.dumps(value)
                    del value  # (a big event's parsed copy need not outlive the check)
                    head = _event_prefix(item.type)
                    if item.id or item.retry is not None or t is not None:
                        head += _tail(item.id, item.retry, t)
                    return head + _DATA_KEY, payload, b"}\n"
    return (format_record(record_from_item(item, t, raw_data)),)


_JSON_STARTS = frozenset((b"{", b"["))
_data_heads: dict[str, bytes] = {}


def encode_items(items: list, t: float | None = None, raw_data: bool = False, include_all: bool = True) -> list[bytes]:
    """``encode_item`` over a batch of parser items, also the compact events
    of ``EventStreamParser.feed_compact`` (``(type, data_bytes, id, line)``):
    the same bytes, from a loop that does the least per event, as a list of
    pieces to write in order (a line may come in more than one piece, so
    that a big payload is not copied).  Without ``include_all`` only events
    are written (no comments or retry-only blocks)."""
    out: list[bytes] = []
    append = out.append
    loads, Error = orjson.loads, orjson.JSONDecodeError
    heads = _data_heads
    starts = _JSON_STARTS
    plain = not raw_data and t is None
    for item in items:
        if type(item) is tuple:
            kind, payload, id, _line = item
            # The common case: a JSON object or array (on one line: compact
            # events have one data line), no id, no timestamp.  Anything
            # else takes the general path.
            if plain and not id and payload[:1] in starts:
                try:
                    loads(payload)
                except Error:
                    pass
                else:
                    head = heads.get(kind)
                    if head is None:
                        head = _event_prefix(kind) + _DATA_KEY
                        if len(heads) < 4096:
                            heads[kind] = head
                    append(head + payload + b"}\n")
                    continue
            item = Event(kind, payload, id, None, _line)
        elif type(item) is not Event and not include_all:
            continue
        out += _encode_pieces(item, t, raw_data)
    return out


def format_record(record: Record) -> bytes:
    """A Record to its NDJSON line (with the trailing newline)."""
    if record.raw is not None:
        payload = record.raw
    else:
        payload = orjson.dumps(record.data)
    head = _event_prefix(record.event)
    if record.id or record.retry is not None or record.t is not None:
        head += _tail(record.id, record.retry, record.t)
    return b"".join((head, _DATA_KEY, payload, b"}\n"))


def _record_maker():
    """A faster ``Record(...)`` for reading: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; setting the
    slots through their descriptors gives the same object at half the cost."""
    new = object.__new__
    setters = tuple(Record.__dict__[name].__set__ for name in ("event", "data", "id", "retry", "t", "raw", "line"))
    s_event, s_data, s_id, s_retry, s_t, s_raw, s_line = setters

    def make(event, data, id, retry, t, raw, line) -> Record:
        record = new(Record)
        s_event(record, event)
        s_data(record, data)
        s_id(record, id)
        s_retry(record, retry)
        s_t(record, t)
        s_raw(record, raw)
        s_line(record, line)
        return record

    return make


_make_record = _record_maker()
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


def _checked(line: bytes) -> tuple[dict, str, str | None, int | None, float | None]:
    """Parse one NDJSON line and check it is a record: ``(obj, event, id,
    retry, t)``.  Raises RecordError with a message meant for a person."""
    try:
        obj = _loads(line)
    except _JSONDecodeError as exc:
        raise RecordError(f"not JSON ({exc})") from None
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
    if retry is not None and (type(retry) is not int or retry < 0):
        raise RecordError('"retry" must be a non-negative integer')
    t = obj.get("t")
    if t is not None and type(t) not in (int, float):
        raise RecordError('"t" must be a number')
    return obj, event, id, retry, t


def parse_record_line(line: bytes) -> Record:
    """One NDJSON line (without its newline) to a Record.

    Raises RecordError with a message meant for a person.
    """
    obj, event, id, retry, t = _checked(line)
    data = obj["data"]
    raw = None
    kind = type(data)
    if kind is dict or kind is list:
        raw = _maybe_data_bytes(line, obj, event, id, retry, t)
    return _make_record(event, data, id or None, retry, t, raw, line)


def parse_record_types(line: bytes) -> tuple[str, str]:
    """``(record.event, record.type)`` of one NDJSON line, checked exactly as
    :func:`parse_record_line` checks it (same RecordError), without building
    the Record: what a filter by type needs."""
    obj, event, _id, _retry, _t = _checked(line)
    if event == "message":
        data = obj["data"]
        if type(data) is dict:
            inner = data.get("type")
            if type(inner) is str:
                return event, inner
    return event, event


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
    head = _event_prefix(event)
    fields = 2
    if id is not None or retry is not None or t is not None:
        head += _tail(id, retry, t)
        fields += (id is not None) + (retry is not None) + (t is not None)
    head += _DATA_KEY
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
            if _loads(raw) != obj["data"]:
                return None
        except _JSONDecodeError:
            return None
    return raw
