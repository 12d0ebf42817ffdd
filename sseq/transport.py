"""fetch's network side: one streamed HTTP request, recorded as records.

The only module that touches the network for ``fetch``.  A
:class:`FetchRun` is iterated for its records: one ``sseq.open`` when the
answer's headers arrive, each event as soon as the bytes that complete it
have been read, and one ``sseq.close`` saying why it ended::

    from sseq.transport import FetchRequest, iter_fetch
    for record in iter_fetch(FetchRequest("http://127.0.0.1:8765/")):
        print(record.event, record.data)

What it takes care of: connect, idle and whole-run time limits; retrying a
429/5xx answer or a failed connection with backoff that honours
``Retry-After``; reconnecting after a dropped stream with ``Last-Event-ID``
after the server's ``retry:`` delay, without repeating or losing a record;
stopping at the terminal marker; secrets kept out of the records and out of
redirects to other hosts.  ``requests`` is imported only when a run starts.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import urlsplit

import orjson

from .errors import ExitStatus
from .markers import is_terminal, maybe_error
from .parser import DEFAULT_MAX_EVENT_SIZE, Event, EventStreamParser, EventTooLarge, RetryOnly
from .records import CLOSE, OPEN, Record, record_from_item
from .redact import Scrubber, drop_secret_headers, redact_headers, redact_url, secret_values

__all__ = ["FetchRequest", "FetchRun", "Outcome", "check_url", "fetch", "iter_fetch", "BODY_LIMIT"]

BODY_LIMIT = 64 * 1024  # the most of an error body kept in sseq.close
MAX_BACKOFF = 30.0
_RETRY_STATUSES = frozenset((408, 425, 429))
_MODEL_IN_PATH = re.compile(r"/models/([^/:?]+)")

# Close reasons.
EOF = "eof"
DONE = "done"
IDLE_TIMEOUT = "idle-timeout"
MAX_TIME = "max-time"
HTTP_ERROR = "http-error"
NETWORK_ERROR = "network-error"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class FetchRequest:
    """What to fetch and how.

    ``method``: None means POST when there is a body, else GET.
    ``headers``: (name, value) pairs sent after sseq's defaults; a value of
    None removes a default header.  ``json``: the body is JSON (sets
    Content-Type, and Accept also takes JSON).  Times are seconds;
    ``idle_timeout`` is the longest silence allowed between two reads,
    ``max_time`` bounds the whole run, retries included.  ``retries``: how
    many times in a row a failed attempt is tried again.
    """

    url: str
    method: str | None = None
    headers: tuple[tuple[str, str | None], ...] = ()
    body: bytes | None = None
    json: bool = False
    connect_timeout: float = 30.0
    idle_timeout: float = 300.0
    max_time: float | None = None
    retries: int = 0
    last_event_id: str | None = None
    until_done: bool = False
    include_all: bool = False
    raw_data: bool = False
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE

    @property
    def effective_method(self) -> str:
        if self.method:
            return self.method.upper()
        return "POST" if self.body is not None else "GET"


@dataclass(frozen=True)
class Outcome:
    """How a run ended: the close ``reason``, the exit ``status`` a command
    should use, a one-line ``message`` for people (None on success) and the
    last HTTP status seen."""

    reason: str
    status: ExitStatus
    message: str | None = None
    http_status: int | None = None


def check_url(url: str) -> None:
    """Raise ValueError with a reason when ``url`` cannot be fetched."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{redact_url(url)!r}: the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{redact_url(url)!r}: the URL has no host")


def iter_fetch(request: FetchRequest, **options) -> Iterator[Record]:
    """The records of one fetch; see :class:`FetchRun` for ``options``."""
    return iter(FetchRun(request, **options))


def fetch(request: FetchRequest, write: Callable[[Record], None], **options) -> Outcome:
    """Run one fetch, handing each record to ``write``; returns the Outcome.

    Ctrl-C (KeyboardInterrupt) still gets its ``sseq.close`` written before
    it propagates, wherever it lands.
    """
    run = FetchRun(request, **options)
    records = iter(run)
    try:
        for record in records:
            write(record)
    except KeyboardInterrupt:
        records.close()
        close = run.interrupt()
        if close is not None:
            write(close)
        raise
    finally:
        records.close()
    assert run.outcome is not None
    return run.outcome


class _Failure(Exception):
    """An attempt that got no answer: ``reason`` and a message for people."""

    def __init__(self, reason: str, message: str, retryable: bool = True,
                 status: ExitStatus = ExitStatus.NETWORK_ERROR):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retryable = retryable
        self.status = status


class FetchRun:
    """One fetch.  Iterate it (once) for its records.

    ``raw``: a binary stream that also gets the exact body bytes of the
    event stream (after content decoding).  ``notify``: called with one-line
    messages for people (retries, reconnections, warnings).  ``progress``:
    called with the run after every read.  While and after iterating,
    ``events``, ``bytes``, ``first_event_t``, ``elapsed()`` and, at the end,
    ``outcome`` describe the run.
    """

    def __init__(
        self,
        request: FetchRequest,
        raw: BinaryIO | None = None,
        notify: Callable[[str], None] | None = None,
        progress: Callable[[FetchRun], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        check_url(request.url)
        self.request = request
        self.raw = raw
        self.notify = notify or (lambda message: None)
        self.progress = progress or (lambda run: None)
        self.sleep = sleep
        self.events = 0
        self.bytes = 0
        self.first_event_t: float | None = None
        self.outcome: Outcome | None = None
        self._start = time.monotonic()
        self._origin: float | None = None  # t = 0: when the recorded request was sent
        self._opened = False
        self._closed = False
        self._status: int | None = None
        self._last_id = request.last_event_id or ""
        self._server_retry: int | None = None  # ms, from the stream's retry: field
        self._tail: deque[int] = deque(maxlen=100_000)  # events carrying _last_id
        self._session = None
        self._response = None
        self._started = self._resumed_started = ""
        self._error_body: str | None = None
        self._inband_error: str | None = None
        self._content_type = ""
        self._scrub = Scrubber(secret_values(request.headers, request.url))
        self._request_info = _describe_body(request)

    # -- public ---------------------------------------------------------------

    def __iter__(self) -> Iterator[Record]:
        return self._run()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def interrupt(self) -> Record | None:
        """End the run because of Ctrl-C: the ``sseq.close`` record still to
        write, or None when nothing was opened (or it is already closed)."""
        self._release()
        if self._closed:
            return None
        return self._end(INTERRUPTED, ExitStatus.INTERRUPTED, "interrupted")

    # -- the run ----------------------------------------------------------------

    def _run(self) -> Iterator[Record]:
        import requests  # noqa: F401  (before the clock starts: --max-time is the network's time)

        request = self.request
        failures = 0  # failed attempts in a row
        resume = False
        self._start = time.monotonic()
        try:
            while True:
                try:
                    response = self._send()
                except _Failure as failure:
                    delay = _backoff(failures)
                    if failure.retryable and self._may_retry(failures, delay):
                        failures += 1
                        self.notify(f"{failure.message}; retrying in {delay:g} s ({failures} of {request.retries})")
                        self.sleep(delay)
                        continue
                    close = self._end(failure.reason, failure.status, failure.message)
                    if close is not None:
                        yield close
                    return
                status = response.status_code
                if status in _RETRY_STATUSES or status >= 500:
                    delay, why = _retry_delay(response, failures)
                    if self._may_retry(failures, delay):
                        failures += 1
                        self._release()
                        self.notify(f"HTTP {status} {response.reason or ''}".rstrip()
                                    + f"; retrying in {delay:g} s{why} ({failures} of {request.retries})")
                        self.sleep(delay)
                        continue
                yield self._open(response, resume)
                if not 200 <= status < 300:
                    yield self._http_error(response)
                    return
                if status == 204:  # the server's way to say "do not reconnect"
                    yield self._close(EOF, ExitStatus.OK)
                    return
                if _is_json(response):
                    yield self._json_answer(response)
                    return
                self._content_type = _content_type(response)
                events_before = self.events
                ending = yield from self._stream(response, resume)
                reason, message = ending
                if self.events > events_before:
                    failures = 0
                if reason in (EOF, DONE, MAX_TIME) or reason is _TOO_LARGE:
                    if reason is _TOO_LARGE:
                        yield self._close(NETWORK_ERROR, ExitStatus.BAD_INPUT, message)
                    elif reason == MAX_TIME:
                        yield self._close(MAX_TIME, ExitStatus.NETWORK_ERROR, message)
                    else:
                        yield self._finish(reason)
                    return
                # A drop, a stall, or an end before the terminal marker.
                delay = self._server_retry / 1000 if self._server_retry is not None else _backoff(failures)
                resumable = bool(self._last_id) or self.events == 0
                if self._may_retry(failures, delay) and resumable:
                    failures += 1
                    resume = True
                    self._release()
                    where = f" with Last-Event-ID {self._last_id}" if self._last_id else ""
                    self.notify(f"{message}; reconnecting in {delay:g} s{where} ({failures} of {request.retries})")
                    self.sleep(delay)
                    continue
                if request.retries and not resumable and failures < request.retries:
                    message += " (not reconnecting: the stream has no event ids, so a new connection would repeat its events)"
                if reason == _UNFINISHED:
                    self.notify(message)
                    yield self._finish(EOF)
                else:
                    yield self._close(reason, ExitStatus.NETWORK_ERROR, message)
                return
        except KeyboardInterrupt:
            close = self.interrupt()
            if close is not None:
                yield close
            raise
        finally:
            self._release()
            if self._session is not None:
                self._session.close()
                self._session = None

    def _may_retry(self, failures: int, delay: float) -> bool:
        if failures >= self.request.retries:
            return False
        remaining = self._remaining()
        return remaining is None or delay < remaining

    def _remaining(self) -> float | None:
        if self.request.max_time is None:
            return None
        return self.request.max_time - self.elapsed()

    def _t(self) -> float:
        return round(time.monotonic() - (self._origin if self._origin is not None else self._start), 3)

    # -- one attempt ----------------------------------------------------------------

    def _send(self):
        """Send the request; the response once its headers have arrived."""
        import requests

        request = self.request
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            raise _Failure(MAX_TIME, f"--max-time {request.max_time:g} s reached", retryable=False)
        connect = request.connect_timeout if remaining is None else min(request.connect_timeout, remaining)
        read, bound = self._read_timeout()
        if self._session is None:
            self._session = _session_class()()
        headers = self._headers()
        sent = time.monotonic()
        if not self._opened:
            self._origin = sent
            self._started = _rfc3339(datetime.now(timezone.utc))
        else:
            self._resumed_started = _rfc3339(datetime.now(timezone.utc))
        host = _host_of(request.url)
        try:
            response = self._session.request(
                request.effective_method,
                request.url,
                headers=headers,
                data=request.body,
                stream=True,
                timeout=(connect, read),
                allow_redirects=True,
            )
        except requests.exceptions.ConnectTimeout:
            raise _Failure(NETWORK_ERROR, f"could not connect to {host} within {connect:g} s") from None
        except requests.exceptions.ReadTimeout:
            if bound == MAX_TIME:
                raise _Failure(MAX_TIME, f"--max-time {request.max_time:g} s reached before {host} answered",
                               retryable=False) from None
            raise _Failure(IDLE_TIMEOUT, f"{host} sent no answer within {read:g} s") from None
        except requests.exceptions.TooManyRedirects:
            raise _Failure(NETWORK_ERROR, f"too many redirects from {host}", retryable=False) from None
        except requests.exceptions.SSLError as exc:
            raise _Failure(NETWORK_ERROR, f"TLS error with {host}: {self._scrub(_innermost(exc))}",
                           retryable=False) from None
        except (requests.exceptions.ConnectionError, OSError) as exc:
            raise _Failure(NETWORK_ERROR, self._scrub(_connection_problem(exc, request.url))) from None
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader, ValueError) as exc:
            raise _Failure(NETWORK_ERROR, self._scrub(f"cannot send the request: {exc}"), retryable=False,
                           status=ExitStatus.USAGE) from None
        self._response = response
        self._status = response.status_code
        return response

    def _headers(self) -> dict[str, str | None]:
        request = self.request
        accept = "text/event-stream, application/json" if request.json else "text/event-stream"
        headers: dict[str, str | None] = {
            "User-Agent": _user_agent(),
            "Accept": accept,
            "Cache-Control": "no-cache",
        }
        if request.json and request.body is not None:
            headers["Content-Type"] = "application/json"
        if self._last_id:
            headers["Last-Event-ID"] = self._last_id
        for name, value in request.headers:
            for existing in [key for key in headers if key.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        return headers

    def _read_timeout(self) -> tuple[float, str]:
        idle = self.request.idle_timeout
        remaining = self._remaining()
        if remaining is not None and remaining < idle:
            return max(remaining, 0.0), MAX_TIME
        return idle, IDLE_TIMEOUT

    # -- records ----------------------------------------------------------------------

    def _open(self, response, resume: bool) -> Record:
        raw = response.raw
        version = getattr(raw, "version_string", None) or _http_version(getattr(raw, "version", 11))
        data = {
            "url": redact_url(self.request.url),
            "method": self.request.effective_method,
            "status": response.status_code,
            "http_version": version,
            "headers": {name: self._scrub(value) for name, value in redact_headers(raw.headers.items()).items()},
            "request": self._request_info,
            "started": self._resumed_started if resume else self._started,
        }
        if response.url and response.url != self.request.url:
            data["final_url"] = self._scrub(redact_url(response.url))
        if resume:
            data["resume"] = True
            data["last_event_id"] = self._last_id
        t = self._t() if self._opened else 0.0
        self._opened = True
        return Record(OPEN, data, t=t)

    def _end(self, reason: str, status: ExitStatus, message: str | None = None) -> Record | None:
        """Set the outcome; the close record when an open was written."""
        self.outcome = Outcome(reason, status, message, self._status)
        if not self._opened or self._closed:
            return None
        self._closed = True
        data = {
            "reason": reason,
            "events": self.events,
            "bytes": self.bytes,
            "error": message,
            "status": self._status,
        }
        if self._error_body is not None:
            data["body"] = self._error_body
        return Record(CLOSE, data, t=self._t())

    def _close(self, reason: str, status: ExitStatus, message: str | None = None) -> Record:
        record = self._end(reason, status, message)
        assert record is not None
        return record

    def _finish(self, reason: str) -> Record:
        """The close of a stream that ended normally; an in-band error
        event (also inside an HTTP 200) still makes it a failure."""
        if self._inband_error is not None:
            return self._close(reason, ExitStatus.HTTP_ERROR, self._scrub(f"the stream reported an error: {self._inband_error}"))
        if self.events == 0 and self._content_type not in ("", "text/event-stream"):
            # A page (a login portal, a wrong URL) rather than a stream.
            return self._close(reason, ExitStatus.BAD_INPUT,
                               f"expected an event stream, the server answered with {self._content_type} and no events")
        return self._close(reason, ExitStatus.OK)

    def _http_error(self, response) -> Record:
        body = self._scrub(_read_limited(response, self.request.idle_timeout))
        self._error_body = body
        said = _provider_message(body)
        message = f"HTTP {response.status_code}" + (f" {response.reason}" if response.reason else "")
        if said:
            message += f": {said}"
        return self._close(HTTP_ERROR, ExitStatus.HTTP_ERROR, message)

    def _json_answer(self, response) -> Record:
        body = self._scrub(_read_limited(response, self.request.idle_timeout))
        self._error_body = body
        said = _provider_message(body)
        content_type = response.headers.get("content-type", "application/json").split(";")[0]
        message = (f"expected an event stream, the server answered with JSON ({content_type})"
                   + (f": {said}" if said else "")
                   + '; to get a stream, ask for one, e.g. "stream": true in the request body')
        return self._close(EOF, ExitStatus.BAD_INPUT, message)

    # -- the stream ---------------------------------------------------------------------

    def _stream(self, response, resume: bool):
        """Yield the records of one connection's event stream; return
        (reason, message) saying how it ended."""
        from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

        request = self.request
        raw = response.raw
        parser = EventStreamParser(request.max_event_size, self._last_id)
        resume_id = self._last_id
        skip = list(self._tail) if resume and resume_id else []
        skipped = 0
        connection = getattr(raw, "connection", None)
        sock = getattr(connection, "sock", None)
        while True:
            timeout, bound = self._read_timeout()
            if timeout <= 0:
                return MAX_TIME, f"--max-time {request.max_time:g} s reached"
            if sock is not None:
                sock.settimeout(timeout)
            try:
                chunk = raw.read1(decode_content=True)
            except ReadTimeoutError:
                if bound == MAX_TIME:
                    return MAX_TIME, f"--max-time {request.max_time:g} s reached"
                return IDLE_TIMEOUT, f"no data for {timeout:g} s (--idle-timeout)"
            except DecodeError as exc:
                return NETWORK_ERROR, f"cannot decode the response body: {_innermost(exc)}"
            except (ProtocolError, SSLError, http.client.HTTPException, OSError) as exc:
                return NETWORK_ERROR, f"the connection broke after {self.events} event(s): {self._scrub(_broken(exc))}"
            if not chunk:
                items = parser.end()
                ended = True
            else:
                ended = False
                self.bytes += len(chunk)
                if self.raw is not None:
                    self.raw.write(chunk)
                    self.raw.flush()
                try:
                    items = parser.feed(chunk)
                except EventTooLarge as exc:
                    yield from self._records(exc.items)
                    return _TOO_LARGE, str(exc)
            t = self._t()
            for item in items:
                kind = type(item)
                if kind is Event:
                    if skip:
                        key = _event_key(item)
                        if item.id == resume_id and key in skip[skipped:]:
                            skipped = skip.index(key, skipped) + 1
                            continue
                        skip = []
                    self._remember(item)
                    record = record_from_item(item, t, request.raw_data)
                    self.events += 1
                    if self.first_event_t is None:
                        self.first_event_t = t
                    if item.retry is not None:
                        self._server_retry = item.retry
                    if self._inband_error is None:
                        self._inband_error = maybe_error(record)
                    yield record
                    if request.until_done and is_terminal(record):
                        return DONE, None
                elif kind is RetryOnly:
                    self._server_retry = item.retry
                    if item.id != self._last_id:
                        self._remember_id(item.id)
                    if request.include_all:
                        yield record_from_item(item, t, request.raw_data)
                elif request.include_all:
                    yield record_from_item(item, t, request.raw_data)
            self.progress(self)
            if ended:
                if request.until_done:  # still here: no terminal marker came
                    return _UNFINISHED, "the stream ended before its terminal marker"
                return EOF, None

    def _records(self, items):
        t = self._t()
        for item in items:
            if type(item) is Event:
                self._remember(item)
                self.events += 1
                yield record_from_item(item, t, self.request.raw_data)
            elif self.request.include_all:
                yield record_from_item(item, t, self.request.raw_data)

    def _remember(self, event: Event) -> None:
        """Keep what a resumed connection must not repeat: the events that
        carry the current last-event-ID (the one that set it, and those
        after it that inherited it)."""
        if event.id != self._last_id:
            self._remember_id(event.id)
        if event.id:
            self._tail.append(_event_key(event))

    def _remember_id(self, new_id: str) -> None:
        self._last_id = new_id
        self._tail.clear()

    def _release(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()


_TOO_LARGE = "too-large"  # internal: an event over --max-event-size
_UNFINISHED = "unfinished"  # internal: clean end before the terminal marker (--until-done)


# -- helpers ---------------------------------------------------------------------------

_SESSION_CLASS = None


def _session_class():
    """A requests Session that drops every secret header, not only
    Authorization, when a redirect leads to another host."""
    global _SESSION_CLASS
    if _SESSION_CLASS is None:
        import requests

        class SecretKeepingSession(requests.Session):
            def rebuild_auth(self, prepared_request, response):
                if self.should_strip_auth(response.request.url, prepared_request.url):
                    drop_secret_headers(prepared_request.headers)
                super().rebuild_auth(prepared_request, response)

        _SESSION_CLASS = SecretKeepingSession
    return _SESSION_CLASS


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        return f"sseq/{version('sseq')}"
    except Exception:
        return "sseq"


def _describe_body(request: FetchRequest) -> dict | None:
    """``request`` in sseq.open: size, digest and model of the body."""
    model = None
    body = request.body
    if body is not None:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            value = None
        if type(value) is dict and type(value.get("model")) is str:
            model = value["model"]
    if model is None:
        match = _MODEL_IN_PATH.search(urlsplit(request.url).path)
        if match:
            model = match.group(1)  # Gemini names the model in the path
    if body is None:
        return None
    return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), "model": model}


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _http_version(number: int) -> str:
    return {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(number, "HTTP/1.1")


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _event_key(event: Event) -> int:
    return hash((event.type, event.data_bytes))


def _content_type(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(response) -> bool:
    content_type = _content_type(response)
    return content_type == "application/json" or content_type.endswith("+json")


def _backoff(failures: int) -> float:
    return min(MAX_BACKOFF, 0.5 * 2**failures)


def _retry_delay(response, failures: int) -> tuple[float, str]:
    """Seconds to wait before retrying this answer, and why."""
    headers = response.headers
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000, 0.0), " (retry-after-ms)"
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(float(value), 0.0), " (Retry-After)"
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0), " (Retry-After)"
            except (TypeError, ValueError, IndexError):
                pass
    return _backoff(failures), ""


def _read_limited(response, idle_timeout: float, limit: int = BODY_LIMIT) -> str:
    """Up to ``limit`` bytes of a (short) body, decoded; never waits longer
    than the idle timeout between reads, never holds more than the limit."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    pieces: list[bytes] = []
    size = 0
    try:
        while size < limit:
            if sock is not None:
                sock.settimeout(idle_timeout)
            chunk = raw.read1(limit - size, decode_content=True)
            if not chunk:
                break
            pieces.append(chunk)
            size += len(chunk)
    except Exception:  # a body cut short still says something
        pass
    return b"".join(pieces).decode("utf-8", "replace")


def _provider_message(body: str) -> str | None:
    """The provider's own error message in a JSON error body (OpenAI,
    Anthropic, Gemini, FastAPI-style ``detail``), else a plain short body."""
    text = body.strip()
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        line = text.splitlines()[0]
        return line[:300] if not line.lstrip().startswith("<") else None
    if type(value) is list and value:
        value = value[0]
    if type(value) is not dict:
        return None
    error = value.get("error")
    if type(error) is dict:
        for key in ("message", "code", "type", "status"):
            if error.get(key):
                return str(error[key])[:1000]
    if type(error) is str and error:
        return error[:1000]
    for key in ("message", "detail", "error_description"):
        if type(value.get(key)) is str and value[key]:
            return value[key][:1000]
    return None


def _causes(exc: BaseException):
    seen = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def _innermost(exc: BaseException) -> str:
    last = exc
    for cause in _causes(exc):
        last = cause
    text = str(last) or type(last).__name__
    return text.splitlines()[0][:300]


def _broken(exc: BaseException) -> str:
    """Why a body stopped arriving, in a few words."""
    for cause in _causes(exc):
        if isinstance(cause, http.client.IncompleteRead):
            return "the server closed it in the middle of the body"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return _innermost(exc)


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
    return f"cannot connect to {host}:{port}: {_innermost(exc)}"
