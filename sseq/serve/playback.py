"""What one connection is sent, decided without touching a socket.

A :class:`Playback` turns a recording, where the client resumes, and the
replay options into actions: :class:`Send` these bytes, :class:`Sleep` this
long (recorded pacing; keep-alive comments fall in the pauses), or
:data:`CUT` the connection (``drop_after``).  The caller does the IO::

    playback = Playback(recording, recording.start_after(last_event_id), speed=1)
    for action in playback:
        ...  # send, sleep or cut
    playback.events, playback.outcome   # what the client got

Counters move when the caller asks for the next action, i.e. after it has
sent the previous one, so a client that goes away mid-write is not counted
as having the event.  The clock is a parameter, so tests need not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..records import Record
from ..wire import WireEncoder
from .recording import Recording

KEEPALIVE_COMMENT = b": keep-alive\n\n"


@dataclass(frozen=True, slots=True)
class Send:
    data: bytes


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


class _Cut:
    def __repr__(self) -> str:
        return "CUT"


# Close the connection without ending the body: the client sees a drop.
CUT = _Cut()


class Playback:
    """The replay of ``recording`` from step ``start`` for one connection.

    ``speed``: follow the recorded ``t`` (1 = real time; 0 = no pauses).
    ``keepalive``: seconds of silence after which a keep-alive comment is
    sent (None: never).  ``drop_after``: cut after this many events, unless
    none are left.  ``error_after``: after this many events send the
    provider's in-band error event instead of the next one, and end.

    ``events``: events sent so far.  ``outcome``: None until the end, then
    ``"complete"``, ``"dropped"`` or ``"error"``.
    """

    def __init__(self, recording: Recording, start: int = 0, *, speed: float = 0.0, keepalive: float | None = None,
                 drop_after: int | None = None, error_after: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.recording = recording
        self.start = start
        self.speed = speed
        self.keepalive = keepalive
        self.drop_after = drop_after
        self.error_after = error_after
        self.clock = clock
        self.events = 0
        self.outcome: str | None = None

    def __iter__(self) -> Iterator[Send | Sleep | _Cut]:
        recording = self.recording
        encoder = WireEncoder()
        steps = recording.steps[self.start:]
        remaining = recording.events_from(self.start)
        begin = self.clock()
        # A resumed client's pauses count from the first step it gets.
        base_t = next((s.record.t for s in steps if s.record.t is not None), None) if self.start else None
        base_t = base_t or 0.0
        previous: Record | None = None
        for step in steps:
            record = step.record
            if step.is_event and self.error_after is not None and self.events >= self.error_after:
                message = f"sseq serve: error injected after {self.events} events (--error-after)"
                error = recording.family.error_event(message, previous, recording.named_events)
                yield Send(encoder.encode(error, encoder.last_id))
                self.outcome = "error"
                return
            if self.speed and record.t is not None:
                yield from self._iter_pause_until(begin + (record.t - base_t) / self.speed)
            wire_id = step.wire_id if step.wire_id is not None else encoder.last_id
            yield Send(encoder.encode(record, wire_id))
            if step.is_event:
                self.events += 1
                remaining -= 1
                previous = record
                if self.drop_after is not None and self.events >= self.drop_after and remaining > 0:
                    self.outcome = "dropped"
                    yield CUT
                    return
        self.outcome = "complete"

    def _iter_pause_until(self, due: float) -> Iterator[Send | Sleep]:
        """Sleeps until ``due``, with a keep-alive comment after each
        ``keepalive`` seconds of it (none when the pause ends first)."""
        keepalive = self.keepalive
        while True:
            left = due - self.clock()
            if left <= 0:
                return
            yield Sleep(left if keepalive is None else min(left, keepalive))
            if keepalive is not None and due - self.clock() > 0:
                yield Send(KEEPALIVE_COMMENT)
