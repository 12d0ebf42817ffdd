"""Replaying recordings to HTTP clients: the server under ``sseq serve``.

A :class:`ReplayServer` holds recordings in memory (every route file is read
once, at start; nothing on disk is reachable through a request) and answers
any method on a route with the recorded events as ``text/event-stream``::

    with ReplayServer({"/v1/responses": "resp.ndjson"}) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="test")

Each connection gets its own replay: recorded pacing (``speed``), keep-alive
comments, resumption after ``Last-Event-ID``, and the fault modes a client
should survive (bytes split badly, a dropped connection, an in-band error in
the recording's own provider format).

This module is the server's options and lifecycle; the parts live in
:mod:`sseq.serve.recording` (a file read and its ids settled), :mod:`sseq.serve.routes`
(which recording answers which path), :mod:`sseq.serve.playback` (what one
connection is sent, sans IO), :mod:`sseq.serve.rechunk`, :mod:`sseq.serve.request_limits`
and :mod:`sseq.serve.replay_handler` (the HTTP side).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

from .rechunk import RECHUNK_MODES
from .recording import Recording, load_recording
from .replay_handler import ReplayHTTPServer, Served
from .routes import Routes, as_routes, build_routes

__all__ = [
    "ReplayOptions",
    "Recording",
    "Routes",
    "Served",
    "ReplayServer",
    "load_recording",
    "build_routes",
    "is_loopback",
]

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ReplayOptions:
    """How every connection is served.

    ``speed``: follow the recorded ``t`` at this speed (1 = real time); 0 sends
    as fast as possible.  ``keepalive``: seconds of silence after which a
    ``: keep-alive`` comment is sent (None: never).  ``ids``: number the
    events 1, 2, … on the wire when the recording has no ids of its own.
    ``rechunk``: None (one write per event), ``"1"`` (one byte per write) or
    ``"random"`` (each event split at random places).  ``seed``: makes
    ``"random"`` repeatable.  ``drop_after``: cut the connection after this
    many events.  ``error_after``: after this many events send the provider's
    in-band error event and end.  ``cors_origins``: origins allowed to read
    the stream (``"*"`` for any).  ``max_header_bytes`` and
    ``max_body_bytes``: request limits.
    """

    speed: float = 0.0
    keepalive: float | None = None
    ids: bool = True
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


class ReplayServer:
    """An HTTP server replaying recordings, on 127.0.0.1 by default.

    ``routes``: a recording path (served at every path), a :class:`Routes`,
    or a mapping of URL path -> recording path (or :class:`Recording`, or a
    list of :class:`Record`).  Keyword options are those of
    :class:`ReplayOptions`.  ``on_served`` is called (from a server thread)
    with each finished :class:`Served`; ``log`` keeps the last 10,000.
    ``on_error`` is called with the text of each problem a connection met
    (else it goes to the ``sseq.serve`` logger).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, routes, host: str = "127.0.0.1", port: int = 0, *, options: ReplayOptions | None = None,
                 on_served=None, on_error=None, **option_values):
        self.options = replace(options or ReplayOptions(), **option_values)
        self.routes = as_routes(routes, self.options.ids)
        self.host = host
        self.port = port
        self.on_served = on_served
        self.on_error = on_error
        self.log: deque[Served] = deque(maxlen=10_000)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._httpd: ReplayHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, without a trailing slash."""
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        host, port = self._httpd.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def url_for(self, path: str = "/") -> str:
        return self.url + "/" + path.lstrip("/")

    def start(self) -> ReplayServer:
        """Bind and serve in a background thread; returns at once."""
        if self._httpd is not None:
            return self
        self._httpd = ReplayHTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sseq-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end every open stream, and wait (up to
        ``timeout`` seconds) for the connection threads to finish."""
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._connections:
                    break
            time.sleep(0.02)
        self._httpd = None

    @property
    def active(self) -> int:
        """Connections open right now."""
        with self._lock:
            return len(self._connections)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # called from connection threads

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _record(self, served: Served) -> None:
        self.log.append(served)
        if self.on_served is not None:
            self.on_served(served)

    def _report(self, text: str) -> None:
        if self.on_error is not None:
            self.on_error(text)
        else:  # a library caller without a callback: the logging module's to show
            logging.getLogger("sseq.serve").warning("%s", text)



def is_loopback(host: str) -> bool:
    """True when only this machine can reach a server listening on ``host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
