"""The HTTP side of the replay server: one request, one answer.

Any method on a route gets the recording as ``text/event-stream``; OPTIONS
is a CORS preflight; an unknown path is 404 (naming the routes); a client
resuming after the last event gets 204, which tells an EventSource to stop
reconnecting.  Requests over the limits are refused (see
:mod:`sseq.serve.request_limits`).  What is streamed is decided by
:class:`sseq.serve.playback.Playback`; this module only does the IO.

HTTP/1.1 bodies are chunked, so that a client can tell a complete stream
(final chunk) from a dropped one; every connection is closed after one
request.
"""

from __future__ import annotations

import errno
import socket
import socketserver
import time
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .playback import CUT, Playback, Sleep
from .rechunk import Rechunker
from .recording import Recording
from .request_limits import (
    BadBody,
    BodyTooLarge,
    BoundedReader,
    HeadersTooLarge,
    body_length,
    discard_body,
)

if TYPE_CHECKING:
    from .server import ReplayServer

# A socket error that only means the client went away.
_CLIENT_GONE_ERRNOS = (errno.EBADF, errno.ENOTCONN, errno.EPIPE, errno.ECONNRESET)


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
                if self._served.outcome == "stopped" and not self.server.replay.stopping.is_set():
                    self._served.outcome = "client-gone"
                self._served.ended = time.monotonic()
                self.server.replay._record(self._served)

    def handle_expect_100(self) -> bool:
        # Refuse a body that is too large before the client sends it.
        max_body = self.server.replay.options.max_body_bytes
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
        replay = self.server.replay
        self._served = self._new_served(0)
        if self.command == "OPTIONS":
            self._preflight()
            return
        max_body = replay.options.max_body_bytes
        if not self._body_is_acceptable(lambda: discard_body(self.rfile, self.headers, max_body)):
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
                         f"request bodies over {self.server.replay.options.max_body_bytes} bytes are refused")
            return False
        except BadBody as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, str(exc))
            return False
        return True

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

    def _no_content(self, headers: list[tuple[str, str]]) -> None:
        self._served.status = 204
        self._served.outcome = "complete"
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
                if type(action) is Sleep:
                    if replay.stopping.wait(action.seconds):
                        return
                elif replay.stopping.is_set():
                    return
                else:
                    out.write(action.data)
            out.end()
        finally:
            served.events = playback.events
            served.outcome = playback.outcome or served.outcome

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


class ReplayHTTPServer(ThreadingHTTPServer):
    """The standard threading server, one daemon thread per connection,
    reporting to the :class:`ReplayServer` that owns it."""

    daemon_threads = True
    request_queue_size = 1024
    replay: ReplayServer

    def __init__(self, address, replay: ReplayServer):
        self.replay = replay
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, ReplayHandler)

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
