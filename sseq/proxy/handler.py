"""The HTTP side of the proxy: one client request, forwarded, relayed,
recorded.

A request is read within limits (431 for headers, 413 for a body over the
limit, 400 for one that cannot be read), edited by the gateway, answered
from the cassette when the record mode says so, else sent upstream; the
answer's status and headers go back as the upstream sent them (hop-by-hop
ones aside) and its body through :func:`sseq.proxy.relay.relay`.  When the
upstream cannot be reached the client gets 502 (504 for a timeout) with a
JSON body saying what failed.  Every connection is closed after one
request.
"""

from __future__ import annotations

import errno
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

import orjson

from ..fetch.outcome import EOF, HTTP_ERROR
from ..http_server import TrackedHTTPServer
from ..serve.request_limits import (
    BadBody,
    BodyTooLarge,
    BoundedReader,
    HeadersTooLarge,
    body_length,
    read_body,
)
from .accounting import Proxied, UsageTap
from .gateway import UsageChunkFilter
from .recording import ExchangeRecording
from .relay import ClientStream, relay
from .upstream import (
    Upstream,
    UpstreamFailure,
    forwarded_request_headers,
    forwarded_response_headers,
    iter_body,
)

if TYPE_CHECKING:
    from .server import ProxyServer

_CLIENT_GONE_ERRNOS = (errno.EBADF, errno.ENOTCONN, errno.EPIPE, errno.ECONNRESET)
_NO_BODY_STATUSES = (204, 304)


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sseq-proxy"
    sys_version = ""
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s: %(explain)s\n"
    timeout = 60  # seconds a client may stall while sending its request
    # Garbage gets a status line too (the standard handler answers it as
    # HTTP/0.9: the bare text).
    default_request_version = "HTTP/1.0"
    server: ProxyHTTPServer

    def version_string(self) -> str:
        return self.server_version

    # The standard handler reads headers without a total bound and
    # dispatches on do_METHOD; this one bounds them and takes any method.
    def handle_one_request(self) -> None:
        self.close_connection = True
        self._entry: Proxied | None = None
        self._arrived = time.monotonic()
        proxy = self.server.proxy
        limit = proxy.options.max_header_bytes
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
                return  # parse_request answered 400 (or 505)
            self.close_connection = True
            self._entry = Proxied(client=self._client(), method=self.command, path=self.path)
            self._proxy()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except OSError as exc:
            if exc.errno not in _CLIENT_GONE_ERRNOS:
                raise
            self.close_connection = True
        finally:
            entry = self._entry
            if entry is not None:
                entry.duration = time.monotonic() - self._arrived
                proxy._finished(entry)

    def log_request(self, code="-", size="-") -> None:
        pass  # one line per request is logged when it ends

    def log_message(self, format, *args) -> None:
        pass

    @property
    def entry(self) -> Proxied:
        """The log entry of the exchange in progress (made as soon as the
        request is read, before anything here looks at it)."""
        assert self._entry is not None
        return self._entry

    def send_error(self, code, message=None, explain=None) -> None:
        entry = getattr(self, "_entry", None)
        if entry is None:
            entry = self._entry = Proxied(client=self._client(), method=getattr(self, "command", "") or "",
                                          path=getattr(self, "path", "") or "")
        entry.status = int(code)
        entry.message = explain
        super().send_error(code, message, explain)

    def handle_expect_100(self) -> bool:
        # Refuse a body that is too large before the client sends it.
        try:
            body_length(self.headers, self.server.proxy.options.max_body_bytes)
        except (BodyTooLarge, BadBody):
            return True  # the answer comes when the body is read
        return super().handle_expect_100()

    # -- the exchange

    def _proxy(self) -> None:
        proxy = self.server.proxy
        options = proxy.options
        entry = self.entry
        try:
            body: bytes | None = read_body(self.rfile, self.headers, options.max_body_bytes)
        except BodyTooLarge:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request bodies over {options.max_body_bytes} bytes are refused")
            return
        except BadBody as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, str(exc))
            return
        if not body and "Content-Length" not in self.headers and "Transfer-Encoding" not in self.headers:
            body = None  # no body at all, not an empty one
        edit = proxy.edits.edit(self.path, body)
        if edit.error is not None:
            self._json_error(400, "bad-request", edit.error)
            return
        body = edit.body
        # Where the answer comes from: the upstream, or (record modes that
        # replay) the recording the cassette holds for this request.
        upstream: Upstream | None = proxy.upstream
        target, played = self.path, None
        cassette = proxy.cassette
        key = None
        if cassette is not None:
            key = cassette.key(self.command, self.path, body)
            found, miss = cassette.find(self.command, self.path, body)
            if found is not None:
                upstream, target, played = cassette.player_upstream, found, cassette.last_name(found)
            elif miss is not None and not cassette.forwards:
                self._miss(miss)
                return
        assert upstream is not None  # a cassette that answers has started its player
        keepalive = options.keepalive if played is None else None
        headers = forwarded_request_headers(self.headers.items(),
                                            limit_encodings=edit.strip_usage_chunk or keepalive is not None)
        recording = None
        usage = None
        if proxy.wants_records:
            recording = ExchangeRecording(proxy.folder, self.command, self.path, headers, body,
                                          upstream.url_for(target), max_event_size=options.max_event_size,
                                          write=proxy.folder.path is not None and played is None, key=key)
            if proxy.wants_usage:
                usage = UsageTap(recording.file or played or f"proxy:{self.path.split('?')[0]}", proxy.estimator)
                recording.sink = usage
            entry.model = recording.request.get("model")
        token = proxy._begin(recording)
        try:
            self._forward(upstream, target, headers, body, recording, usage, edit.strip_usage_chunk, keepalive)
        finally:
            proxy._end(token)
            entry.recording = played or (recording.file if recording is not None else None)
            if played is not None and entry.outcome == EOF:
                entry.outcome = "replayed"

    def _forward(self, upstream, target, headers, body, recording, usage, strip_usage_chunk, keepalive) -> None:
        proxy = self.server.proxy
        entry = self.entry
        if recording is not None:
            recording.mark_sent()
        try:
            response = upstream.send(self.command, target, headers, body)
        except UpstreamFailure as failure:
            if recording is not None:
                recording.failed(failure.reason, failure.message)
            entry.outcome = failure.reason
            self._json_error(failure.status, failure.reason, failure.message)
            return
        token = proxy._watch_upstream(response)
        try:
            self._answer(response, recording, usage, strip_usage_chunk, keepalive)
        finally:
            proxy._unwatch_upstream(token)

    def _answer(self, response, recording, usage, strip_usage_chunk, keepalive) -> None:
        proxy = self.server.proxy
        entry = self.entry
        status = response.status
        entry.status = status
        upstream_headers = list(response.headers.items())
        if recording is not None:
            version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(getattr(response, "version", 11), "HTTP/1.1")
            recording.answered(status, version, upstream_headers)
        is_stream = _content_type(upstream_headers) == "text/event-stream"
        has_body = self.command != "HEAD" and status not in _NO_BODY_STATUSES and status >= 200
        chunked = has_body and self.request_version >= "HTTP/1.1"
        self.send_response_only(status, response.reason or None)
        for name, value in forwarded_response_headers(upstream_headers):
            if has_body and name.lower() == "content-length":
                continue  # the body is framed by this hop (chunked, or the close)
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        if not has_body:
            response.release_conn()
            if recording is not None:
                recording.close(EOF if status < 400 else HTTP_ERROR, None)
            entry.outcome = EOF
            return
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = ClientStream(self.connection, chunked)
        if not is_stream or status >= 400:
            keepalive = None
        body = iter_body(response, proxy.upstream.timeouts, self._arrived, keepalive, proxy.stopping)
        tap = recording.feed if recording is not None else _ignore
        ending = relay(body, client, tap, UsageChunkFilter() if strip_usage_chunk and is_stream else None)
        if ending.reason == EOF:
            response.release_conn()
        else:
            response.close()
        if ending.first_byte_at is not None:
            entry.ttfb = ending.first_byte_at - self._arrived
        reason = HTTP_ERROR if ending.reason == EOF and status >= 400 else ending.reason
        message: str | None = f"HTTP {status}" if reason == HTTP_ERROR else ending.message
        client_left = None
        if client.gone_at is not None and recording is not None:
            client_left = round(client.gone_at - recording.sent, 3)
        if recording is not None:
            recording.close(reason, message, client_left)
            entry.events = recording.events
        entry.outcome = reason
        entry.message = ending.message
        entry.client_left = client.gone
        if usage is not None:
            row = usage.finish()
            if row is not None:
                entry.usage = row
                entry.model = row.model or entry.model
                entry.input_tokens = row.input_tokens
                entry.output_tokens = row.output_tokens

    # -- answers of the proxy's own

    def _miss(self, miss) -> None:
        """No recording answers this request, in a mode that never forwards:
        serve's miss answer (404, JSON with the nearest recording and the
        difference), and the same on stderr."""
        from .cassette_modes import miss_answer

        status, data = miss_answer(miss)
        entry = self.entry
        entry.status = status
        entry.outcome = "no-recording"
        entry.message = miss.message.splitlines()[0]
        entry.miss = miss.message
        self.server.proxy.report(miss.message)
        self._whole_answer(status, data)

    def _json_error(self, status: int, reason: str, message: str) -> None:
        """An error the proxy answers itself, as a JSON body an SDK will
        surface: ``{"error": {"message", "type": "sseq_proxy_error", "code"}}``."""
        entry = self.entry
        entry.status = status
        entry.message = message
        data = orjson.dumps({"error": {"message": f"sseq proxy: {message}", "type": "sseq_proxy_error",
                                       "code": reason}})
        self._whole_answer(status, data)

    def _whole_answer(self, status: int, data: bytes) -> None:
        """A JSON answer of the proxy's own, sent whole."""
        try:
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            pass

    def _refuse(self, status: HTTPStatus, explain: str) -> None:
        self.send_error(status, None, explain)
        self._linger()

    def _linger(self) -> None:
        """Close after an error answer without resetting the connection: a
        client still sending must be able to read the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 2.0
            self.connection.settimeout(0.2)
            while time.monotonic() < deadline and not self.server.proxy.stopping.is_set():
                try:
                    if not self.connection.recv(65536):
                        break
                except TimeoutError:
                    continue
        except OSError:
            pass

    def _client(self) -> str:
        return f"{self.client_address[0]}:{self.client_address[1]}"


def _ignore(data: bytes) -> None:
    pass


def _content_type(headers: list[tuple[str, str]]) -> str:
    value = next((v for n, v in headers if n.lower() == "content-type"), "")
    return value.split(";")[0].strip().lower()


class ProxyHTTPServer(TrackedHTTPServer):
    """The shared threaded server, reporting to the :class:`ProxyServer` that owns it."""

    proxy: ProxyServer

    def __init__(self, address, proxy: ProxyServer):
        self.proxy = proxy
        super().__init__(address, ProxyHandler, proxy.track, proxy.report)
