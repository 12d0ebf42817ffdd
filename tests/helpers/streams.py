"""Hand-made provider streams: SSE bytes from dicts, and what sseq makes of them."""

from __future__ import annotations

import orjson

from .processes import run_sseq


def sse(*events) -> bytes:
    """SSE wire bytes: each event a dict (data only), a string (raw data) or
    (type, data)."""
    out = b""
    for event in events:
        kind, data = event if type(event) is tuple else (None, event)
        if kind is not None:
            out += b"event: " + kind.encode() + b"\n"
        out += b"data: " + (data.encode() if type(data) is str else orjson.dumps(data)) + b"\n\n"
    return out


def stream_rows(data: bytes | None, *paths) -> list[dict]:
    """``sseq usage --by stream --format ndjson`` of raw bytes on stdin, or
    (``data`` None) of files."""
    result = run_sseq("usage", "--by", "stream", "--format", "ndjson", *(paths or ["-"]), input=data)
    assert result.returncode == 0, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def text_of(data: bytes, *args) -> str:
    """``sseq text`` of raw bytes on stdin."""
    result = run_sseq("text", *args, "-", input=data)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()
