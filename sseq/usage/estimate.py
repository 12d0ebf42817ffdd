"""``--estimate``: count the tokens of a stream's output text when the stream
reported no usage.

The count needs no vocabulary file and no network: text is cut into pieces
the way BPE tokenisers of the GPT family pre-tokenise it (words with their
leading space, runs of up to three digits, punctuation runs, whitespace),
and each piece is costed by rules fitted to OpenAI's cl100k_base encoding
on the real recordings (within 5% of it there).  It is an estimate for every
model: providers tokenise differently, hidden reasoning is not in the text,
and the input is not in the recording at all, so only output tokens are
estimated.  The README gives the error measured against reported usage.
"""

from __future__ import annotations

import math
import re

_FLUSH_AT = 16384

# What a response's text does not show: the end-of-message tokens, and the
# framing of each call of the caller's own tools.  Fitted on the real
# recordings that report usage (tests/fixtures/real): without them the
# estimate falls short by 2 to 4 tokens per message and about 10 per call.
MESSAGE_OVERHEAD = 3
TOOL_CALL_OVERHEAD = 10
_CALLER_TOOLS = ("function", "custom")


def estimate_output(text_tokens: int, tool_calls: dict[str, int]) -> int:
    """Estimated output tokens of a stream from the tokens of its text."""
    calls = sum(tool_calls.get(kind, 0) for kind in _CALLER_TOOLS)
    return text_tokens + MESSAGE_OVERHEAD + TOOL_CALL_OVERHEAD * calls


_PIECES = re.compile(
    r"'(?i:[sdmt]|ll|ve|re)"  # English contractions
    r"|[^\r\n\w]?[^\W\d_]+"  # a word, with one leading space or mark
    r"|\d{1,3}"  # numbers go in groups of up to three digits
    r"| ?[^\s\w]+[\r\n]*"  # punctuation runs
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"  # line breaks and other whitespace
)
_SHORT_WORD = 8  # a word this long or shorter is one token
_WORD_CHARS = 7  # longer words: one token per this many characters
_PUNCT_CHARS = 3
_NON_ASCII_BYTES = 3  # non-ASCII text: one token per this many UTF-8 bytes


def count_tokens(text: str) -> int:
    """Estimated BPE tokens in a text."""
    count = 0
    for match in _PIECES.finditer(text):
        piece = match.group()
        if not piece.isascii():
            count += max(1, math.ceil(len(piece.encode()) / _NON_ASCII_BYTES))
            continue
        core = piece.strip()
        size = len(core)
        if not size or core.isdigit():
            count += 1
        elif core[0].isalpha() or core[-1].isalpha():
            count += 1 if size <= _SHORT_WORD else math.ceil(size / _WORD_CHARS)
        else:
            count += math.ceil(size / _PUNCT_CHARS)
    return count


class Estimator:
    """Hands out per-stream counters (kept as a class for library callers
    that want to count several streams alike)."""

    def encode_len(self, text: str) -> int:
        return count_tokens(text)

    def counter(self) -> TokenCounter:
        return TokenCounter(self)


class TokenCounter:
    """Counts the tokens of text fed in pieces, in constant memory: text is
    encoded in blocks cut at whitespace, so no word is split between two."""

    def __init__(self, estimator: Estimator):
        self.estimator = estimator
        self.pending: list[str] = []
        self.size = 0
        self.count = 0
        self.seen = False

    def add(self, piece: str) -> None:
        self.seen = True
        self.pending.append(piece)
        self.size += len(piece)
        if self.size >= _FLUSH_AT:
            text = "".join(self.pending)
            cut = max(text.rfind(" "), text.rfind("\n"))
            if cut <= 0:
                cut = len(text)
            self.count += self.estimator.encode_len(text[:cut])
            rest = text[cut:]
            self.pending = [rest] if rest else []
            self.size = len(rest)

    def total(self) -> int:
        if self.pending:
            self.count += self.estimator.encode_len("".join(self.pending))
            self.pending = []
            self.size = 0
        return self.count
