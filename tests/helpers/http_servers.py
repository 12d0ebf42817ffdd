"""A real HTTP server for the fetch tests, on 127.0.0.1 and port 0.

It drips bytes the way real servers do: a test registers a route, a
function that gets an :class:`Exchange` and writes the answer piece by
piece (each piece its own HTTP chunk and its own TCP send), so chunk
boundaries can fall mid-line or mid-UTF-8; it can send keep-alive comments,
gzip the body with a sync flush per piece, stall, drop the connection in
the middle of an event (or reset it), answer with JSON, redirect, and wait
for the test before going on.  Every exchange is logged with the headers
and body it received.

    with DripServer() as server:
        @server.route("/stream")
        def stream(x):
            x.start()
            x.send(b"data: 1\\n\\n")
        url = server.url("/stream")
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest


def event(data: str | bytes, *, event: str | None = None, id: str | None = None, retry: int | None = None) -> bytes:
    """One SSE block on the wire."""
    if isinstance(data, str):
        data = data.encode()
    out = b""
    if event is not None:
        out += b"event: " + event.encode() + b"\n"
    if id is not None:
        out += b"id: " + id.encode() + b"\n"
    if retry is not None:
        out += b"retry: %d\n" % retry
    for line in data.split(b"\n"):
        out += b"data: " + line + b"\n"
    return out + b"\n"


class Exchange:
    """One request and the answer a route writes to it."""

    def __init__(self, handler: BaseHTTPRequestHandler, server: DripServer, body: bytes):
        self.handler = handler
        self.server = server
        split = urlsplit(handler.path)
        self.method = handler.command
        self.path = split.path
        self.query = dict(parse_qsl(split.query))
        self.headers = {name.lower(): value for name, value in handler.headers.items()}
        self.body = body
        self.started = False
        self.finished = False
        self.dropped = False
        self._chunked = True
        self._gzip = None
        self.sent = b""  # what the route sent, before any gzip

    # -- the answer ------------------------------------------------------------

    def start(self, status: int = 200, headers=(), content_type: str = "text/event-stream",
              gzip: bool = False, chunked: bool = True) -> None:
        """Send the status line and headers.  Not chunked means the body
        ends when the connection closes (no length)."""
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Cache-Control", "no-cache")
        for name, value in headers:
            h.send_header(name, value)
        if gzip:
            h.send_header("Content-Encoding", "gzip")
            self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        self._chunked = chunked
        h.end_headers()
        h.wfile.flush()
        self.started = True

    def send(self, data: bytes) -> None:
        """One piece: one HTTP chunk, one TCP send."""
        self.sent += data
        if self._gzip is not None:
            data = self._gzip.compress(data) + self._gzip.flush(zlib.Z_SYNC_FLUSH)
        self._write(data)

    def drip(self, data: bytes, size: int = 1, pause: float = 0.002) -> None:
        """Send ``data`` a few bytes at a time."""
        for start in range(0, len(data), size):
            self.send(data[start : start + size])
            if pause:
                time.sleep(pause)

    def send_split(self, data: bytes, cuts: list[int], pause: float = 0.01) -> None:
        """Send ``data`` cut at the given byte offsets."""
        bounds = [0, *cuts, len(data)]
        for a, b in zip(bounds, bounds[1:], strict=False):
            if b > a:
                self.send(data[a:b])
                time.sleep(pause)

    def finish(self) -> None:
        """End the body properly."""
        if self.finished or self.dropped:
            return
        tail = self._gzip.flush(zlib.Z_FINISH) if self._gzip is not None else b""
        if tail:
            self._write(tail)
        if self._chunked:
            self.handler.wfile.write(b"0\r\n\r\n")
        else:
            self._close_socket()
        self.finished = True

    def drop(self, reset: bool = False) -> None:
        """Cut the connection without ending the body (RST with reset)."""
        conn = self.handler.connection
        try:
            if reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.handler.close_connection = True
        self.dropped = True

    def stall(self, seconds: float) -> None:
        """Send nothing for a while (cut short when the server stops)."""
        self.server.stopping.wait(seconds)

    def wait_for(self, gate: threading.Event, timeout: float = 10.0) -> bool:
        """Hold the answer until the test opens the gate; False on timeout."""
        return gate.wait(timeout)

    def json(self, value, status: int = 200, headers=()) -> None:
        body = json.dumps(value).encode()
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for name, v in headers:
            h.send_header(name, v)
        h.end_headers()
        h.wfile.write(body)
        self.started = self.finished = True

    def redirect(self, location: str, status: int = 302) -> None:
        h = self.handler
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
        self.started = self.finished = True

    # -- internals --------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self._chunked:
            self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.handler.wfile.write(data)

    def _close_socket(self) -> None:
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args) -> None:
        pass

    def _any(self) -> None:
        drip = self.server.drip
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        exchange = Exchange(self, drip, body)
        with drip.lock:
            drip.log.append(exchange)
        route = drip.routes.get(exchange.path)
        try:
            if route is None:
                exchange.json({"error": {"message": f"no route {exchange.path}"}}, status=404)
                return
            route(exchange)
            if exchange.started and not exchange.finished and not exchange.dropped:
                exchange.finish()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Fifty clients connecting at once on a loaded machine overflow the
    # default backlog of 5 (a connection then waits for a SYN retry, or
    # fails: a 502 from the proxy in front of it).
    request_queue_size = 128
    drip: DripServer

    def handle_error(self, request, client_address) -> None:
        # A client that went away is part of the tests, not news; a route
        # that failed its own assertion is.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class DripServer:
    """The test server.  Use as a context manager; ``url(path)`` for
    127.0.0.1, ``url(path, host="localhost")`` for the same server under
    another host name (for cross-host redirects)."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        """``tls``: (certificate file, key file) to serve https."""
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Callable[[Exchange], None]] = {
            "/echo": _echo,
            "/redirect": _redirect,
        }
        self.log: list[Exchange] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.drip = self
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str):
        """Decorator: register a route function for ``path``."""

        def register(func):
            self.routes[path] = func
            return func

        return register

    def requests_to(self, path: str) -> list[Exchange]:
        with self.lock:
            return [x for x in self.log if x.path == path]

    def start(self) -> DripServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> DripServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _echo(x: Exchange) -> None:
    """One event whose data is what the server received."""
    x.start()
    payload = {"method": x.method, "path": x.path, "headers": x.headers, "body": x.body.decode("utf-8", "replace")}
    x.send(event(json.dumps(payload), event="echo"))


def _redirect(x: Exchange) -> None:
    x.redirect(x.query["to"], int(x.query.get("status", "302")))


def make_certificate(folder) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl)."""
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def drip_server():
    with DripServer() as server:
        yield server
