"""A recording made ready to serve: read whole at start, ids settled.

Every file is read once, when the server starts, so nothing on disk is
reachable through a request and every connection replays the same steps.

From ``sseq.open`` come the answer's status and headers (hop-by-hop,
framing and redacted ones left out: see :func:`served_headers`) and the
request it answered; from ``sseq.close`` the body of a non-stream answer
(a JSON completion, an error).  A recording without them (raw SSE, an old
recording) is a ``200 text/event-stream`` answer to any request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from ..inputs import iter_record_batches, open_source
from ..parser import DEFAULT_MAX_EVENT_SIZE
from ..providers import Family, detect_family
from ..records import CLOSE, COMMENT, OPEN, RETRY, Record


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to put on the wire: a record, and the id it goes out with
    (None: leave the client's last event id as it is)."""

    record: Record
    wire_id: str | None
    is_event: bool


# Never replayed from a recording: they describe one connection, or the
# body as it was framed and encoded on the wire, not the answer.
_NOT_REPLAYED = frozenset((
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "content-length", "content-encoding",
))
REDACTED = "[redacted]"


def served_headers(recorded: Any) -> tuple[tuple[str, str], ...] | None:
    """The recorded response headers a replay sends: all but hop-by-hop
    ones, the body's framing and encoding (the recording holds the decoded
    body, framed anew) and redacted ones.  None when none were recorded."""
    if not isinstance(recorded, Mapping):
        return None
    return tuple((str(name), str(value)) for name, value in recorded.items()
                 if str(name).lower() not in _NOT_REPLAYED and value != REDACTED)


@dataclass(frozen=True)
class Recording:
    """A recording ready to serve: its steps (``sseq.open``/``sseq.close``
    dropped), where a client resumes after each event id, and the provider
    family whose error event ``error_after`` imitates.

    ``id_mode``: ``"recorded"`` (the recording's own ids), ``"numbered"``
    (1, 2, … added by the server) or ``"none"``.  ``status`` and
    ``headers``: the recorded answer's (``headers`` None when none were
    recorded).  ``body``: the whole body of a non-stream answer, else None.
    ``request``: what the recording answered (``sseq.open``'s ``request``),
    ``url_path`` and ``method`` from ``sseq.open`` when it has no request,
    ``started`` its wall-clock start: what a cassette matches and orders by.
    """

    name: str
    steps: tuple[Step, ...]
    id_mode: str
    family: Family
    named_events: bool
    resume_at: Mapping[str, int] = field(repr=False)
    events: int = 0
    status: int = 200
    headers: tuple[tuple[str, str], ...] | None = None
    body: str | None = None
    request: Mapping[str, Any] | None = field(default=None, repr=False)
    url_path: str | None = None
    started: str | None = None

    @property
    def sequence(self) -> int | None:
        value = self.request.get("sequence") if self.request is not None else None
        return value if type(value) is int else None

    @classmethod
    def from_records(cls, name: str, records: Iterable[Record], ids: bool = False) -> Recording:
        records = list(records)
        opened = next((r.data for r in records if r.event == OPEN and isinstance(r.data, dict)), {})
        closed = next((r.data for r in reversed(records) if r.event == CLOSE and isinstance(r.data, dict)), {})
        kept = [r for r in records if r.event != OPEN and r.event != CLOSE]
        has_ids = any(r.id for r in kept)
        id_mode = "recorded" if has_ids else ("numbered" if ids else "none")
        steps: list[Step] = []
        resume_at: dict[str, int] = {}
        number = 0
        for record in kept:
            is_event = record.event != COMMENT and record.event != RETRY
            if id_mode == "numbered":
                if is_event:
                    number += 1
                    wire_id = str(number)
                else:
                    wire_id = None
            else:
                wire_id = record.id or "" if record.event != COMMENT else None
            steps.append(Step(record, wire_id, is_event))
            if is_event and wire_id:
                # The last event that carried the id: a client that saw it
                # has seen everything before it.
                resume_at[wire_id] = len(steps)
        return cls(
            name=name,
            steps=tuple(steps),
            id_mode=id_mode,
            family=detect_family(kept),
            named_events=any(s.is_event and s.record.event != "message" for s in steps),
            resume_at=resume_at,
            events=sum(1 for s in steps if s.is_event),
            **_answer(opened, closed, any(s.is_event for s in steps)),
        )

    def start_after(self, last_event_id: str | None) -> int:
        """Index of the first step to send to a client that last saw
        ``last_event_id``: 0 for a new client or an id this recording does
        not hold."""
        if not last_event_id or self.id_mode == "none":
            return 0
        return self.resume_at.get(last_event_id, 0)

    def events_from(self, index: int) -> int:
        return sum(1 for s in self.steps[index:] if s.is_event)


def _answer(opened: Mapping[str, Any], closed: Mapping[str, Any], has_events: bool) -> dict[str, Any]:
    """What ``sseq.open`` and ``sseq.close`` say about the answer and the
    request, as Recording fields."""
    status = opened.get("status")
    request = opened.get("request")
    url = opened.get("url")
    body = closed.get("body")
    return {
        "status": status if type(status) is int and 100 <= status <= 599 else 200,
        "headers": served_headers(opened.get("headers")),
        # A non-stream answer: its body, and no events.
        "body": body if type(body) is str and not has_events else None,
        "request": request if isinstance(request, dict) and request.get("path") else None,
        "url_path": urlsplit(url).path or "/" if type(url) is str and url else None,
        "started": opened.get("started") if type(opened.get("started")) is str else None,
    }


def load_recording(path: str | os.PathLike, ids: bool = False, max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
                   stdin: BinaryIO | None = None) -> Recording:
    """Read a recording (NDJSON records or raw SSE, ``.gz`` too; ``-`` is
    ``stdin``) whole.

    Raises :class:`sseq.errors.BadInput` naming the file and line."""
    source = open_source(os.fspath(path), stdin)
    try:
        records = [r for batch in iter_record_batches(source, max_event_size=max_event_size) for r in batch]
    finally:
        source.close()
    return Recording.from_records(os.fspath(path), records, ids)
