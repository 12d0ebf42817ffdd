"""The normalised shape of one stream's token usage, whatever its provider."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..providers.base import Tokens

REPORTED = "reported"
ESTIMATED = "estimated"
MISSING = "missing"
USAGE_SOURCES = (REPORTED, ESTIMATED, MISSING)

COMPLETE = "complete"
ERROR = "error"
TRUNCATED = "truncated"
INCOMPLETE = "incomplete"
VERDICTS = (COMPLETE, ERROR, TRUNCATED, INCOMPLETE)

__all__ = ["StreamUsage", "Tokens"]

TOKEN_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
)


@dataclass(frozen=True, slots=True)
class StreamUsage:
    """One stream's row: where it came from, what it cost in tokens, and how
    it ended.

    ``file``: the input it was read from; ``stream``: its 1-based index in
    that file (a records file can hold several).  ``response_id``: the
    provider's id for the response, when the stream carried one; ``digest``:
    sha256 of the stream's upstream events (type and data, sseq's own
    records left out), the ledger's key when there is no response id.
    ``api``: the wire format (``openai-chat``, ``openai-responses``,
    ``anthropic``, ``gemini``, or ``unknown``); ``provider``: who served it
    (``openai``, ``azure``, ``anthropic``, ``google``, ``vertex``,
    ``groq``, ``deepseek``, ``openrouter``, ``vllm``...); ``model``: the
    model the provider named.

    The token fields are those of :class:`Tokens`, or None when the stream
    reported no usage (``usage_source`` ``missing``: never a silent zero).
    ``usage_source``: ``reported``, ``estimated`` (``--estimate`` counted the
    output text; the input is unknown, so ``input_tokens`` stays None) or
    ``missing``.  ``verdict``: ``complete`` (a terminal marker was seen),
    ``incomplete`` (the provider stopped early: a token limit or a content
    filter; its reason in ``stop_reason``), ``error`` (an in-band error,
    which wins over the others) or ``truncated`` (none of these);
    ``error``: the error's message.

    ``tool_calls``: calls by kind (``function`` for the caller's own tools,
    ``web_search``, ``code_execution``... for the provider's built-in ones).
    ``ttft_ms``: time from the start of the stream to its first output
    delta; ``output_tokens_per_s``: output tokens over the time from the
    first output delta to the end; both None unless records carry ``t``.
    ``started``: POSIX seconds, from ``sseq.open``'s ``started`` or else the
    file's modification time; it decides the stream's day.

    ``cache_write_1h_tokens``: the part of ``cache_write_tokens`` written
    with a 1-hour TTL (Anthropic), None where the provider does not say.
    ``service_tier``: the tier that served the stream, ``standard``,
    ``flex``, ``priority`` or ``batch`` (OpenAI's and Anthropic's
    ``service_tier``, Vertex AI's ``trafficType``), None when not reported.
    ``stop_reason``: why the model stopped, in the provider's own words
    (``stop``, ``length``, ``end_turn``, ``max_tokens``, ``STOP``,
    ``MAX_TOKENS``, ``max_output_tokens``...), None when not reported.

    ``events``: how many upstream events the digest covers;
    ``checkpoints``: the digest after the first 1, 2, 4, 8... events (16
    hex digits each), so the ledger can tell a cut-short sighting of this
    stream from another stream; ``host`` and ``labels``: the recording
    machine and the ``--label``s from ``sseq.open``.
    """

    file: str
    stream: int
    response_id: str | None
    digest: str
    api: str
    provider: str | None
    model: str | None
    usage_source: str
    verdict: str
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    tool_calls: dict[str, int] = field(default_factory=dict)
    ttft_ms: float | None = None
    output_tokens_per_s: float | None = None
    started: float | None = None
    error: str | None = None
    cache_write_1h_tokens: int | None = None
    service_tier: str | None = None
    stop_reason: str | None = None
    events: int = 0
    checkpoints: list[str] = field(default_factory=list)
    host: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The identity the ledger counts once: the stream's content.  Two
        streams that share a response id but differ are two streams; the
        response id is only a hint that a truncated sighting is a part of a
        longer one (see ``ledger``)."""
        return f"sha256:{self.digest}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
