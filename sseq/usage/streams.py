"""Inputs split into streams, and each stream totalled into a StreamUsage.

In a records file every ``sseq.open`` without ``"resume": true`` starts a
new stream (a resumed connection continues the one before).  In any input,
a terminal marker followed by the start of another stream (its family
says which record that is: ``message_start``, ``response.created``, a
Chat chunk after ``[DONE]``...) starts a new stream too, so captures
appended to one file (``cat a.sse b.sse``) count one by one.  Folders are walked for recordings; ``.gz`` files are read
decompressed.  Memory stays constant in the length of a stream: records are
looked at once as they are read.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import orjson

from ..errors import BadInput
from ..inputs import BadLines, Source, iter_record_batches, open_source
from ..runs import RecordRun
from ..parser import DEFAULT_MAX_EVENT_SIZE
from ..providers import RUN_SHAPES, StreamReader, maybe_provider_of_url
from ..records import CLOSE, OPEN, Record
from ..walk import iter_folder_files
from .estimate import estimate_output
from .model import COMPLETE, ERROR, ESTIMATED, INCOMPLETE, MISSING, REPORTED, TRUNCATED, StreamUsage

# What a folder walk picks up (plain or .gz); files named on the command
# line are always read.
RECORDING_SUFFIXES = (".sse", ".ndjson", ".jsonl", ".events")
_LARGEST_COUNT = (1 << 63) - 1


def is_recording_name(name: str) -> bool:
    if name.startswith("."):
        return False
    base = name[:-3] if name.endswith(".gz") else name
    return base.endswith(RECORDING_SUFFIXES)


def iter_input_paths(paths: Iterable[str], on_skip: Callable[[str], None] | None = None) -> Iterator[str]:
    """Files to read: each path as given, folders walked (sorted, hidden
    entries skipped, only regular files named as recordings; see sseq.walk)."""
    for path in paths:
        if path != "-" and os.path.isdir(path):
            yield from iter_folder_files(path, is_recording_name, on_skip)
        else:
            yield path


def maybe_posix_time(value) -> float | None:
    """POSIX seconds from an RFC 3339 time such as ``2026-11-22T04:31:50.123Z``."""
    if type(value) is not str or not value:
        return None
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


class StreamCollector:
    """Everything one stream's usage row needs, gathered record by record."""

    def __init__(self, file: str, index: int, fallback_started: float | None, estimator=None):
        self.file = file
        self.index = index
        self.fallback_started = fallback_started
        self.reader = StreamReader()
        self.digest = hashlib.sha256()
        self.events = 0
        self.checkpoints: list[str] = []
        self.error: str | None = None
        self.started: float | None = None
        self.url_provider: str | None = None
        self.request_model: str | None = None
        self.host: str | None = None
        self.labels: dict[str, str] = {}
        self.base_t: float | None = None
        self.first_output_t: float | None = None
        self.last_t: float | None = None
        self.estimator = estimator
        self.counter = estimator.counter() if estimator is not None else None

    def feed(self, record: Record) -> None:
        event = record.event
        if event.startswith("sseq."):
            self._feed_own(record)
            return
        self.events += 1
        self.digest.update(event.encode("utf-8", "replace"))
        self.digest.update(b"\n")
        raw = record.raw
        if raw is None:
            data = record.data
            raw = data.encode("utf-8", "replace") if type(data) is str else orjson.dumps(data)
        self.digest.update(raw)
        self.digest.update(b"\n\n")
        if self.events & (self.events - 1) == 0:  # 1, 2, 4, 8...: see StreamUsage.checkpoints
            self.checkpoints.append(self.digest.copy().hexdigest()[:16])
        fragments = self.reader.feed(record)
        if self.error is None:
            self.error = self.reader.error
        t = record.t
        if t is not None:
            self.last_t = t
        if self.first_output_t is None or self.counter is not None:
            for fragment in fragments:
                if not fragment.text:
                    continue
                if self.first_output_t is None and t is not None:
                    self.first_output_t = t
                if self.counter is None:
                    break
                self.counter.add(fragment.text)

    def feed_run(self, run: RecordRun) -> None:
        """A run of records (see RecordRun): counted and digested as
        :meth:`feed` of each would, its text looked at once."""
        if self.counter is not None or (self.first_output_t is None and run.last_t is not None):
            fragment = None  # (each record's text and time count: read them one by one)
        else:
            fragment = self.reader.feed_run(run)
        if fragment is None:
            for record in run.records():
                self.feed(record)
            return
        digest, ends, events = self.digest, run.ends, self.events
        assert ends is not None  # (asked for: see iter_file_usages)
        # Checkpoints fall at event counts 1, 2, 4, 8...: the digest is
        # taken there, mid-run too.
        start = 0
        checkpoint = 1
        while checkpoint <= events:
            checkpoint <<= 1
        while checkpoint <= events + run.count:
            end = ends[checkpoint - events - 1]
            digest.update(run.digest[start:end])
            self.checkpoints.append(digest.copy().hexdigest()[:16])
            start = end
            checkpoint <<= 1
        digest.update(run.digest[start:] if start else run.digest)
        self.events = events + run.count
        if run.last_t is not None:
            self.last_t = run.last_t

    def _feed_own(self, record: Record) -> None:
        data = record.data if type(record.data) is dict else {}
        if record.event == OPEN:
            if self.started is None:
                self.started = maybe_posix_time(data.get("started"))
            if self.base_t is None and record.t is not None:
                self.base_t = record.t
            if self.host is None and type(data.get("host")) is str:
                self.host = data["host"]
            labels = data.get("labels")
            if type(labels) is dict and not self.labels:
                self.labels = {str(k): v if type(v) is str else orjson.dumps(v).decode() for k, v in labels.items()}
            url = data.get("url")
            if type(url) is str and self.url_provider is None:
                self.url_provider = maybe_provider_of_url(url)
            request = data.get("request")
            if type(request) is dict and type(request.get("model")) is str:
                self.request_model = request["model"]
            status = data.get("status")
            if type(status) is int and status >= 400 and self.error is None:
                self.error = f"HTTP {status}"
        elif record.event == CLOSE:
            if data.get("reason") == "http-error" and self.error is None:
                status = data.get("status")
                self.error = str(data.get("error") or (f"HTTP {status}" if status else "HTTP error"))

    @property
    def empty(self) -> bool:
        return self.events == 0 and self.started is None

    def finish(self) -> StreamUsage:
        reader = self.reader
        tokens = reader.tokens()
        fields: dict = {}
        if tokens is not None:
            source = REPORTED
            fields = {
                "input_tokens": tokens.input_tokens,
                "cached_input_tokens": tokens.cached_input_tokens,
                "cache_write_tokens": tokens.cache_write_tokens,
                "output_tokens": tokens.output_tokens,
                "reasoning_tokens": tokens.reasoning_tokens,
                "total_tokens": tokens.total_tokens,
                "cache_write_1h_tokens": tokens.cache_write_1h_tokens,
            }
        elif self.counter is not None and self.counter.seen:
            source = ESTIMATED
            out = estimate_output(self.counter.total(), reader.tool_calls())
            fields = {"output_tokens": out, "total_tokens": out}
        else:
            source = MISSING
        for name, value in fields.items():
            # Past 2^63 (or not a finite number) no real stream goes, and
            # neither SQLite, JSON writers nor float arithmetic follow.
            if value is not None and not value <= _LARGEST_COUNT:
                raise BadInput(self.file, None, f"stream {self.index}: {name} is beyond any token count (over 2^63-1)")
        if self.error is not None:
            verdict = ERROR
        elif reader.stopped_early:
            verdict = INCOMPLETE
        elif reader.terminal:
            verdict = COMPLETE
        else:
            verdict = TRUNCATED
        ttft = None
        rate = None
        if self.first_output_t is not None:
            ttft = round((self.first_output_t - (self.base_t or 0.0)) * 1000.0, 1)
            produced = fields.get("output_tokens")
            span = (self.last_t or 0.0) - self.first_output_t
            if produced and span > 0:
                rate = round(produced / span, 1)
        return StreamUsage(
            file=_file_text(self.file),
            stream=self.index,
            response_id=_text(reader.response_id),
            digest=self.digest.hexdigest(),
            api=reader.api,
            provider=_text(reader.provider(self.url_provider)),
            model=_text(reader.model or self.request_model),
            usage_source=source,
            verdict=verdict,
            tool_calls=reader.tool_calls(),
            ttft_ms=ttft,
            output_tokens_per_s=rate,
            started=self.started if self.started is not None else self.fallback_started,
            error=_text(self.error),
            service_tier=reader.service_tier,
            stop_reason=_text(reader.stop_reason),
            events=self.events,
            checkpoints=self.checkpoints,
            host=_text(self.host),
            labels={_text(k) or "": _text(v) or "" for k, v in self.labels.items()},
            **fields,
        )


# A usage row is written as JSON and into a ledger, which take UTF-8 text
# only: a file name of other bytes (a surrogate escape in Python) and a lone
# surrogate escape read from JSON are written as backslash escapes instead.


def _file_text(name: str) -> str:
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace") if os.name == "posix" else _text(name) or ""


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _file_time(path: str) -> float:
    if path == "-":
        return time.time()
    try:
        return os.stat(path).st_mtime
    except OSError:
        return time.time()


def iter_file_usages(
    path: str,
    estimator=None,
    skip_bad: BadLines | None = None,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    on_source: Callable[[Source], None] | None = None,
    stdin: BinaryIO | None = None,
    runs: bool = True,
) -> Iterator[StreamUsage]:
    """The streams of one input (``-`` is ``stdin``), in order.  A bad line
    ends the input with BadInput after the streams read before it (the one
    it interrupted included) have been yielded.  ``on_source`` gets the
    input once read (for :meth:`Source.warnings`).  ``runs``: runs of text
    deltas are taken whole where the compiled core finds them (False: record
    by record, the reference the tests hold runs to)."""
    source = open_source(path, stdin)
    name = source.name
    fallback = _file_time(path)
    index = 1
    current = StreamCollector(name, index, fallback, estimator)
    error: BadInput | None = None
    try:
        # Runs of text deltas come whole (RecordRun) unless every text counts.
        shapes = RUN_SHAPES if runs and estimator is None else ()
        for batch in iter_record_batches(source, skip_bad, include_all=False, max_event_size=max_event_size,
                                         runs=shapes, run_digests=True):
            for record in batch:
                if type(record) is RecordRun:
                    current.feed_run(record)
                    continue
                if record.event == OPEN and not (type(record.data) is dict and record.data.get("resume") is True):
                    if not current.empty:
                        yield current.finish()
                        index += 1
                        current = StreamCollector(name, index, fallback, estimator)
                elif current.reader.opens_next(record):
                    yield current.finish()
                    index += 1
                    current = StreamCollector(name, index, fallback, estimator)
                current.feed(record)
    except BadInput as exc:
        error = exc
    finally:
        source.close()
    if error is None and on_source is not None:
        on_source(source)
    # What was read before a bad line still counts.
    if not current.empty:
        yield current.finish()
    if error is not None:
        raise error


def iter_usages(
    paths: Iterable[str],
    on_problem: Callable[[BadInput], None],
    estimator=None,
    skip_bad: BadLines | None = None,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    on_file: Callable[[str], None] | None = None,
    on_source: Callable[[Source], None] | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[StreamUsage]:
    """Every stream of every input; a bad input is handed to ``on_problem``
    (after the streams read before the bad line) and the run goes on with
    the next input."""
    for path in paths:
        if on_file is not None:
            on_file(path)
        try:
            yield from iter_file_usages(path, estimator, skip_bad, max_event_size, on_source, stdin)
        except BadInput as error:
            on_problem(error)


def usage_of(records: Iterable[Record], file: str = "<records>", estimator=None) -> StreamUsage:
    """One stream's usage from its records (all of them taken as one stream)."""
    collector = StreamCollector(file, 1, None, estimator)
    for record in records:
        collector.feed(record)
    return collector.finish()
