"""Records back to SSE wire bytes (replay and serve).

The inverse of the parser: parsing the bytes written for a record gives the
record back.  JSON data whose exact bytes are known is written as those
bytes.  ``sseq.open``/``sseq.close`` never go on the wire.
"""

from __future__ import annotations

import orjson

from .records import COMMENT, RETRY, Record, wire_event


class WireEncoder:
    """Encodes a stream of records; remembers the last id it sent, because
    the id persists on the client and need only be sent when it changes."""

    def __init__(self) -> None:
        self.last_id = ""

    def encode(self, record: Record, id_override: str | None = None) -> bytes:
        event = record.event
        if event == COMMENT:
            text = record.data if type(record.data) is str else orjson.dumps(record.data).decode()
            return b":" + _one_line(text) + b"\n\n"
        wire_type = wire_event(event)
        if wire_type is None and event != RETRY:
            return b""
        out = b""
        record_id = id_override if id_override is not None else (record.id or "")
        if record_id != self.last_id:
            out += b"id: " + _one_line(record_id).replace(b"\x00", b"") + b"\n"
            self.last_id = record_id
        if record.retry is not None:
            out += b"retry: %d\n" % record.retry
        if event == RETRY:
            return out + b"\n" if out else b""
        assert wire_type is not None  # (None is only ever a retry's, above)
        if wire_type != "message":
            out += b"event: " + _one_line(wire_type) + b"\n"
        return out + _data_lines(record) + b"\n"


def _one_line(text: str) -> bytes:
    # A field value cannot hold a line break; a hand-made record could.
    return text.replace("\r", " ").replace("\n", " ").encode("utf-8", "replace")


def _data_lines(record: Record) -> bytes:
    data = record.data
    if record.raw is not None:
        payload = record.raw
    elif type(data) is str:
        payload = data.encode("utf-8", "replace")
    else:
        payload = orjson.dumps(data)
    if b"\n" not in payload and b"\r" not in payload:
        return b"data: " + payload + b"\n"
    lines = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return b"".join(b"data: " + line + b"\n" for line in lines)
