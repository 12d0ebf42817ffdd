"""The assistant's text, assembled from any provider's stream events.

Where each family puts its text and reasoning is the family's own
knowledge (:mod:`sseq.providers`); this module only lays the fragments out
for a person to read: reasoning set off from the answer by a blank line,
and separate content blocks, reasoning-summary parts, streams and files
each starting on a line of their own.
"""

from __future__ import annotations

from .providers import REASONING, TEXT, StreamReader
from .records import OPEN, Record

__all__ = ["REASONING", "TEXT", "TextAssembler"]


class TextAssembler:
    """Turns records into the text a person reads.  With ``reasoning``, the
    reasoning text is included too, set off from the answer by a blank line
    wherever the stream switches between them."""

    def __init__(self, reasoning: bool = False):
        self.reasoning = reasoning
        self.last_kind: str | None = None
        self.last_block: object = None
        self.ends_with_newline = True
        self._stream = StreamReader(usage=False)

    def new_input(self) -> None:
        """The next records come from another file: a stream of their own."""
        self._stream = StreamReader(usage=False)
        self.last_block = _BOUNDARY

    def feed(self, record: Record) -> str:
        if record.event == OPEN:
            if not (type(record.data) is dict and record.data.get("resume") is True):
                self.new_input()
            return ""
        if self._stream.opens_next(record):
            self.new_input()
        pieces = []
        for kind, text, block in self._stream.feed(record):
            if kind != TEXT and (kind != REASONING or not self.reasoning):
                continue
            if not text:
                continue
            if self.last_kind is not None:
                if kind != self.last_kind:
                    pieces.append("\n\n" if self.ends_with_newline is False else "\n")
                elif block != self.last_block and not self.ends_with_newline:
                    pieces.append("\n")
            self.last_kind = kind
            self.last_block = block
            pieces.append(text)
            self.ends_with_newline = text.endswith("\n")
        return "".join(pieces)

    def feed_run(self, run) -> str:
        """A :class:`~sseq.runs.RecordRun`: its records' text, as
        :meth:`feed` of each would give it."""
        fragment = self._stream.feed_run(run)
        if fragment is None:
            return "".join(self.feed(record) for record in run.records())
        kind = fragment.kind
        if kind != TEXT and (kind != REASONING or not self.reasoning):
            return ""
        # The record before it was this kind, in this block: no separator.
        self.ends_with_newline = fragment.text.endswith("\n")
        return fragment.text

    def finish(self) -> str:
        """What to write at the end: a final newline when the text lacks one."""
        return "" if self.last_kind is None or self.ends_with_newline else "\n"


# A block that no fragment has: what follows a stream or file boundary is
# always a new block.
_BOUNDARY = object()
