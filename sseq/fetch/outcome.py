"""How a fetch ended: the close reason, the exit status, and one line for
people that says what went wrong (never quoting a secret: callers scrub).

The words for network failures are here too, so that the run loop in
:mod:`sseq.fetch.transport` only decides what happened, not how to say it.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ExitStatus
from ..providers import maybe_http_error_message

__all__ = ["Outcome", "Failure", "EOF", "DONE", "IDLE_TIMEOUT", "MAX_TIME", "HTTP_ERROR", "NETWORK_ERROR", "broken_body_reason",
           "INTERRUPTED"]

# Close reasons, as written in sseq.close.
EOF = "eof"
DONE = "done"
IDLE_TIMEOUT = "idle-timeout"
MAX_TIME = "max-time"
HTTP_ERROR = "http-error"
NETWORK_ERROR = "network-error"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Outcome:
    """How a run ended: the close ``reason``, the exit ``status`` a command
    should use, a one-line ``message`` for people (None on success) and the
    last HTTP status seen."""

    reason: str
    status: ExitStatus
    message: str | None = None
    http_status: int | None = None


class Failure(Exception):
    """An attempt that got no answer: ``reason`` and a message for people."""

    def __init__(self, reason: str, message: str, retryable: bool = True,
                 status: ExitStatus = ExitStatus.NETWORK_ERROR):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retryable = retryable
        self.status = status


def max_time_reached(max_time: float | None, what: str = "") -> str:
    # (only a run with a --max-time reaches it; None is said plainly)
    limit = f" {max_time:g} s" if max_time is not None else ""
    return f"--max-time{limit} reached{what}"


def maybe_send_failure(exc: Exception, url: str, connect: float, read: float, read_is_max_time: bool,
                       max_time: float | None, scrub: Callable[[str], str]) -> Failure | None:
    """The Failure for an exception from sending a request (None: not a
    network problem, let it propagate).  ``connect`` and ``read`` are the
    timeouts used; ``read_is_max_time``: the read timeout was cut short by
    --max-time rather than set by --idle-timeout."""
    import requests

    host = _host_of(url)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Failure(NETWORK_ERROR, f"could not connect to {host} within {connect:g} s")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        if read_is_max_time:
            return Failure(MAX_TIME, max_time_reached(max_time, f" before {host} answered"), retryable=False)
        return Failure(IDLE_TIMEOUT, f"{host} sent no answer within {read:g} s")
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return Failure(NETWORK_ERROR, f"too many redirects from {host}", retryable=False)
    if isinstance(exc, requests.exceptions.SSLError):
        return Failure(NETWORK_ERROR, f"TLS error with {host}: {scrub(innermost_reason(exc))}", retryable=False)
    if isinstance(exc, (requests.exceptions.ConnectionError, OSError)):
        return Failure(NETWORK_ERROR, scrub(_connection_problem(exc, url)))
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader, ValueError)):
        return Failure(NETWORK_ERROR, scrub(f"cannot send the request: {exc}"), retryable=False,
                       status=ExitStatus.USAGE)
    return None


def maybe_read_ending(exc: Exception, events: int, timeout: float, by_max_time: bool, max_time: float | None,
                      scrub: Callable[[str], str]) -> tuple[str, str] | None:
    """(reason, message) for an exception from reading a stream's body
    (None: not a network problem, let it propagate).  ``timeout``: the
    read's; ``by_max_time``: --max-time, not --idle-timeout, set it."""
    from urllib3.exceptions import (
        DecodeError,
        ProtocolError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(exc, ReadTimeoutError):
        if by_max_time:
            return MAX_TIME, max_time_reached(max_time)
        return IDLE_TIMEOUT, f"no data for {timeout:g} s (--idle-timeout)"
    if isinstance(exc, DecodeError):
        return NETWORK_ERROR, f"cannot decode the response body: {innermost_reason(exc)}"
    if isinstance(exc, (ProtocolError, SSLError, http.client.HTTPException, OSError)):
        return NETWORK_ERROR, f"the connection broke after {events} event(s): {scrub(broken_body_reason(exc))}"
    return None


def http_error_message(status: int, reason: str | None, body: str) -> str:
    """``HTTP 429 Too Many Requests: <the provider's own words>``."""
    message = f"HTTP {status}" + (f" {reason}" if reason else "")
    said = maybe_http_error_message(body)
    return message + (f": {said}" if said else "")


def json_answer_message(content_type: str, body: str) -> str:
    """A JSON answer where a stream was expected: usually a request that
    did not ask to stream."""
    said = maybe_http_error_message(body)
    return (f"expected an event stream, the server answered with JSON ({content_type})"
            + (f": {said}" if said else "")
            + '; to get a stream, ask for one, e.g. "stream": true in the request body')


def finished_stream_verdict(inband_error: str | None, events: int, content_type: str) -> tuple[ExitStatus, str | None]:
    """The status of a stream that ended normally: an in-band error event
    (also inside an HTTP 200) still makes it a failure, and so does a page
    with no events (a login portal, a wrong URL) rather than a stream."""
    if inband_error is not None:
        return ExitStatus.HTTP_ERROR, f"the stream reported an error: {inband_error}"
    if events == 0 and content_type not in ("", "text/event-stream"):
        return ExitStatus.BAD_INPUT, f"expected an event stream, the server answered with {content_type} and no events"
    return ExitStatus.OK, None


def broken_body_reason(exc: BaseException) -> str:
    """Why a body stopped arriving, in a few words."""
    for cause in _causes(exc):
        if isinstance(cause, http.client.IncompleteRead):
            return "the server closed it in the middle of the body"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return innermost_reason(exc)


def innermost_reason(exc: BaseException) -> str:
    """The first line of the deepest cause: requests and urllib3 wrap the
    useful words several layers down."""
    last = exc
    for cause in _causes(exc):
        last = cause
    text = str(last) or type(last).__name__
    return text.splitlines()[0][:300]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def _connection_problem(exc: BaseException, url: str) -> str:
    from urllib3.exceptions import NameResolutionError

    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for cause in _causes(exc):
        if isinstance(cause, NameResolutionError):
            return f"cannot resolve host {host}"
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {host}:{port}"
        if isinstance(cause, ConnectionResetError):
            return f"connection reset by {host}:{port}"
    return f"cannot connect to {host}:{port}: {innermost_reason(exc)}"


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host
