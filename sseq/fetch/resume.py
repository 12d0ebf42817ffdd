"""Where a reconnection picks up a stream without repeating a record.

A server that honours ``Last-Event-ID`` replays from the event that set the
ID; the events after it that inherited the same ID were already recorded.
:class:`ResumePoint` keeps that ID and those events, and skips them when
the new connection sends them again.
"""

from __future__ import annotations

from collections import deque

from ..parser import Event

__all__ = ["ResumePoint"]


class ResumePoint:
    """The last event ID seen, and the events already written that carry it."""

    def __init__(self, last_event_id: str = ""):
        self.last_id = last_event_id
        self._tail: deque[int] = deque(maxlen=100_000)  # events carrying last_id
        self._resume_id = ""
        self._skip: list[int] = []
        self._skipped = 0

    def connect(self, resuming: bool) -> None:
        """A new connection starts; ``resuming``: it asked to resume."""
        self._resume_id = self.last_id
        self._skip = list(self._tail) if resuming and self.last_id else []
        self._skipped = 0

    def is_repeat(self, event: Event) -> bool:
        """True for an event this connection sends again; the first new one
        ends the skipping."""
        if not self._skip:
            return False
        key = _event_key(event)
        if event.id == self._resume_id and key in self._skip[self._skipped:]:
            self._skipped = self._skip.index(key, self._skipped) + 1
            return True
        self._skip = []
        return False

    def remember(self, event: Event) -> None:
        """Keep what a resumed connection must not repeat: the events that
        carry the current last-event-ID (the one that set it, and those
        after it that inherited it)."""
        self.note_id(event.id)
        if event.id:
            self._tail.append(_event_key(event))

    def note_id(self, new_id: str) -> None:
        """An ID seen in the stream (also on a block with no data)."""
        if new_id != self.last_id:
            self.last_id = new_id
            self._tail.clear()


def _event_key(event: Event) -> int:
    return hash((event.type, event.data_bytes))
