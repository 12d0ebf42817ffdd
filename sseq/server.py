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

The HTTP side is the standard library's threading server, one daemon thread
per connection, HTTP/1.1 with chunked bodies so that a client can tell a
complete stream from a dropped one.  Requests are bounded: the request line
and headers together may not exceed ``max_header_bytes`` (431), a body may
not exceed ``max_body_bytes`` (413); neither is ever held in memory.
"""

from __future__ import annotations

import errno
import random
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


from .markers import in_band_error
from .records import Record
from .recording import Recording, load_recording
from .routes import Routes, as_routes, build_routes
from .wire import WireEncoder

__all__ = [
    "ReplayOptions",
    "Recording",
    "Routes",
    "Served",
    "ReplayServer",
    "load_recording",
    "build_routes",
]

KEEPALIVE_COMMENT = b": keep-alive\n\n"
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


# -- options -----------------------------------------------------------------


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
        if self.rechunk not in (None, "1", "random"):
            raise ValueError("rechunk must be None, '1' or 'random'")
        for name in ("drop_after", "error_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be 0 or more")


# -- what the server did -----------------------------------------------------


@dataclass
class Served:
    """One request and how it ended.

    ``outcome``: ``complete`` (every event sent and the body ended),
    ``dropped`` (cut by drop_after), ``error`` (error_after's event sent),
    ``client-gone``, ``stopped`` (the server stopped mid-stream), or
    ``refused`` (answered with an error status).  ``started``/``ended`` are
    ``time.monotonic()`` values.
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

    def describe(self) -> str:
        text = f"{self.client} {self.method} {self.path} {self.status}"
        if self.recording is not None:
            text += f" {self.recording}"
        if self.last_event_id:
            text += f" (Last-Event-ID {self.last_event_id})"
        if self.status == 200:
            text += f": {self.events} events, {self.outcome}"
        return text


# -- HTTP --------------------------------------------------------------------


class _HeadersTooLarge(Exception):
    pass


class _BodyTooLarge(Exception):
    pass


class _BadBody(Exception):
    pass


class _BoundedReader:
    """Stands in for rfile while the headers are read: refuses to read past
    the header budget, so a huge header is refused, never buffered."""

    def __init__(self, stream, budget: int):
        self.stream = stream
        self.budget = budget

    def readline(self, limit: int = -1) -> bytes:
        want = self.budget + 1 if limit < 0 else min(limit, self.budget + 1)
        line = self.stream.readline(want)
        self.budget -= len(line)
        if self.budget < 0:
            raise _HeadersTooLarge
        return line


class _Chunker:
    """Writes the body: HTTP/1.1 chunks (or raw bytes for HTTP/1.0), split
    as the rechunk mode says."""

    def __init__(self, sock: socket.socket, chunked: bool, mode: str | None, rng: random.Random):
        self.sock = sock
        self.chunked = chunked
        self.mode = mode
        self.rng = rng
        self.bytes = 0

    def _send(self, data: bytes) -> None:
        if self.chunked:
            self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.sock.sendall(data)
        self.bytes += len(data)

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.mode == "1":
            for i in range(len(data)):
                self._send(data[i : i + 1])
        elif self.mode == "random" and len(data) > 1:
            cuts = sorted(self.rng.sample(range(1, len(data)), min(len(data) - 1, self.rng.randint(1, 8))))
            start = 0
            for cut in cuts + [len(data)]:
                self._send(data[start:cut])
                start = cut
        else:
            self._send(data)

    def end(self) -> None:
        if self.chunked:
            self.sock.sendall(b"0\r\n\r\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sseq-serve"
    sys_version = ""
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s: %(explain)s\n"
    timeout = 60  # seconds a client may stall while sending or receiving
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    # The standard handler reads headers without a total bound and
    # dispatches on do_METHOD; this one bounds them and takes any method.
    def handle_one_request(self) -> None:
        self.close_connection = True
        self._cors_sent = False
        self._served: Served | None = None
        limit = self.server.replay.options.max_header_bytes
        try:
            self.raw_requestline = self.rfile.readline(limit + 1)
            if not self.raw_requestline:
                return
            if len(self.raw_requestline) > limit:
                self.requestline = self.request_version = self.command = ""
                self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG, "the request line is too long")
                return
            real = self.rfile
            self.rfile = _BoundedReader(real, limit - len(self.raw_requestline))
            try:
                ok = self.parse_request()
            except _HeadersTooLarge:
                self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                             f"request headers over {limit} bytes")
                return
            finally:
                self.rfile = real
            if not ok:
                self._linger()
                return
            self.close_connection = True
            self._respond()
        except TimeoutError:
            self.close_connection = True
        except ConnectionError:
            self.close_connection = True
        except OSError as exc:
            if exc.errno not in (errno.EBADF, errno.ENOTCONN, errno.EPIPE, errno.ECONNRESET):
                raise
            self.close_connection = True
        finally:
            if self._served is not None:
                if self._served.outcome == "stopped" and not self.server.replay.stopping.is_set():
                    self._served.outcome = "client-gone"
                self._served.ended = time.monotonic()
                self.server.replay._record(self._served)

    def handle_expect_100(self) -> bool:
        # Refuse a body that is too large before the client sends it.
        try:
            self._check_length()
        except _BodyTooLarge:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self._body_message())
            return False
        except _BadBody as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, str(exc))
            return False
        return super().handle_expect_100()

    def _body_message(self) -> str:
        return f"request bodies over {self.server.replay.options.max_body_bytes} bytes are refused"

    def log_request(self, code="-", size="-") -> None:
        pass  # one line per request is logged when it ends, by ReplayServer

    def log_message(self, format, *args) -> None:
        pass

    def send_error(self, code, message=None, explain=None) -> None:
        if self._served is None:
            self._served = self._new_served(int(code))
        self._served.status = int(code)
        super().send_error(code, message, explain)

    def end_headers(self) -> None:
        if not self._cors_sent:
            self._cors_sent = True
            for name, value in self._cors_headers():
                self.send_header(name, value)
        super().end_headers()

    # -- helpers

    def _new_served(self, status: int) -> Served:
        path = getattr(self, "path", "") or ""
        return Served(client=f"{self.client_address[0]}:{self.client_address[1]}", method=getattr(self, "command", "") or "",
                      path=path[:200], status=status, started=time.monotonic())

    def _cors_headers(self) -> list[tuple[str, str]]:
        allowed = self.server.replay.options.cors_origins
        if not allowed:
            return []
        if "*" in allowed:
            return [("Access-Control-Allow-Origin", "*")]
        origin = self.headers.get("Origin") if getattr(self, "headers", None) is not None else None
        headers = [("Vary", "Origin")]
        if origin in allowed:
            headers.append(("Access-Control-Allow-Origin", origin))
        return headers

    def _refuse(self, status: HTTPStatus, explain: str) -> None:
        self.send_error(status, None, explain)
        self._linger()

    def _linger(self) -> None:
        """Close after an error answer without resetting the connection: a
        client still sending must be able to read the answer.  What it sends
        meanwhile is read and discarded, for two seconds at most."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 2.0
            self.connection.settimeout(0.2)
            while time.monotonic() < deadline and not self.server.replay.stopping.is_set():
                try:
                    if not self.connection.recv(65536):
                        break
                except TimeoutError:
                    continue
        except OSError:
            pass

    def _check_length(self) -> int:
        if self.headers.get("Transfer-Encoding", "").lower().strip() not in ("", "identity"):
            return -1  # chunked: counted while read
        value = self.headers.get("Content-Length")
        if value is None:
            return 0
        if not value.strip().isdigit():
            raise _BadBody(f"bad Content-Length {value!r}")
        length = int(value)
        if length > self.server.replay.options.max_body_bytes:
            raise _BodyTooLarge
        return length

    def _discard_body(self) -> None:
        """Read the request body and throw it away, piece by piece: the
        replay does not depend on it, but the client must be able to finish
        sending before it reads the answer."""
        length = self._check_length()
        limit = self.server.replay.options.max_body_bytes
        if length >= 0:
            while length > 0:
                piece = self.rfile.read(min(length, 65536))
                if not piece:
                    raise ConnectionResetError
                length -= len(piece)
            return
        total = 0
        while True:
            line = self.rfile.readline(1026)
            if not line.endswith(b"\n"):
                raise _BadBody("bad chunked request body")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadBody("bad chunked request body") from None
            total += size
            if total > limit:
                raise _BodyTooLarge
            if size == 0:
                break
            left = size + 2
            while left > 0:
                piece = self.rfile.read(min(left, 65536))
                if not piece:
                    raise ConnectionResetError
                left -= len(piece)
        trailer_budget = 8192
        while True:
            line = self.rfile.readline(trailer_budget + 1)
            trailer_budget -= len(line)
            if trailer_budget < 0 or not line.endswith(b"\n"):
                raise _BadBody("bad chunked request trailer")
            if line in (b"\r\n", b"\n"):
                return

    def _respond(self) -> None:
        replay = self.server.replay
        self._served = self._new_served(0)
        if self.command == "OPTIONS":
            self._preflight()
            return
        try:
            self._discard_body()
        except _BodyTooLarge:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self._body_message())
            return
        except _BadBody as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, str(exc))
            return
        recording = replay.routes.match(self.path)
        if recording is None:
            paths = ", ".join(replay.routes.all_paths())
            self._plain(HTTPStatus.NOT_FOUND, f"404 no recording is served at this path; routes: {paths}\n")
            return
        self._served.recording = recording.name
        last_event_id = self.headers.get("Last-Event-ID")
        self._served.last_event_id = last_event_id
        start = recording.start_after(last_event_id)
        if start and not recording.events_from(start):
            # Nothing after the client's last event: 204 tells an
            # EventSource to stop reconnecting.
            self._served.status = 204
            self._served.outcome = "complete"
            self.send_response(HTTPStatus.NO_CONTENT)
            self.send_header("Connection", "close")
            self.end_headers()
            return
        self._stream(recording, start)

    def _plain(self, status: HTTPStatus, body: str) -> None:
        data = body.encode()
        self._served.status = int(status)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _preflight(self) -> None:
        self._served.status = 204
        self._served.outcome = "complete"
        self.send_response(HTTPStatus.NO_CONTENT)
        method = self.headers.get("Access-Control-Request-Method")
        self.send_header("Access-Control-Allow-Methods", method or "GET, POST, OPTIONS")
        requested = self.headers.get("Access-Control-Request-Headers")
        if requested:
            self.send_header("Access-Control-Allow-Headers", requested)
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    def _stream(self, recording: Recording, start: int) -> None:
        replay = self.server.replay
        options = replay.options
        served = self._served
        chunked = self.request_version >= "HTTP/1.1"
        served.status = 200
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        if self.command == "HEAD":
            served.outcome = "complete"
            return
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rng = random.Random(options.seed)
        out = _Chunker(self.connection, chunked, options.rechunk, rng)
        served.outcome = "stopped"
        for piece in _iter_replay(recording, start, options, served):
            if piece is _CUT:
                return  # no final chunk: the client sees a dropped stream
            wait, data = piece
            if wait > 0 and not self._wait(wait, out, options.keepalive):
                return
            if replay.stopping.is_set():
                return
            out.write(data)
        out.end()

    def _wait(self, seconds: float, out: _Chunker, keepalive: float | None) -> bool:
        """Sleep until the next event is due, sending keep-alive comments
        meanwhile; False when the server is stopping."""
        deadline = time.monotonic() + seconds
        stopping = self.server.replay.stopping
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            step = left if keepalive is None else min(left, keepalive)
            if stopping.wait(step):
                return False
            if keepalive is not None and deadline - time.monotonic() > 0:
                out.write(KEEPALIVE_COMMENT)


_CUT = object()


def _iter_replay(recording: Recording, start: int, options: ReplayOptions, served: Served):
    """What one connection gets: (seconds to wait first, bytes) pairs, and
    ``_CUT`` where drop_after cuts the connection.  Updates ``served``."""
    encoder = WireEncoder()
    steps = recording.steps
    remaining = recording.events_from(start)
    begin = time.monotonic()
    base_t = None
    if start:
        base_t = next((s.record.t for s in steps[start:] if s.record.t is not None), None)
    base_t = base_t or 0.0
    previous: Record | None = None
    for step in steps[start:]:
        record = step.record
        if step.is_event and options.error_after is not None and served.events >= options.error_after:
            message = f"sseq serve: error injected after {served.events} events (--error-after)"
            error = in_band_error(recording.provider, message, previous, recording.named_events)
            yield 0.0, encoder.encode(error, encoder.last_id)
            served.outcome = "error"
            return
        wait = 0.0
        if options.speed and record.t is not None:
            wait = begin + (record.t - base_t) / options.speed - time.monotonic()
        wire_id = step.wire_id if step.wire_id is not None else encoder.last_id
        yield wait, encoder.encode(record, wire_id)
        if step.is_event:
            served.events += 1
            remaining -= 1
            previous = record
            if options.drop_after is not None and served.events >= options.drop_after and remaining > 0:
                served.outcome = "dropped"
                yield _CUT
                return
    served.outcome = "complete"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    replay: ReplayServer

    def __init__(self, address, replay: ReplayServer):
        self.replay = replay
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up (getfqdn), which can
        # wait for DNS on a machine without a network; the name is unused.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        self.replay._track(request, True)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.replay._track(request, False)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # A handler bug must not go unnoticed, but one connection's failure
        # is not the server's: report it through the log callback.
        self.replay._report(f"error while serving {client_address[0]}:{client_address[1]}:\n{traceback.format_exc()}")


# -- the server --------------------------------------------------------------


class ReplayServer:
    """An HTTP server replaying recordings, on 127.0.0.1 by default.

    ``routes``: a recording path (served at every path), a :class:`Routes`,
    or a mapping of URL path -> recording path (or :class:`Recording`, or a
    list of :class:`Record`).  Keyword options are those of
    :class:`ReplayOptions`.  ``on_served`` is called (from a server thread)
    with each finished :class:`Served`; ``log`` keeps the last 10,000.

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
        self._httpd: _HTTPServer | None = None
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
        self._httpd = _HTTPServer((self.host, self.port), self)
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
        else:
            print(f"sseq serve: {text}", file=sys.stderr)

