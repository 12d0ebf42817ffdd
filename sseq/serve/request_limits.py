"""Reading what a client sends to the replay server, within limits.

The request line and headers together may not exceed a byte budget (431),
a body may not exceed ``max_body`` (413); neither is ever held in memory:
headers are refused as soon as the budget runs out, a body is read piece by
piece and thrown away (the replay does not depend on it).
"""

from __future__ import annotations

import io
from email.message import Message

_PIECE = 65536
_CHUNK_SIZE_LINE = 1026  # a chunk-size line: hex digits, extensions, CRLF
_TRAILER_BUDGET = 8192


class HeadersTooLarge(Exception):
    """The request line and headers are over the budget (answer 431)."""


class BodyTooLarge(Exception):
    """The body is over ``max_body`` bytes (answer 413)."""


class BadBody(Exception):
    """The body's framing is broken: its length or its chunks (answer 400)."""


class BoundedReader(io.BufferedIOBase):
    """Stands in for a handler's rfile while the headers are read: refuses
    to read past the header budget, so a huge header is refused, never
    buffered."""

    def __init__(self, stream: io.BufferedIOBase, budget: int) -> None:
        super().__init__()
        self.stream = stream
        self.budget = budget

    def readline(self, limit: int | None = -1) -> bytes:
        want = self.budget + 1 if limit is None or limit < 0 else min(limit, self.budget + 1)
        line = self.stream.readline(want)
        self.budget -= len(line)
        if self.budget < 0:
            raise HeadersTooLarge
        return line


def body_length(headers: Message, max_body: int) -> int:
    """The announced body length: 0 for none, -1 for a chunked body (its
    size is counted while it is read)."""
    if headers.get("Transfer-Encoding", "").lower().strip() not in ("", "identity"):
        return -1
    value = headers.get("Content-Length")
    if value is None:
        return 0
    if not value.strip().isdigit():
        raise BadBody(f"bad Content-Length {value!r}")
    length = int(value)
    if length > max_body:
        raise BodyTooLarge
    return length


def read_body(rfile: io.BufferedIOBase, headers: Message, max_body: int) -> bytes:
    """Read the whole request body (Content-Length or chunked), refusing
    one over ``max_body`` bytes: the cassette matches on it, and the client
    can finish sending before it reads the answer."""
    length = body_length(headers, max_body)
    if length >= 0:
        return _read(rfile, length)
    pieces: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(_CHUNK_SIZE_LINE)
        if not line.endswith(b"\n"):
            raise BadBody("bad chunked request body")
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadBody("bad chunked request body") from None
        total += size
        if total > max_body:
            raise BodyTooLarge
        if size == 0:
            break
        pieces.append(_read(rfile, size + 2)[:-2])  # the chunk and its CRLF
    budget = _TRAILER_BUDGET
    while True:
        line = rfile.readline(budget + 1)
        budget -= len(line)
        if budget < 0 or not line.endswith(b"\n"):
            raise BadBody("bad chunked request trailer")
        if line in (b"\r\n", b"\n"):
            return b"".join(pieces)


def _read(rfile: io.BufferedIOBase, length: int) -> bytes:
    pieces = []
    while length > 0:
        piece = rfile.read(min(length, _PIECE))
        if not piece:
            raise ConnectionResetError
        pieces.append(piece)
        length -= len(piece)
    return b"".join(pieces)
