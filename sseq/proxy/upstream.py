"""The proxy's network side toward the upstream: the only module of the
proxy that talks to it.

:class:`Upstream` sends one request (urllib3, a pool of kept-alive
connections per host, no retries, redirects passed back to the client) and
hands back the response as soon as its headers have arrived; a request that
gets no answer raises :class:`UpstreamFailure`, which already knows the
status (502, or 504 for a timeout) and the words the client is told.
:func:`iter_body` then gives the body's bytes exactly as they came off the
wire (still gzip when the upstream sent gzip), one read at a time, or
:data:`SILENCE` while a keep-alive is due.
"""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..fetch.outcome import IDLE_TIMEOUT, MAX_TIME, NETWORK_ERROR, broken_body_reason, innermost_reason

__all__ = ["Upstream", "UpstreamFailure", "BodyEnded", "SILENCE", "iter_body", "forwarded_request_headers",
           "forwarded_response_headers"]

# Headers that describe one connection, not the message (RFC 9110 7.6.1),
# and the ones the proxy sets itself for the hop it makes.
HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade",
))
_SET_BY_PROXY = frozenset(("host", "content-length", "expect"))
# Encodings the recorder can read back; others are not offered upstream.
READABLE_ENCODINGS = ("gzip", "x-gzip", "deflate", "identity")
_READ_SIZE = 65536
_COALESCE = 256 * 1024


class UpstreamFailure(Exception):
    """No answer from the upstream: ``status`` for the client (502 or 504),
    ``reason`` for the recording (a close reason), ``message`` for people."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class BodyEnded(Exception):
    """The upstream's body stopped before its end: ``reason`` (a close
    reason: idle-timeout, max-time, network-error) and a message."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class _Silence:
    def __repr__(self) -> str:
        return "SILENCE"


SILENCE = _Silence()  # iter_body: nothing arrived for a keep-alive interval


@dataclass(frozen=True)
class Timeouts:
    """``connect``: seconds to connect; ``idle``: the longest silence between
    two reads; ``max_time``: the whole exchange (None: unbounded)."""

    connect: float = 30.0
    idle: float = 300.0
    max_time: float | None = None


class Upstream:
    """The upstream base URL and a pool of connections to it."""

    def __init__(self, base_url: str, timeouts: Timeouts = Timeouts(), pool_size: int = 1024):
        import urllib3

        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r}: the upstream URL must be http:// or https:// and name a host")
        self.base_url = base_url
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.host = parts.hostname
        self.base_path = parts.path.rstrip("/")
        self.base_query = parts.query
        self.timeouts = timeouts
        # Connections are made as needed and kept for reuse; a pool this size
        # is never full (urllib3 would warn on stderr and drop the extras).
        self._pool = urllib3.PoolManager(num_pools=8, maxsize=pool_size, block=False, retries=False)

    def url_for(self, target: str) -> str:
        """The upstream URL of a request target (path and query) a client
        sent: the target appended to the base URL's path."""
        path, _, query = target.partition("?")
        if not path.startswith("/"):
            path = "/" + path
        query = "&".join(q for q in (self.base_query, query) if q)
        return f"{self.scheme}://{self.netloc}{self.base_path}{path}" + (f"?{query}" if query else "")

    def send(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None):
        """Send a request; the urllib3 response once its headers arrived
        (its body not read).  Raises UpstreamFailure."""
        import urllib3
        from urllib3.exceptions import (
            ConnectTimeoutError,
            NameResolutionError,
            NewConnectionError,
            ProtocolError,
            ReadTimeoutError,
            SSLError,
        )

        url = self.url_for(target)
        where = f"{self.host}:{urlsplit(url).port or (443 if self.scheme == 'https' else 80)}"
        timeouts = self.timeouts
        read = timeouts.idle if timeouts.max_time is None else min(timeouts.idle, timeouts.max_time)
        try:
            return self._pool.request(
                method, url, body=body, headers=urllib3.HTTPHeaderDict(headers), preload_content=False,
                decode_content=False, redirect=False, retries=False,
                timeout=urllib3.Timeout(connect=timeouts.connect, read=read),
            )
        except Exception as exc:  # mapped below; anything else is a bug and propagates
            cause = _innermost(exc)
            # (urllib3's NewConnectionError is a ConnectTimeoutError: refusals first.)
            if _is_refused(exc):
                raise UpstreamFailure(502, NETWORK_ERROR, f"connection refused by {where}") from None
            if isinstance(cause, NameResolutionError) or isinstance(exc, NameResolutionError):
                raise UpstreamFailure(502, NETWORK_ERROR, f"cannot resolve host {self.host}") from None
            if isinstance(exc, SSLError) or isinstance(cause, SSLError):
                raise UpstreamFailure(502, NETWORK_ERROR, f"TLS error with {where}: {innermost_reason(exc)}") from None
            if isinstance(exc, NewConnectionError):
                raise UpstreamFailure(502, NETWORK_ERROR, f"cannot connect to {where}: {innermost_reason(exc)}") from None
            if isinstance(exc, ConnectTimeoutError) or isinstance(cause, ConnectTimeoutError):
                raise UpstreamFailure(504, NETWORK_ERROR,
                                      f"could not connect to {where} within {timeouts.connect:g} s") from None
            if isinstance(exc, ReadTimeoutError) or isinstance(cause, (ReadTimeoutError, TimeoutError)):
                reason = MAX_TIME if read < timeouts.idle else IDLE_TIMEOUT
                raise UpstreamFailure(504, reason, f"{where} sent no answer within {read:g} s") from None
            if isinstance(exc, (ProtocolError, OSError, urllib3.exceptions.HTTPError)):
                raise UpstreamFailure(502, NETWORK_ERROR, f"{where}: {innermost_reason(exc)}") from None
            raise

    def close(self) -> None:
        self._pool.clear()


def _innermost(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = getattr(exc, "reason", None) or exc.__cause__ or exc.__context__
        if not isinstance(nxt, BaseException):
            break
        exc = nxt
    return exc


def _is_refused(exc: BaseException) -> bool:
    current: object = exc
    for _ in range(8):
        if isinstance(current, ConnectionRefusedError):
            return True
        if not isinstance(current, BaseException):
            return False
        current = getattr(current, "reason", None) or current.__cause__ or current.__context__
    return False


def forwarded_request_headers(headers: Iterable[tuple[str, str]], limit_encodings: bool) -> list[tuple[str, str]]:
    """A client's headers as the upstream gets them: hop-by-hop ones (and
    those the Connection header names) dropped, Host and Content-Length left
    to the proxy's own request, Accept-Encoding narrowed to what a recording
    can be read back from (``identity`` only with ``limit_encodings``: the
    proxy then edits the body)."""
    pairs = list(headers)
    named = {token.strip().lower() for name, value in pairs if name.lower() == "connection" for token in value.split(",")}
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        key = name.lower()
        if key in HOP_BY_HOP or key in _SET_BY_PROXY or key in named:
            continue
        if key == "accept-encoding":
            if limit_encodings:
                continue
            tokens = [t.strip() for t in value.split(",") if t.split(";")[0].strip().lower() in READABLE_ENCODINGS]
            if not tokens:
                continue
            value = ", ".join(tokens)
        out.append((name, value))
    if limit_encodings:
        out.append(("Accept-Encoding", "identity"))
    return out


def forwarded_response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """An upstream answer's headers as the client gets them: hop-by-hop ones
    dropped (the proxy frames the body itself), everything else as sent."""
    pairs = list(headers)
    named = {token.strip().lower() for name, value in pairs if name.lower() == "connection" for token in value.split(",")}
    return [(n, v) for n, v in pairs if n.lower() not in HOP_BY_HOP and n.lower() not in named]


def upstream_socket(response) -> socket.socket | None:
    """The socket a response's body comes through, None when unknown.

    An answer with ``Connection: close`` has its connection's socket
    dropped by http.client as soon as the headers are read; the body's
    reader keeps it open, and is where it is found then (without it the
    reads would get no timeouts of their own, no coalescing, and stopping
    the proxy could not unblock them)."""
    connection = getattr(response, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        reader = getattr(getattr(response, "_fp", None), "fp", None)  # http.client's buffered socket reader
        sock = getattr(getattr(reader, "raw", None), "_sock", None)  # (socket.SocketIO)
    return sock if isinstance(sock, socket.socket) else None


def iter_body(response, timeouts: Timeouts, started: float, keepalive: float | None,
              stop: threading.Event) -> Iterator[object]:
    """The body's wire bytes, one read at a time (b"" never), or SILENCE
    after ``keepalive`` seconds without any.  Ends at the body's end; raises
    BodyEnded when it stops early (a silence past the idle timeout, the
    max-time, a broken connection, ``stop`` set)."""
    if keepalive is None:
        yield from _iter_direct(response, timeouts, started, stop)
    else:
        yield from _iter_with_silences(response, timeouts, started, keepalive, stop)


def _next_timeout(timeouts: Timeouts, started: float) -> tuple[float, bool]:
    """The longest wait for the next read, and whether max-time set it."""
    if timeouts.max_time is None:
        return timeouts.idle, False
    remaining = timeouts.max_time - (time.monotonic() - started)
    if remaining < timeouts.idle:
        return max(remaining, 0.0), True
    return timeouts.idle, False


def _read_failure(exc: BaseException, timeout: float, by_max_time: bool, max_time: float | None,
                  stop: threading.Event) -> BodyEnded | None:
    from urllib3.exceptions import HTTPError, ReadTimeoutError

    if stop.is_set():
        return BodyEnded("interrupted", "the proxy was stopped")
    if isinstance(exc, ReadTimeoutError) or isinstance(exc, TimeoutError):
        if by_max_time:
            return BodyEnded(MAX_TIME, f"--max-time {max_time:g} s reached")
        return BodyEnded(IDLE_TIMEOUT, f"no data from the upstream for {timeout:g} s (--idle-timeout)")
    if isinstance(exc, (HTTPError, OSError)) or type(exc).__module__.startswith("http.client"):
        return BodyEnded(NETWORK_ERROR, f"the upstream connection broke: {broken_body_reason(exc)}")
    return None


def _iter_direct(response, timeouts: Timeouts, started: float, stop: threading.Event) -> Iterator[bytes]:
    sock = upstream_socket(response)
    # Reads are coalesced on a kept-alive connection only, as before the
    # socket of a Connection: close answer was found: there (bench/
    # proxy_bench.py's upstream) coalescing measured 720-860 MB/s for the
    # plain relay against 980 without, and no clear gain when recording.
    coalescing = sock is not None and getattr(getattr(response, "connection", None), "sock", None) is sock
    while True:
        timeout, by_max_time = _next_timeout(timeouts, started)
        if timeout <= 0:
            raise BodyEnded(MAX_TIME, f"--max-time {timeouts.max_time:g} s reached")
        if sock is not None:
            try:
                sock.settimeout(timeout)
            except OSError:  # closed: the body is over (http.client closes it at the last chunk)
                sock = None
        try:
            chunk = response.read1(_READ_SIZE, decode_content=False)
            # A fast upstream: take what has already arrived too, so that a
            # big stream moves in fewer, larger pieces (never waiting for more).
            if chunk and len(chunk) < _COALESCE and coalescing and sock is not None and _ready(sock):
                pieces, size = [chunk], len(chunk)
                while size < _COALESCE and _ready(sock):
                    more = response.read1(_READ_SIZE, decode_content=False)
                    if not more:
                        break
                    pieces.append(more)
                    size += len(more)
                chunk = b"".join(pieces)
        except Exception as exc:
            ending = _read_failure(exc, timeout, by_max_time, timeouts.max_time, stop)
            if ending is None:
                raise
            raise ending from None
        if not chunk:
            if stop.is_set():
                raise BodyEnded("interrupted", "the proxy was stopped")
            return
        yield chunk


def _ready(sock: socket.socket) -> bool:
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return False


_END = object()


def _iter_with_silences(response, timeouts: Timeouts, started: float, keepalive: float,
                        stop: threading.Event) -> Iterator[object]:
    """Reads happen on a helper thread, so that a silence can be noticed
    (and a keep-alive sent) without giving up a read in progress."""
    arrived: queue.Queue = queue.Queue()
    no_timeouts = Timeouts(timeouts.connect, 10 * 365 * 86400.0, None)

    def pump() -> None:
        try:
            for chunk in _iter_direct(response, no_timeouts, started, stop):
                arrived.put(chunk)
            arrived.put(_END)
        except BaseException as exc:  # handed to the consumer, which decides
            arrived.put(exc)

    reader = threading.Thread(target=pump, name="sseq-proxy-read", daemon=True)
    reader.start()
    last = time.monotonic()
    try:
        while True:
            timeout, by_max_time = _next_timeout(timeouts, started)
            silent_for = time.monotonic() - last
            wait = min(keepalive, timeout - silent_for) if not by_max_time else min(keepalive, timeout)
            if wait <= 0:
                if by_max_time:
                    raise BodyEnded(MAX_TIME, f"--max-time {timeouts.max_time:g} s reached")
                raise BodyEnded(IDLE_TIMEOUT, f"no data from the upstream for {timeouts.idle:g} s (--idle-timeout)")
            try:
                item = arrived.get(timeout=wait)
            except queue.Empty:
                if stop.is_set():
                    raise BodyEnded("interrupted", "the proxy was stopped") from None
                yield SILENCE
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            last = time.monotonic()
            yield item
    finally:
        if reader.is_alive():
            # The consumer gave up (a timeout): unblock the read.
            sock = upstream_socket(response)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            reader.join(2)
