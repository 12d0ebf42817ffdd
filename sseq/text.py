"""The assistant's text, assembled from any provider's stream events.

Where each family puts its text and reasoning is the family's own
knowledge (:mod:`sseq.providers`); this module only lays the fragments out
for a person to read.
"""

from __future__ import annotations

from .providers import REASONING, TEXT, StreamReader
from .records import Record

__all__ = ["REASONING", "TEXT", "TextAssembler"]


class TextAssembler:
    """Turns records into the text a person reads.  With ``reasoning``, the
    reasoning text is included too, set off from the answer by a blank line
    wherever the stream switches between them."""

    def __init__(self, reasoning: bool = False):
        self.reasoning = reasoning
        self.last_kind: str | None = None
        self.ends_with_newline = True
        self._stream = StreamReader(usage=False)

    def feed(self, record: Record) -> str:
        pieces = []
        for kind, text, _block in self._stream.feed(record):
            if kind != TEXT and (kind != REASONING or not self.reasoning):
                continue
            if not text:
                continue
            if self.last_kind is not None and kind != self.last_kind:
                pieces.append("\n\n" if self.ends_with_newline is False else "\n")
            self.last_kind = kind
            pieces.append(text)
            self.ends_with_newline = text.endswith("\n")
        return "".join(pieces)

    def finish(self) -> str:
        """What to write at the end: a final newline when the text lacks one."""
        return "" if self.last_kind is None or self.ends_with_newline else "\n"
