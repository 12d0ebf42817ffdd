"""What the proxy tells about each exchange: the log line (method, path,
status, model, tokens, time to first byte, duration, recording file) and
each finished stream's usage row, into the usage ledger as it completes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..providers import RUN_SHAPES
from ..records import Record, parse_record_line
from ..runs import RecordRun, lines_of, with_runs
from ..usage.model import StreamUsage
from ..usage.streams import StreamCollector

__all__ = ["Proxied", "UsageTap", "LedgerWriter"]


@dataclass
class Proxied:
    """One request through the proxy and how it ended.

    ``outcome``: the close reason (``eof``, ``idle-timeout``, ``max-time``,
    ``network-error``, ``interrupted``, ``http-error``), ``replayed`` (answered
    from the cassette), ``refused`` (the proxy answered it: 400, 413...).
    ``client_left``: the client went away before the end.  Times are
    seconds; ``ttfb``: from the request's arrival to the answer's first
    body byte.  ``miss``: why no recording answered (modes that replay only),
    with the difference from the nearest one.
    """

    client: str
    method: str
    path: str
    status: int = 0
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    ttfb: float | None = None
    duration: float = 0.0
    recording: str | None = None
    outcome: str = "refused"
    message: str | None = None
    client_left: bool = False
    events: int = 0
    usage: StreamUsage | None = None
    miss: str | None = None

    def describe(self) -> str:
        parts = [self.method, self.path[:200], str(self.status)]
        if self.model:
            parts.append(self.model)
        if self.input_tokens is not None or self.output_tokens is not None:
            parts.append(f"in={_count(self.input_tokens)} out={_count(self.output_tokens)}")
        if self.ttfb is not None:
            parts.append(f"ttfb={self.ttfb * 1000:.0f}ms")
        parts.append(f"{self.duration:.2f}s")
        if self.outcome not in ("eof", "refused"):
            parts.append(self.outcome)
        if self.client_left:
            parts.append("client-left")
        if self.recording:
            parts.append(f"-> {self.recording}")
        text = " ".join(parts)
        if self.message:
            text += f": {self.message}"
        return text


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


class UsageTap:
    """Gathers one stream's usage from its records as they pass."""

    def __init__(self, file: str, estimator=None):
        self._collector = StreamCollector(file, 1, None, estimator)

    def __call__(self, record: Record) -> None:
        self._collector.feed(record)

    def feed_lines(self, lines: bytes) -> None:
        """Records as the compiled core wrote them (NDJSON lines): runs of
        text deltas are counted whole, as ``sseq usage`` counts them."""
        collector = self._collector
        batch: list = []

        def read_lines(start: int, stop: int) -> None:
            batch.extend(parse_record_line(line) for line in lines_of(lines, start, stop))

        with_runs(lines, 0, len(lines), RUN_SHAPES, True, read_lines, batch)
        for item in batch:
            if type(item) is RecordRun:
                collector.feed_run(item)
            else:
                collector.feed(item)

    def finish(self) -> StreamUsage | None:
        """The stream's row; None when nothing was seen."""
        if self._collector.events == 0:
            return None
        return self._collector.finish()


class LedgerWriter:
    """Adds usage rows to a ledger from one thread of its own (a ledger
    connection belongs to the thread that opened it), each as it comes."""

    def __init__(self, path: str, on_error: Callable[[str], None]):
        from ..usage.ledger import Ledger

        self.path = path
        self.on_error = on_error
        self.failures = 0
        self.added = 0
        Ledger(path).close()  # a ledger that cannot be opened is an error at start
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sseq-proxy-ledger", daemon=True)
        self._thread.start()

    def add(self, usage: StreamUsage) -> None:
        self._queue.put(usage)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        from ..errors import SseqError
        from ..usage.ledger import Ledger

        ledger = Ledger(self.path)
        try:
            while True:
                usage = self._queue.get()
                if usage is None:
                    return
                try:
                    added, improved, _known = ledger.add([usage])
                    self.added += added + improved
                except SseqError as exc:
                    self.failures += 1
                    self.on_error(str(exc))
        finally:
            ledger.close()
