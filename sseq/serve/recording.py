"""A recording made ready to serve: read whole at start, ids settled.

Every file is read once, when the server starts, so nothing on disk is
reachable through a request and every connection replays the same steps.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from ..inputs import iter_record_batches, open_source
from ..markers import detect_provider
from ..parser import DEFAULT_MAX_EVENT_SIZE
from ..records import CLOSE, COMMENT, OPEN, RETRY, Record


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to put on the wire: a record, and the id it goes out with
    (None: leave the client's last event id as it is)."""

    record: Record
    wire_id: str | None
    is_event: bool


@dataclass(frozen=True)
class Recording:
    """A recording ready to serve: its steps (``sseq.open``/``sseq.close``
    dropped), where a client resumes after each event id, and the provider
    whose error format ``error_after`` imitates.

    ``id_mode``: ``"recorded"`` (the recording's own ids), ``"numbered"``
    (1, 2, … added by the server) or ``"none"``.
    """

    name: str
    steps: tuple[Step, ...]
    id_mode: str
    provider: str
    named_events: bool
    resume_at: Mapping[str, int] = field(repr=False)
    events: int = 0

    @classmethod
    def from_records(cls, name: str, records: Iterable[Record], ids: bool = True) -> Recording:
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
            provider=detect_provider(kept),
            named_events=any(s.is_event and s.record.event != "message" for s in steps),
            resume_at=resume_at,
            events=sum(1 for s in steps if s.is_event),
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


def load_recording(path: str | os.PathLike, ids: bool = True, max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
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
