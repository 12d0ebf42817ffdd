"""Replaying recordings to HTTP clients: the server under ``sseq serve``.

A :class:`ReplayServer` holds recordings in memory (every file is read
once, at start; nothing on disk is reachable through a request) and answers
each request with its recording, as it was recorded: status, headers,
events (or the body of a non-stream answer)::

    with ReplayServer("tests/cassettes/chat") as server:     # a cassette folder
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="test")
    with ReplayServer({"/v1/responses": "resp.ndjson"}) as server:   # by path
        ...

A folder is a cassette (:mod:`sseq.serve.cassette`): each request is
matched to the recording of the same request.  Each connection gets its own
replay: recorded pacing (``speed``), and, opted in, keep-alive comments,
numbered ids and resumption after ``Last-Event-ID``, and the fault modes a
client should survive (bytes split badly, a dropped connection, an in-band
error in the recording's own provider format).

This module is the server's lifecycle; the parts live in
:mod:`sseq.serve.context` (the options, and what a connection is given),
:mod:`sseq.serve.recording` (a file read and its ids settled),
:mod:`sseq.serve.routes` (which recording answers which path),
:mod:`sseq.serve.cassette` (which recording answers which request),
:mod:`sseq.serve.playback` (what one connection is sent, sans IO),
:mod:`sseq.serve.rechunk`, :mod:`sseq.serve.request_limits` and
:mod:`sseq.serve.replay_handler` (the HTTP side).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import replace

from ..cassette.matching import Matcher, Miss
from .cassette import Cassette, load_cassette
from .context import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES, ReplayOptions, ServeContext, Served
from .recording import Recording, load_recording
from .replay_handler import ReplayHTTPServer
from .routes import Routes, as_routes, build_routes

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_HEADER_BYTES",
    "Cassette",
    "ReplayOptions",
    "Recording",
    "Routes",
    "Served",
    "ReplayServer",
    "load_recording",
    "build_routes",
    "is_loopback",
]


class ReplayServer:
    """An HTTP server replaying recordings, on 127.0.0.1 by default.

    ``routes``: a cassette folder (or a :class:`Cassette`), a recording path
    (served at every path), a :class:`Routes`, or a mapping of URL path ->
    recording path (or :class:`Recording`, or a list of :class:`Record`).
    For a folder: ``ignore`` (jq paths left out of the body comparison),
    ``match`` (``"request"`` or ``"path"``) and ``allow_playback_repeats``;
    its unreadable files are reported through ``on_error``.  Keyword
    options are those of :class:`ReplayOptions`.  ``on_served`` is called
    (from a server thread) with each finished :class:`Served`; ``log``
    keeps the last 10,000, ``misses`` every request no recording answered.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, routes, host: str = "127.0.0.1", port: int = 0, *, options: ReplayOptions | None = None,
                 on_served=None, on_error=None, ignore: Sequence[str] = (), match: str = "request",
                 allow_playback_repeats: bool = False, **option_values):
        self.options = replace(options or ReplayOptions(), **option_values)
        self.on_error = on_error
        if isinstance(routes, (str, os.PathLike)) and os.path.isdir(routes):
            routes = load_cassette([os.fspath(routes)], ids=self.options.ids, matcher=Matcher(ignore, match),
                                   repeats=allow_playback_repeats, warn=self._report)
        self.routes: Routes | Cassette = routes if isinstance(routes, Cassette) else as_routes(routes, self.options.ids)
        self.host = host
        self.port = port
        self.on_served = on_served
        self.log: deque[Served] = deque(maxlen=10_000)
        self.misses: list[Served] = []
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
        address, port = self._httpd.server_address[:2]
        host = str(address)  # (a TCP server's address is text)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def url_for(self, path: str = "/") -> str:
        return self.url + "/" + path.lstrip("/")

    def start(self) -> ReplayServer:
        """Bind and serve in a background thread; returns at once."""
        if self._httpd is not None:
            return self
        context = ServeContext(options=self.options, find=self.find, stopping=self.stopping, track=self._track,
                               missed=self._missed, served=self._record, report=self._report)
        self._httpd = ReplayHTTPServer((self.host, self.port), context)
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

    def find(self, method: str, target: str, body: bytes) -> Recording | Miss:
        """The recording that answers a request, or why none does."""
        if isinstance(self.routes, Cassette):
            return self.routes.find(method, target, body)
        found = self.routes.match(target)
        if found is not None:
            return found
        return Miss(f"no recording is served at this path; routes: {', '.join(self.routes.all_paths())}", None, ())

    def describe(self) -> list[tuple[str, Recording]]:
        """(what it answers, recording) for every recording served."""
        return self.routes.describe()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # called from connection threads, through the ServeContext

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _missed(self, served: Served) -> None:
        with self._lock:
            self.misses.append(served)

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
