"""Where a reconnection picks up a stream without repeating a record.

A server that honours ``Last-Event-ID`` replays from the event that set the
ID; the events after it that inherited the same ID were already recorded.
A server that ignores it starts again from the beginning.  Either way the
new connection first sends events already written: :class:`ResumePoint`
knows them -- by their ID when they carry an earlier one, by their content
among those that carry the last ID -- and skips them until the first new
event; from there on, everything is written.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from ..parser import Event

__all__ = ["ResumePoint"]

_MEMORY = 100_000  # IDs and events remembered: bounded, whatever the stream's length


class ResumePoint:
    """The last event ID seen, the IDs already written, and the events
    already written that carry the last ID."""

    def __init__(self, last_event_id: str = ""):
        self.last_id = last_event_id
        self._tail: deque[int] = deque(maxlen=_MEMORY)  # events carrying last_id
        self._written_ids: OrderedDict[str, None] = OrderedDict()  # IDs before last_id, oldest first
        self._catching_up = False
        self._resume_id = ""
        self._skip: list[int] = []
        self._skipped = 0

    def connect(self, resuming: bool) -> None:
        """A new connection starts; ``resuming``: it follows one that
        brought events (or asked to resume from an ID)."""
        self._resume_id = self.last_id
        self._catching_up = resuming
        self._skip = list(self._tail) if resuming and self.last_id else []
        self._skipped = 0

    def is_repeat(self, event: Event) -> bool:
        """True for an event this connection sends again; the first new one
        ends the catching up."""
        if not self._catching_up:
            return False
        if event.id == self._resume_id:
            key = _event_key(event)
            if key in self._skip[self._skipped:]:
                self._skipped = self._skip.index(key, self._skipped) + 1
                return True
        elif event.id and event.id in self._written_ids:
            return True  # an earlier event: the server started again from the beginning
        self._catching_up = False
        self._skip = []
        return False

    def remember(self, event: Event) -> None:
        """Keep what a resumed connection must not repeat: the events that
        carry the current last-event-ID (the one that set it, and those
        after it that inherited it), and the IDs before it."""
        self.note_id(event.id)
        if event.id:
            self._tail.append(_event_key(event))

    def note_id(self, new_id: str) -> None:
        """An ID seen in the stream (also on a block with no data)."""
        if new_id != self.last_id:
            if self.last_id and self._tail:
                self._written_ids[self.last_id] = None
                self._written_ids.move_to_end(self.last_id)
                if len(self._written_ids) > _MEMORY:
                    self._written_ids.popitem(last=False)
            self.last_id = new_id
            self._tail.clear()


def _event_key(event: Event) -> int:
    return hash((event.type, event.data_bytes))
