"""Recording what the proxy relays: each exchange one cassette recording.

The upstream's wire bytes are decoded (gzip, deflate) and parsed by sseq's
own parser as they pass, into ``sseq.open``, the events with ``t`` (seconds
since the request was sent) and ``sseq.close`` — the NDJSON that ``fetch``
writes and ``serve`` replays.  A non-stream answer (a JSON completion, an
error) keeps its body in ``sseq.close``.  Secrets are redacted in what is
written (:mod:`sseq.cassette`), never in what is forwarded.

A :class:`RecordingFolder` names the files and counts identical requests
(the ``sequence`` of the cassette contract); a failed write (a full disk)
stops that one file, is reported once, and is remembered so that the
command can exit 1 at the end: the client is served all the same.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import threading
import time
import zlib
from typing import BinaryIO
from collections.abc import Callable, Iterable

from ..cassette.records import close_record, open_record, recording_host, started_now
from ..cassette.request import describe_request
from ..parser import DEFAULT_MAX_EVENT_SIZE, Event, EventStreamParser, EventTooLarge
from ..records import BlockEncoder, Record, block_encoder, encode_items, format_record, record_from_item
from ..redact import Scrubber, redact_query, secret_values
from .accounting import UsageTap

__all__ = ["RecordingFolder", "ExchangeRecording", "recording_name", "BODY_LIMIT"]

BODY_LIMIT = 16 * 1024 * 1024  # the most of a non-stream answer kept in sseq.close
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def recording_name(method: str, path: str, query: str, body: bytes | None, sequence: int) -> str:
    """``POST-v1-chat-completions-3fa9c2d1-0.ndjson``: method, path (and a
    redacted query), the first 8 hex digits of the body's sha256, the
    0-based number among identical requests."""
    slug = "-".join(_UNSAFE.sub("_", part) for part in path.split("/") if part) or "root"
    if query:
        slug += "_" + _UNSAFE.sub("_", redact_query(query).replace("[redacted]", "redacted"))
    slug = slug[:100].strip("_-") or "root"
    digest = hashlib.sha256(body or b"").hexdigest()[:8]
    return f"{_UNSAFE.sub('_', method.upper())}-{slug}-{digest}-{sequence}.ndjson"


class RecordingFolder:
    """Where recordings go, and the counts that number identical requests.

    ``on_error`` gets a one-line message for each file that could not be
    written; ``failures`` counts them.
    """

    def __init__(self, path: str | None, labels: dict[str, str] | None = None,
                 on_error: Callable[[str], None] | None = None):
        self.path = path
        self.labels = dict(labels or {})
        self.host = recording_host()
        self.on_error = on_error or (lambda message: None)
        self.failures = 0
        self._counts: dict[object, int] = {}
        self._lock = threading.Lock()
        if path is not None:
            os.makedirs(path, exist_ok=True)

    def next_sequence(self, method: str, path: str, query: str, body: bytes | None,
                      key: object = None) -> tuple[int, str]:
        """The sequence of this request among identical ones, and its file
        name.  ``key``: what identical requests share, when a cassette
        matcher says (else the same method, path, query and body bytes)."""
        counted = key if key is not None else recording_name(method, path, query, body, 0)
        with self._lock:
            sequence = self._counts.get(counted, 0)
            self._counts[counted] = sequence + 1
        return sequence, recording_name(method, path, query, body, sequence)

    def failed(self, name: str, exc: OSError) -> None:
        with self._lock:
            self.failures += 1
        why = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            why = "no space left on the device"
        self.on_error(f"cannot write the recording {name}: {why}; the client is served, the recording is incomplete")


class _Writer:
    """One recording file, written line by line; the first failed write
    closes it for good (and says so once)."""

    def __init__(self, folder: RecordingFolder, name: str):
        self.folder = folder
        self.name = name
        self.path = os.path.join(folder.path, name) if folder.path is not None else None
        self._file: BinaryIO | None = None
        self.broken = False

    def write(self, lines: Iterable[bytes]) -> None:
        if self.path is None or self.broken:
            return
        try:
            if self._file is None:
                self._file = open(self.path, "wb")
            self._file.write(b"".join(lines))
            self._file.flush()
        except OSError as exc:
            self._break(exc)

    def close(self) -> None:
        if self._file is None:
            return
        try:
            self._file.close()
        except OSError as exc:
            self._break(exc)
        self._file = None

    def _break(self, exc: OSError) -> None:
        self.broken = True
        try:
            if self._file is not None:
                self._file.close()
        except OSError:
            pass
        self._file = None
        self.folder.failed(self.name, exc)


class _Decoder:
    """The body's content coding undone, for the parser (the client still
    gets the bytes as they came)."""

    def __init__(self, encoding: str):
        encoding = encoding.strip().lower()
        self._z = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_deflate_tried = False
        elif encoding not in ("", "identity"):
            raise ValueError(f"cannot read a body in content coding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return data
        try:
            return self._z.decompress(data)
        except zlib.error:
            if getattr(self, "_raw_deflate_tried", True):
                raise
            self._raw_deflate_tried = True  # servers that send raw deflate
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(data)


class ExchangeRecording:
    """One exchange's recording, fed as the exchange happens.

    ``sink``: the usage tap, given the records, whether or not a file is
    written; set it before the answer arrives (:meth:`answered`).  Times
    are taken from ``time.monotonic()`` against ``sent``, the moment the
    request left for the upstream; an event's ``t`` is when the read that
    completed it arrived.

    No Record is built for the events on the way to the file: the parser
    hands its items over compact, and the compiled core (when built) encodes
    runs of common blocks straight into the file's lines; the bytes are the
    same either way (``encode_items`` is ``format_record`` of
    ``record_from_item``), and the sink is handed those lines as they are.
    """

    def __init__(self, folder: RecordingFolder, method: str, target: str, headers: list[tuple[str, str]],
                 body: bytes | None, upstream_url: str, sink: UsageTap | None = None,
                 max_event_size: int = DEFAULT_MAX_EVENT_SIZE, write: bool = True, key: object = None):
        path, _, query = target.partition("?")
        self.sequence, self.name = folder.next_sequence(method, path, query, body, key)
        self.folder = folder
        self.writer = _Writer(folder, self.name) if write and folder.path is not None else None
        self.method = method
        self.upstream_url = upstream_url
        self.scrub = Scrubber(secret_values(headers, upstream_url))
        self.request = describe_request(method, target, headers, body, sequence=self.sequence, scrub=self.scrub)
        self.sink: UsageTap | None = sink
        self.max_event_size = max_event_size
        self.started = started_now()
        self.sent = time.monotonic()
        self.status: int | None = None
        self.events = 0
        self.bytes = 0
        self.stream = False
        self._opened = False
        self._closed = False
        self._parser: EventStreamParser | None = None
        self._encoder: BlockEncoder | None = None
        self._decoder: _Decoder | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._problem: str | None = None
        # The handler's thread writes; stopping the proxy may close a
        # recording still waiting for its answer from another thread.
        self._lock = threading.RLock()

    @property
    def file(self) -> str | None:
        """The file written, None when nothing is (no folder, or it broke)."""
        if self.writer is None or self.writer.broken:
            return None
        return self.writer.path

    def t(self) -> float:
        return round(time.monotonic() - self.sent, 3)

    def mark_sent(self) -> None:
        self.started = started_now()
        self.sent = time.monotonic()

    def answered(self, status: int, http_version: str, headers: list[tuple[str, str]]) -> None:
        """The upstream's status and headers arrived."""
        with self._lock:
            if not self._closed:
                self._answered(status, http_version, headers)

    def _answered(self, status: int, http_version: str, headers: list[tuple[str, str]]) -> None:
        self.status = status
        content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
        self.stream = content_type.split(";")[0].strip().lower() == "text/event-stream" and status < 400
        encoding = next((v for n, v in headers if n.lower() == "content-encoding"), "")
        try:
            self._decoder = _Decoder(encoding)
        except ValueError as exc:
            self._problem = str(exc)
        if self.stream:
            self._encoder = block_encoder()  # (None: pure Python)
            self._parser = EventStreamParser(self.max_event_size, compact=True, encoder=self._encoder)
        self._open(status, http_version, headers)

    def _open(self, status: int | None, http_version: str, headers) -> None:
        record = open_record(url=self.upstream_url, method=self.method, status=status, http_version=http_version,
                             headers=headers, request=self.request, started=self.started, t=0.0,
                             labels=self.folder.labels, host=self.folder.host, scrub=self.scrub)
        self._opened = True
        self._emit([record])

    def feed(self, data: bytes) -> None:
        """Body bytes as they came off the wire."""
        with self._lock:
            if not self._closed:
                self._feed(data)

    def _feed(self, data: bytes) -> None:
        self.bytes += len(data)
        if self._problem is not None or self._decoder is None:
            return
        try:
            plain = self._decoder.feed(data)
        except zlib.error as exc:
            self._problem = f"cannot decode the body: {exc}"
            return
        if self._parser is None:
            if self._body_size < BODY_LIMIT:
                piece = plain[: BODY_LIMIT - self._body_size]
                self._body.append(piece)
                self._body_size += len(piece)
            return
        t = self.t()  # (this read's arrival)
        if self._encoder is not None:
            self._encoder.t = t
        try:
            items = self._parser.feed(plain)
        except EventTooLarge as exc:
            items = exc.items
            self._problem = f"an event over {self.max_event_size} bytes; the rest is not recorded"
            self._parser = None
        self._items(items, t)

    def _items(self, items: list, t: float) -> None:
        """The parser's compact items: encoded runs (bytes, a line per
        event), compact events (tuples) and Events are written; comments
        and retry-only blocks are not."""
        if not items:
            return
        events = 0
        for item in items:
            kind = type(item)
            if kind is bytes:
                events += item.count(b"\n")
            elif kind is tuple or kind is Event:
                events += 1
        self.events += events
        if self.sink is not None:
            self._tell_sink(items, t)
        if self.writer is not None and not self.writer.broken:
            self.writer.write(encode_items(items, t, False, False))

    def _tell_sink(self, items: list, t: float) -> None:
        """The events of compact items, for the sink: encoded runs as their
        lines (it reads them with runs of deltas taken whole), the others
        as Records."""
        sink = self.sink
        assert sink is not None
        for item in items:
            kind = type(item)
            if kind is bytes:
                sink.feed_lines(item)
            elif kind is tuple:
                name, payload, id, line = item
                sink(record_from_item(Event(name, payload, id, None, line), t))
            elif kind is Event:
                sink(record_from_item(item, t))

    def close(self, reason: str, message: str | None, client_left: float | None = None) -> None:
        """The exchange ended: ``reason`` as sseq.close words it."""
        with self._lock:
            self._close(reason, message, client_left)

    def _close(self, reason: str, message: str | None, client_left: float | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        unfinished = False
        if self._parser is not None:
            t = self.t()
            if self._encoder is not None:
                self._encoder.t = t
            self._items(self._parser.end(), t)
            unfinished = self._parser.ended_in_block  # a cut inside an event, which the standard discards
        if self._problem is not None and message is None:
            message = self._problem
        body = None
        if self._body:
            body = self.scrub(b"".join(self._body).decode("utf-8", "replace"))
        record = close_record(reason, self.scrub(message) if message else message, self.events, self.bytes,
                              self.status, body, self.t(), unfinished)
        if client_left is not None:
            record.data["client_left"] = client_left
        self._emit([record])
        if self.writer is not None:
            self.writer.close()

    def failed(self, reason: str, message: str) -> None:
        """No answer came (refused, DNS, TLS, timeout): the recording says why."""
        with self._lock:
            if self._closed:
                return
            if not self._opened:
                self._open(None, "", [])
            self._close(reason, message)

    def interrupt_if_waiting(self) -> bool:
        """The proxy stops while the upstream has not answered yet: the
        recording is closed as interrupted, and True (a relay in progress
        ends by itself, and closes its recording the same way)."""
        with self._lock:
            if not self._opened and not self._closed:
                self._open(None, "", [])
                self._close("interrupted", "the proxy was stopped before the upstream answered")
                return True
            return False

    def _emit(self, records: list[Record]) -> None:
        sink = self.sink
        if sink is not None:
            for record in records:
                sink(record)
        if self.writer is not None:
            self.writer.write(format_record(r) for r in records)
