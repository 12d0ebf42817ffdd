"""fetch's network side: one streamed HTTP request, recorded as records.

The only module that touches the network for ``fetch``.  A
:class:`FetchRun` is iterated for its records: one ``sseq.open`` when the
answer's headers arrive, each event as soon as the bytes that complete it
have been read, and one ``sseq.close`` saying why it ended::

    from sseq.fetch.transport import FetchRequest, iter_fetch
    for record in iter_fetch(FetchRequest("http://127.0.0.1:8765/")):
        print(record.event, record.data)

What it takes care of: connect, idle and whole-run time limits; retrying
(:mod:`sseq.fetch.retrying`); reconnecting after a dropped stream with
``Last-Event-ID`` without repeating or losing a record
(:mod:`sseq.fetch.resume`); stopping at the terminal marker; secrets kept out of
the records and out of redirects to other hosts.  What is sent is
:mod:`sseq.fetch.request`'s, how an ending is worded :mod:`sseq.fetch.outcome`'s.
``requests`` is imported only when a run starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Protocol

from ..errors import ExitStatus
from ..providers import is_terminal, maybe_error
from ..parser import Event, EventStreamParser, EventTooLarge, RetryOnly
from ..records import Record, record_from_item
from ..cassette.records import close_record, open_record, started_now
from ..cassette.request import describe_request
from .body import BodyCutShort, BodyDecodeError, BodyReader, read_answer
from .clock import RunClock
from .outcome import (
    DONE,
    EOF,
    HTTP_ERROR,
    INTERRUPTED,
    MAX_TIME,
    NETWORK_ERROR,
    Failure,
    Outcome,
    finished_stream_verdict,
    http_error_message,
    json_answer_message,
    max_time_reached,
    maybe_read_ending,
    maybe_send_failure,
)
from ..redact import Scrubber, new_secret_keeping_session, secret_values
from .request import FetchRequest, check_url, headers_to_send
from .resume import ResumePoint
from .retrying import RetryBudget, is_retry_status

if TYPE_CHECKING:  # requests is imported only when a run starts
    import requests


class RawSink(Protocol):
    """Where ``--raw`` bytes go: a binary file, or an :class:`sseq.output.Output`."""

    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> None: ...


__all__ = ["FetchRequest", "FetchRun", "Outcome", "check_url", "fetch", "iter_fetch", "BODY_LIMIT"]

BODY_LIMIT = 64 * 1024  # the most of an error body kept in sseq.close (a 2xx JSON answer: --max-event-size)

# How a connection's stream ended, besides the close reasons.
_TOO_LARGE = "too-large"  # an event over --max-event-size
_UNFINISHED = "unfinished"  # a clean end before the terminal marker (--until-done)


def iter_fetch(request: FetchRequest, **options) -> Iterator[Record]:
    """The records of one fetch; see :class:`FetchRun` for ``options``."""
    return iter(FetchRun(request, **options))


def fetch(request: FetchRequest, write: Callable[[Record], None], **options) -> Outcome:
    """Run one fetch, handing each record to ``write``; returns the Outcome.

    Ctrl-C (KeyboardInterrupt) still gets its ``sseq.close`` written before
    it propagates, wherever it lands.
    """
    return FetchRun(request, **options).deliver(write)


class FetchRun:
    """One fetch.  Iterate it (once) for its records, or :meth:`deliver` them.

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
        raw: RawSink | None = None,
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
        self._clock = RunClock(request.idle_timeout, request.max_time)
        self._opened = False
        self._closed = False
        self._status: int | None = None
        self._resume = ResumePoint(request.last_event_id or "")
        self._server_retry: int | None = None  # ms, from the stream's retry: field
        self._session: requests.Session | None = None
        self._response: requests.Response | None = None
        self._started = self._resumed_started = ""
        self._error_body: str | None = None
        self._inband_error: str | None = None
        self._content_type = ""
        self._unfinished_block = False  # the last connection ended inside a block
        self._scrub = Scrubber(secret_values(request.headers, request.url))

    # -- public ---------------------------------------------------------------

    def __iter__(self) -> Iterator[Record]:
        return self._run()

    def deliver(self, write: Callable[[Record], None]) -> Outcome:
        """Hand each record to ``write``; the Outcome.  On Ctrl-C the
        ``sseq.close`` is still written, then KeyboardInterrupt propagates."""
        records = self._run()
        try:
            for record in records:
                write(record)
        except KeyboardInterrupt:
            records.close()
            close = self.interrupt()
            if close is not None:
                write(close)
            raise
        finally:
            records.close()
        assert self.outcome is not None
        return self.outcome

    def elapsed(self) -> float:
        return self._clock.elapsed()

    def interrupt(self) -> Record | None:
        """End the run because of Ctrl-C: the ``sseq.close`` record still to
        write, or None when nothing was opened (or it is already closed)."""
        self._release()
        if self._closed:
            return None
        return self._end(INTERRUPTED, ExitStatus.INTERRUPTED, "interrupted")

    # -- the run ----------------------------------------------------------------

    def _run(self) -> Generator[Record, None, None]:
        import requests  # noqa: F401  (before the clock starts: --max-time is the network's time)

        request = self.request
        budget = RetryBudget(request.retries)
        resume = False
        self._clock.start()
        try:
            while True:
                try:
                    response = self._send()
                except Failure as failure:
                    if failure.retryable and self._try_again(budget, budget.backoff(), failure.message):
                        continue
                    close = self._end(failure.reason, failure.status, failure.message)
                    if close is not None:
                        yield close
                    return
                status = response.status_code
                if is_retry_status(status):
                    delay, why = budget.delay_for(response.headers)
                    if self._try_again(budget, delay, f"HTTP {status} {response.reason or ''}".rstrip(), detail=why):
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
                reason, message = yield from self._stream(response, resume)
                if self.events > events_before:
                    budget.reset()
                if reason is _TOO_LARGE:
                    yield self._close(NETWORK_ERROR, ExitStatus.BAD_INPUT, message)
                    return
                if reason == MAX_TIME:
                    yield self._close(MAX_TIME, ExitStatus.NETWORK_ERROR, message)
                    return
                if reason in (EOF, DONE):
                    yield self._finish(reason)
                    return
                # A drop, a stall, or an end before the terminal marker.
                delay = self._server_retry / 1000 if self._server_retry is not None else budget.backoff()
                last_id = self._resume.last_id
                resumable = bool(last_id) or self.events == 0
                where = f" with Last-Event-ID {last_id}" if last_id else ""
                if resumable and self._try_again(budget, delay, message, "reconnecting", where):
                    resume = True
                    continue
                if request.retries and not resumable and budget.failures < request.retries:
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

    def _try_again(self, budget: RetryBudget, delay: float, what: str, how: str = "retrying", detail: str = "") -> bool:
        """Wait ``delay`` seconds before another attempt, saying why, when
        --retry and --max-time leave room for one; False when they do not."""
        if not budget.allows(delay, self._clock.remaining()):
            if budget.spent_in_all:
                self.notify(f"not trying again: {budget.total} tries in all, the most --retry {budget.retries} allows "
                            f"({budget.total_limit})")
            return False
        count = budget.spend()
        self._release()
        self.notify(f"{what}; {how} in {delay:g} s{detail} {count}")
        self.sleep(delay)
        return True

    # -- one attempt ----------------------------------------------------------------

    def _send(self):
        """Send the request; the response once its headers have arrived."""
        request = self.request
        remaining = self._clock.remaining()
        if remaining is not None and remaining <= 0:
            raise Failure(MAX_TIME, max_time_reached(request.max_time), retryable=False)
        connect = request.connect_timeout if remaining is None else min(request.connect_timeout, remaining)
        read, read_is_max_time = self._clock.read_timeout()
        if self._session is None:
            self._session = new_secret_keeping_session()
        headers = headers_to_send(request, self._resume.last_id)
        if not self._opened:
            self._clock.mark_sent()
            self._started = started_now()
        else:
            self._resumed_started = started_now()
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
        except Exception as exc:
            failure = maybe_send_failure(exc, request.url, connect, read, read_is_max_time, request.max_time,
                                         self._scrub)
            if failure is None:
                raise
            raise failure from None
        self._response = response
        self._status = response.status_code
        return response

    # -- records ----------------------------------------------------------------------

    def _open(self, response, resume: bool) -> Record:
        t = self._clock.t() if self._opened else 0.0
        self._opened = True
        started = self._resumed_started if resume else self._started
        request = self.request
        sent = response.history[0].request if response.history else response.request  # before any redirect
        raw = response.raw
        version = getattr(raw, "version_string", None) or _http_version(getattr(raw, "version", 11))
        return open_record(
            url=request.url, method=request.effective_method, status=response.status_code, http_version=version,
            headers=raw.headers.items(), started=started, t=t, labels=dict(request.labels), scrub=self._scrub,
            request=describe_request(sent.method, sent.url, sent.headers.items(), _body_bytes(sent.body),
                                     scrub=self._scrub),
            final_url=response.url, resume=resume, last_event_id=self._resume.last_id)

    def _end(self, reason: str, status: ExitStatus, message: str | None = None) -> Record | None:
        """Set the outcome; the close record when an open was written."""
        self.outcome = Outcome(reason, status, message, self._status)
        if not self._opened or self._closed:
            return None
        self._closed = True
        return close_record(reason, message, self.events, self.bytes, self._status, self._error_body, self._clock.t(),
                            unfinished_block=self._unfinished_block)

    def _close(self, reason: str, status: ExitStatus, message: str | None = None) -> Record:
        record = self._end(reason, status, message)
        assert record is not None
        return record

    def _finish(self, reason: str) -> Record:
        """The close of a stream that ended normally (which may still be a
        failure: see finished_stream_verdict)."""
        status, message = finished_stream_verdict(self._inband_error, self.events, self._content_type)
        return self._close(reason, status, self._scrub(message) if message else None)

    def _http_error(self, response) -> Record:
        answer = read_answer(response, self.request.idle_timeout, BODY_LIMIT)
        self._error_body = self._scrub(answer.text)
        message = http_error_message(response.status_code, response.reason, self._error_body)
        if answer.broken is not None:
            message += f" (the body is incomplete: {self._scrub(answer.broken)})"
        return self._close(HTTP_ERROR, ExitStatus.HTTP_ERROR, message)

    def _json_answer(self, response) -> Record:
        """A non-stream answer, kept whole (up to --max-event-size): a
        recording replays it as it came."""
        limit = self.request.max_event_size
        answer = read_answer(response, self.request.idle_timeout, limit)
        self._error_body = self._scrub(answer.text)
        if answer.broken is not None:
            return self._close(NETWORK_ERROR, ExitStatus.NETWORK_ERROR,
                               f"the JSON answer could not be read whole: {self._scrub(answer.broken)}")
        if answer.over_limit:
            return self._close(NETWORK_ERROR, ExitStatus.BAD_INPUT,
                               f"the JSON answer is larger than --max-event-size ({limit} bytes); the first {limit} are kept")
        content_type = response.headers.get("content-type", "application/json").split(";")[0]
        return self._close(EOF, ExitStatus.BAD_INPUT, json_answer_message(content_type, self._error_body))

    # -- the stream ---------------------------------------------------------------------

    def _stream(self, response, resume: bool):
        """Yield the records of one connection's event stream; return
        (reason, message) saying how it ended."""
        request = self.request
        raw = response.raw
        body = BodyReader(raw, response.headers)
        parser = EventStreamParser(request.max_event_size, self._resume.last_id)
        self._resume.connect(resume)
        self._unfinished_block = False
        # Not announced as a stream: keep the body until an event comes, so
        # that a page with no events is recorded as the answer it is.
        page = bytearray() if self._content_type not in ("", "text/event-stream") and not self.events else None
        connection = getattr(raw, "connection", None)
        sock = getattr(connection, "sock", None)
        while True:
            timeout, by_max_time = self._clock.read_timeout()
            if timeout <= 0:
                return MAX_TIME, max_time_reached(request.max_time)
            if sock is not None:
                sock.settimeout(timeout)
            try:
                chunk = body.read1()
            except (BodyCutShort, BodyDecodeError) as exc:
                self._unfinished_block = _end_parser(parser)[1]
                what = "the connection broke" if isinstance(exc, BodyCutShort) else "the body could not be read"
                return NETWORK_ERROR, f"{what} after {self.events} event(s): {exc}"
            except Exception as exc:
                self._unfinished_block = _end_parser(parser)[1]
                ending = maybe_read_ending(exc, self.events, timeout, by_max_time, request.max_time, self._scrub)
                if ending is None:
                    raise
                return ending
            if not chunk:
                items, self._unfinished_block = _end_parser(parser)
                if page is not None and not self.events:
                    self._error_body = self._scrub(bytes(page).decode("utf-8", "replace"))
                    self._unfinished_block = False  # not a stream: no block to speak of
                if self._unfinished_block:
                    self.notify("the stream ended inside an unfinished block, which is discarded (the standard's rule)")
                ended = True
            else:
                ended = False
                self.bytes += len(chunk)
                if page is not None:
                    if self.events or len(page) + len(chunk) > request.max_event_size:
                        page = None
                    else:
                        page += chunk
                if self.raw is not None:
                    self.raw.write(chunk)
                    self.raw.flush()
                try:
                    items = parser.feed(chunk)
                except EventTooLarge as exc:
                    yield from self._records(exc.items)
                    return _TOO_LARGE, str(exc)
            t = self._clock.t()
            for item in items:
                kind = type(item)
                if kind is Event:
                    if self._resume.is_repeat(item):
                        continue
                    self._resume.remember(item)
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
                    self._resume.note_id(item.id)
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
        """The records of what the parser completed before an event too large."""
        t = self._clock.t()
        for item in items:
            if type(item) is Event:
                self._resume.remember(item)
                self.events += 1
                yield record_from_item(item, t, self.request.raw_data)
            elif self.request.include_all:
                yield record_from_item(item, t, self.request.raw_data)

    def _release(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()


# -- responses ----------------------------------------------------------------------------


def _end_parser(parser: EventStreamParser) -> tuple[list, bool]:
    """``parser.end()``'s items, and whether the input ended inside a block
    the standard discards (the parser's ``ended_in_block``)."""
    items = parser.end()
    return items, parser.ended_in_block


def _body_bytes(body) -> bytes | None:
    """A prepared request's body as the bytes sent (requests keeps a str
    body as str)."""
    if body is None or isinstance(body, bytes):
        return body
    return body.encode("utf-8") if isinstance(body, str) else None


def _http_version(number: int) -> str:
    return {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(number, "HTTP/1.1")


def _content_type(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(response) -> bool:
    content_type = _content_type(response)
    return content_type == "application/json" or content_type.endswith("+json")
