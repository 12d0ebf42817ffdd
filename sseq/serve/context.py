"""What the HTTP handler needs from the server that runs it, in one object.

:class:`ServeContext` is made by :class:`sseq.serve.server.ReplayServer` and
handed to every connection: the options, where to find a request's
recording, and where to report what was served.  The handler knows nothing
else of the server, so the two modules do not import each other.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..cassette.matching import Miss
from .rechunk import RECHUNK_MODES
from .recording import Recording

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ReplayOptions:
    """How every connection is served.

    Faithful by default: the recorded status, headers and events, with their
    own ids or none, nothing added.  ``speed``: follow the recorded ``t`` at
    this speed (1 = real time); 0 sends as fast as possible.  ``keepalive``:
    seconds of silence after which a ``: keep-alive`` comment is sent (None:
    never; it changes the bytes).  ``ids``: number the events 1, 2, … on the
    wire when the recording has no ids of its own, so that a client can
    resume (it changes the bytes).  ``rechunk``: None (one write per event),
    ``"1"`` (one byte per write) or ``"random"`` (each event split at random
    places).  ``seed``: makes ``"random"`` repeatable.  ``drop_after``: cut
    the connection after this many events.  ``error_after``: after this many
    events send the provider's in-band error event and end.
    ``cors_origins``: origins allowed to read the stream (``"*"`` for any).
    ``max_header_bytes`` and ``max_body_bytes``: request limits.
    """

    speed: float = 0.0
    keepalive: float | None = None
    ids: bool = False
    rechunk: str | None = None
    seed: int | None = None
    drop_after: int | None = None
    error_after: int | None = None
    cors_origins: tuple[str, ...] = ("*",)
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if self.speed < 0:
            raise ValueError("speed must be 0 or more")
        if self.keepalive is not None and self.keepalive <= 0:
            raise ValueError("keepalive must be positive")
        if self.rechunk is not None and self.rechunk not in RECHUNK_MODES:
            raise ValueError("rechunk must be None, '1' or 'random'")
        for name in ("drop_after", "error_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be 0 or more")


@dataclass
class Served:
    """One request and how it ended.

    ``recording``: the name of the recording that answered, or None.
    ``miss``: why no recording answered (the message the client got), or
    None.  ``outcome``: ``complete`` (every event sent and the body ended),
    ``dropped`` (cut by drop_after), ``error`` (error_after's event sent),
    ``client-gone``, ``stopped`` (the server stopped mid-stream), or
    ``refused`` (answered with an error status of sseq's own).
    ``started``/``ended`` are ``time.monotonic()`` values.
    """

    client: str
    method: str
    path: str
    status: int
    recording: str | None = None
    last_event_id: str | None = None
    events: int = 0
    outcome: str = "refused"
    started: float = 0.0
    ended: float = 0.0
    miss: str | None = None

    def describe(self) -> str:
        text = f"{self.client} {self.method} {self.path} {self.status}"
        if self.recording is not None:
            text += f" {self.recording}"
        elif self.miss is not None:
            text += " (no recording)"
        if self.last_event_id:
            text += f" (Last-Event-ID {self.last_event_id})"
        if self.recording is not None:
            text += f": {self.events} events, {self.outcome}"
        if self.miss is not None:
            text += f": {self.miss}"
        return text


@dataclass(frozen=True)
class ServeContext:
    """Everything a connection uses: ``options``; ``find(method, target,
    body)`` returns the :class:`Recording` that answers, or a :class:`Miss`;
    ``stopping`` is set when the server stops; ``track(conn, opened)``
    counts open connections; ``missed`` is called with a request no
    recording answered, before its answer is sent (so a client that has the
    404 can rely on the server knowing); ``served`` with each finished
    :class:`Served`; ``report`` with a text about a handler failure."""

    options: ReplayOptions
    find: Callable[[str, str, bytes], Recording | Miss]
    stopping: threading.Event
    track: Callable[[socket.socket, bool], None]
    missed: Callable[[Served], None]
    served: Callable[[Served], None]
    report: Callable[[str], None]
