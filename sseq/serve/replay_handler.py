"""The HTTP side of the replay server: one request, one answer.

A request is read whole (its body is part of what a cassette matches) and
answered with its recording as recorded: the status, the recorded headers
(see :func:`sseq.serve.recording.served_headers`) and the events, or the
body of a non-stream answer.  A recording without headers is sent as
``text/event-stream``.  OPTIONS is a CORS preflight; a request no recording
answers gets 404 (see :func:`miss_body`); a client resuming after the last
event gets 204, which tells an EventSource to stop reconnecting.  Requests
over the limits are refused (see :mod:`sseq.serve.request_limits`).  What
is streamed is decided by :class:`sseq.serve.playback.Playback`; this
module only does the IO.

HTTP/1.1 bodies are chunked, so that a client can tell a complete stream
(final chunk) from a dropped one; every connection is closed after one
request.
"""

from __future__ import annotations

import errno
import socket
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

import orjson

from ..cassette.matching import Miss
from ..http_server import TrackedHTTPServer
from .context import ServeContext, Served
from .playback import CUT, Playback, Send, Sleep
from .rechunk import Rechunker
from .recording import Recording
from .request_limits import (
    BadBody,
    BodyTooLarge,
    BoundedReader,
    HeadersTooLarge,
    body_length,
    read_body,
)

# A socket error that only means the client went away.
_CLIENT_GONE_ERRNOS = (errno.EBADF, errno.ENOTCONN, errno.EPIPE, errno.ECONNRESET)


# A request no recording answers.  404 is not retried by the SDKs (they
# retry 408, 409, 429 and 5xx), so the miss reaches the test at once, as
# the SDK's not-found error with sseq's message in it.
MISS_STATUS = HTTPStatus.NOT_FOUND
# Sent with a stream whose recording has no headers of its own.
STREAM_HEADERS = (("Content-Type", "text/event-stream"), ("Cache-Control", "no-store"))


def miss_body(miss: Miss) -> bytes:
    """The JSON a client gets when no recording matched: shaped as the
    providers shape errors (``error.message``, ``error.type``; Anthropic's
    top-level ``type``; Gemini's ``code`` and ``status``), so that an SDK
    shows the message, which names the nearest recording and the diff."""
    return orjson.dumps({
        "type": "error",
        "error": {"message": f"sseq serve: {miss.message}", "type": "sseq_no_recording", "code": int(MISS_STATUS),
                  "status": "NOT_FOUND", "nearest": miss.nearest, "diff": list(miss.diff)},
    }) + b"\n"


class BodyWriter:
    """Writes a response body straight to the socket: each piece the
    rechunker makes is one HTTP/1.1 chunk (raw bytes for HTTP/1.0)."""

    def __init__(self, sock: socket.socket, chunked: bool, rechunker: Rechunker) -> None:
        self.sock = sock
        self.chunked = chunked
        self.rechunker = rechunker

    def write(self, data: bytes) -> None:
        for piece in self.rechunker.split(data):
            self.sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if self.chunked else piece)

    def end(self) -> None:
        if self.chunked:
            self.sock.sendall(b"0\r\n\r\n")


class ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sseq-serve"
    sys_version = ""
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s: %(explain)s\n"
    timeout = 60  # seconds a client may stall while sending or receiving
    server: ReplayHTTPServer

    def version_string(self) -> str:
        return self.server_version

    # The standard handler reads headers without a total bound and
    # dispatches on do_METHOD; this one bounds them and takes any method.
    def handle_one_request(self) -> None:
        self.close_connection = True
        self._cors_sent = False
        self._served: Served | None = None
        limit = self.server.context.options.max_header_bytes
        try:
            self.raw_requestline = self.rfile.readline(limit + 1)
            if not self.raw_requestline:
                return
            if len(self.raw_requestline) > limit:
                self.requestline = self.request_version = self.command = ""
                self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG, "the request line is too long")
                return
            real = self.rfile
            self.rfile = BoundedReader(real, limit - len(self.raw_requestline))
            try:
                ok = self.parse_request()
            except HeadersTooLarge:
                self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"request headers over {limit} bytes")
                return
            finally:
                self.rfile = real
            if not ok:
                self._linger()
                return
            self.close_connection = True
            self._respond()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except OSError as exc:
            if exc.errno not in _CLIENT_GONE_ERRNOS:
                raise
            self.close_connection = True
        finally:
            if self._served is not None:
                if self._served.outcome == "stopped" and not self.server.context.stopping.is_set():
                    self._served.outcome = "client-gone"
                self._served.ended = time.monotonic()
                self.server.context.served(self._served)

    def handle_expect_100(self) -> bool:
        # Refuse a body that is too large before the client sends it.
        max_body = self.server.context.options.max_body_bytes
        if not self._body_is_acceptable(lambda: body_length(self.headers, max_body)):
            return False
        return super().handle_expect_100()

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

    # -- answers

    def _respond(self) -> None:
        context = self.server.context
        self._served = self._new_served(0)
        if self.command == "OPTIONS":
            self._preflight()
            return
        max_body = context.options.max_body_bytes
        body: list[bytes] = []
        if not self._body_is_acceptable(lambda: body.append(read_body(self.rfile, self.headers, max_body))):
            return
        found = context.find(self.command, self.path, body[0])
        if isinstance(found, Miss):
            self._current.miss = found.message
            self._current.status = int(MISS_STATUS)
            context.missed(self._current)
            self._answer(int(MISS_STATUS), [("Content-Type", "application/json")], miss_body(found))
            return
        recording = found
        self._current.recording = recording.name
        if recording.body is not None:
            self._current.outcome = "complete"
            self._answer(recording.status, list(recording.headers or ()), recording.body.encode())
            return
        last_event_id = self.headers.get("Last-Event-ID")
        self._current.last_event_id = last_event_id
        start = recording.start_after(last_event_id)
        if start and not recording.events_from(start):
            # Nothing after the client's last event: 204 tells an
            # EventSource to stop reconnecting.
            self._no_content([])
            return
        self._stream(recording, start)

    def _body_is_acceptable(self, read) -> bool:
        """Run ``read`` (a check or a read of the body); on a body over the
        limit or badly framed, refuse the request and return False."""
        try:
            read()
        except BodyTooLarge:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                         f"request bodies over {self.server.context.options.max_body_bytes} bytes are refused")
            return False
        except BadBody as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, str(exc))
            return False
        return True

    def _head(self, status: int, headers: list[tuple[str, str]]) -> None:
        """The status line and headers: the recorded ones and the framing
        sseq adds (Connection: close, a Date when none was recorded)."""
        self._current.status = status
        self.send_response_only(status)
        names = {name.lower() for name, _ in headers}
        if "date" not in names:
            self.send_header("Date", formatdate(usegmt=True))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """A whole answer: a recorded non-stream one, or sseq's miss."""
        self._head(status, headers)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _no_content(self, headers: list[tuple[str, str]]) -> None:
        self._current.status = 204
        self._current.outcome = "complete"
        self.send_response(HTTPStatus.NO_CONTENT)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()

    def _preflight(self) -> None:
        headers = [("Access-Control-Allow-Methods", self.headers.get("Access-Control-Request-Method")
                    or "GET, POST, OPTIONS")]
        requested = self.headers.get("Access-Control-Request-Headers")
        if requested:
            headers.append(("Access-Control-Allow-Headers", requested))
        headers += [("Access-Control-Max-Age", "600"), ("Content-Length", "0")]
        self._no_content(headers)

    def _stream(self, recording: Recording, start: int) -> None:
        context = self.server.context
        options = context.options
        served = self._current
        chunked = self.request_version >= "HTTP/1.1"
        self._head(recording.status, list(STREAM_HEADERS if recording.headers is None else recording.headers))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        if self.command == "HEAD":
            served.outcome = "complete"
            return
        # Events are small and must arrive when they are sent.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        out = BodyWriter(self.connection, chunked, Rechunker(options.rechunk, options.seed))
        playback = Playback(recording, start, speed=options.speed, keepalive=options.keepalive,
                            drop_after=options.drop_after, error_after=options.error_after)
        served.outcome = "stopped"  # unless the playback ends; client-gone when not stopping
        try:
            for action in playback:
                if action is CUT:
                    return  # no final chunk: the client sees a dropped stream
                if isinstance(action, Sleep):
                    if context.stopping.wait(action.seconds):
                        return
                elif context.stopping.is_set():
                    return
                elif isinstance(action, Send):
                    out.write(action.data)
            out.end()
        finally:
            served.events = playback.events
            served.outcome = playback.outcome or served.outcome

    # -- helpers

    @property
    def _current(self) -> Served:
        """What this request is logged as (made before any answer)."""
        if self._served is None:
            self._served = self._new_served(0)
        return self._served

    def _new_served(self, status: int) -> Served:
        path = getattr(self, "path", "") or ""
        return Served(client=f"{self.client_address[0]}:{self.client_address[1]}", method=getattr(self, "command", "") or "",
                      path=path[:200], status=status, started=time.monotonic())

    def _cors_headers(self) -> list[tuple[str, str]]:
        allowed = self.server.context.options.cors_origins
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
            while time.monotonic() < deadline and not self.server.context.stopping.is_set():
                try:
                    if not self.connection.recv(65536):
                        break
                except TimeoutError:
                    continue
        except OSError:
            pass


class ReplayHTTPServer(TrackedHTTPServer):
    """The shared threaded server, reporting through its :class:`ServeContext`."""

    context: ServeContext

    def __init__(self, address, context: ServeContext):
        self.context = context
        super().__init__(address, ReplayHandler, context.track, context.report)
