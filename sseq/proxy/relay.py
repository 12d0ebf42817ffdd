"""The live relay of an answer's body from the upstream to the client.

Each read from the upstream is written to the client at once, as one HTTP
chunk, before anything else is done with it (the recording comes second);
nothing is buffered, gzip or not.  While the upstream is silent the client
may get ``: ping`` comments (between events only, never inside one).  When
the client goes away the relay keeps reading, so that the recording and
its usage are complete; when the upstream goes away or stalls, the client's
body is cut without its final chunk, as a real upstream cut would look.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..fetch.outcome import EOF
from .gateway import UsageChunkFilter
from .upstream import SILENCE, BodyEnded

__all__ = ["ClientStream", "RelayEnd", "relay"]

KEEPALIVE = b": ping\n\n"
_BLOCK_ENDS = (b"\n\n", b"\r\r", b"\r\n\r\n")


class ClientStream:
    """The answer's body on its way to the client: one HTTP/1.1 chunk per
    write (raw bytes for an HTTP/1.0 client).  A client that went away is
    noted (``gone_at``, monotonic), never raised."""

    def __init__(self, sock: socket.socket, chunked: bool):
        self.sock = sock
        self.chunked = chunked
        self.gone_at: float | None = None
        self.sent = 0

    @property
    def gone(self) -> bool:
        return self.gone_at is not None

    def write(self, data: bytes) -> None:
        if not data or self.gone_at is not None:
            return
        try:
            self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)
            self.sent += len(data)
        except OSError:
            self.gone_at = time.monotonic()

    def end(self) -> None:
        """The body is complete: the final chunk."""
        if self.chunked and self.gone_at is None:
            try:
                self.sock.sendall(b"0\r\n\r\n")
            except OSError:
                self.gone_at = time.monotonic()

    def cut(self) -> None:
        """The body stops here, without its final chunk: the client sees a
        broken stream (and an HTTP/1.0 one a close)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclass(frozen=True)
class RelayEnd:
    """How a body's relay ended: ``reason`` (a close reason), a message for
    people when it did not end well, and when the first byte came
    (monotonic, None when none did)."""

    reason: str
    message: str | None
    first_byte_at: float | None


class _Boundary:
    """Whether the bytes sent so far end between two events, where a
    comment may go."""

    def __init__(self) -> None:
        self.tail = b"\n\n"

    def note(self, data: bytes) -> None:
        self.tail = (self.tail + data[-4:])[-4:]

    @property
    def between_events(self) -> bool:
        return self.tail.endswith(_BLOCK_ENDS)


def relay(body: Iterable[object], client: ClientStream, tap: Callable[[bytes], None],
          usage_filter: UsageChunkFilter | None = None) -> RelayEnd:
    """Copy ``body`` (upstream reads, or SILENCE when a keep-alive is due)
    to ``client``, handing every read to ``tap`` after the client has it.
    The client's body is ended properly only when the upstream's was."""
    boundary = _Boundary()
    first_byte_at = None
    try:
        for item in body:
            if item is SILENCE:
                if boundary.between_events and not client.gone:
                    client.write(KEEPALIVE)
                continue
            data: bytes = item  # type: ignore[assignment]
            if first_byte_at is None:
                first_byte_at = time.monotonic()
            out = usage_filter.feed(data) if usage_filter is not None else data
            if out:
                client.write(out)
                boundary.note(out)
            tap(data)
    except BodyEnded as ended:
        client.cut()
        return RelayEnd(ended.reason, ended.message, first_byte_at)
    if usage_filter is not None:
        client.write(usage_filter.end())
    client.end()
    return RelayEnd(EOF, None, first_byte_at)
