"""The interface every provider family implements, and the shapes it fills.

A :class:`Family` knows one wire format: which records are its own, where
their text and reasoning are, what ends a stream, what reports an error,
where the usage is, and what error event to inject.  Its per-stream state
lives in the two readers it makes: a :class:`TextReader` (text fragments)
and a :class:`UsageObserver` (tokens, model, tool calls).  Nothing here
knows a particular provider; the families are the modules beside this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from ..records import Record


class Api:
    """The wire-format names every command and output uses."""

    OPENAI_CHAT = "openai-chat"
    OPENAI_RESPONSES = "openai-responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    COHERE = "cohere"
    UNKNOWN = "unknown"


# Fragment kinds: the assistant's answer, its reasoning, and tool-call
# names and arguments (output that is not text, counted for timing and
# --estimate only).
TEXT = "text"
REASONING = "reasoning"
TOOL = "tool"


class Fragment(NamedTuple):
    """A piece of output carried by one record.  ``block``: which content
    block (or reasoning-summary part) of the stream it belongs to, so a
    reader can set separate blocks apart; None when the format has one."""

    kind: str
    text: str
    block: Any = None


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token counts as one provider reported them, mapped onto one shape.

    ``input_tokens``: every input token, cached input and cache writes
    included.  ``cached_input_tokens``: the part of the input read from the
    provider's cache.  ``cache_write_tokens``: the part written to it
    (Anthropic's cache creation).  ``output_tokens``: every output token,
    reasoning included.  ``reasoning_tokens``: the reasoning part of the
    output, or None where the provider does not break it out.
    ``total_tokens``: as the provider reported it, else input + output.
    ``cache_write_1h_tokens``: the part of the cache writes made with a
    1-hour TTL (Anthropic's ``cache_creation.ephemeral_1h_input_tokens``),
    None where the provider does not say.
    """

    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int | None
    total_tokens: int
    cache_write_1h_tokens: int | None = None


def as_int(value) -> int:
    """A count, 0 when absent (or not a number)."""
    return value if type(value) is int else int(value) if type(value) is float else 0


def maybe_int(value) -> int | None:
    """A count, None when absent (or not a number)."""
    if type(value) is int:
        return value
    if type(value) is float:
        return int(value)
    return None


# Each provider's name for the tier that served a request, onto one set:
# standard, flex, priority, batch.  OpenAI's "scale" and Vertex AI's
# provisioned throughput are paid for up front, not per token: left None.
_SERVICE_TIERS = {
    "default": "standard", "auto": "standard", "standard": "standard", "on_demand": "standard",
    "flex": "flex", "on_demand_flex": "flex",
    "priority": "priority", "fast": "priority", "on_demand_priority": "priority",
    "batch": "batch",
}


def maybe_service_tier(value) -> str | None:
    """``standard``, ``flex``, ``priority`` or ``batch`` from a provider's
    tier name (OpenAI's ``service_tier``, Anthropic's ``usage.service_tier``,
    Vertex AI's ``trafficType``...), None when absent or not one of them."""
    return _SERVICE_TIERS.get(value.lower()) if type(value) is str else None


def error_object_text(error: dict) -> str | None:
    """What an ``error`` object says: its message, else its code or type."""
    for key in ("message", "code", "type"):
        if error.get(key):
            return str(error[key])
    return None


def error_text(data) -> str | None:
    """The message of an error event's data: its ``error`` (object or
    string), the ``error`` of its ``response``, else its ``message``."""
    if type(data) is not dict:
        return str(data) if data else None
    error = data.get("error")
    if error is None and type(data.get("response")) is dict:
        error = data["response"].get("error")
    if type(error) is dict:
        return error_object_text(error) or str(error)
    if error:
        return str(error)
    if data.get("message"):
        return str(data["message"])
    return None


def json_record(event: str, data: dict) -> Record:
    """A record whose data is ``data``, with its exact bytes."""
    return Record(event, data, raw=orjson.dumps(data))


@dataclass(frozen=True, slots=True)
class DeltaShape:
    """A record that, right after one like it, a family's readers treat the
    same way: a fragment of ``kind`` whose text is ``data[text_key]`` (a
    non-empty string), in the block of the record before, and nothing else
    noted.  True when the event is ``event``, the data an object holding
    the text key, the same values as the record before for ``same_keys``
    (all a block depends on), and otherwise only ``other_keys`` (which no
    reader looks at).  The compiled core takes runs of such records in one
    call (sseq.runs.RecordRun); tests/providers/test_delta_runs.py holds
    each family to it."""

    event: str
    kind: str
    text_key: str
    same_keys: tuple[str, ...]
    other_keys: tuple[str, ...]


class TextReader:
    """One stream's text fragments, record by record.  This default asks
    the family for each record's fragments; a family whose text needs
    memory (what has already been said) makes its own."""

    def __init__(self, family: Family) -> None:
        self.family = family

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        return self.family.iter_fragments(record)


class UsageObserver:
    """Watches one stream's records of one family and keeps what its usage
    rules need.  ``hints``: names of relays the records give away
    (``groq``, ``openrouter``...), for the provider when the url does not
    say.  ``stop_reason``: why the model stopped, in the provider's own
    words; ``stopped_early``: that reason is a cut-off (a token limit, a
    content filter), not a finished answer.  ``service_tier``: see
    :func:`maybe_service_tier`."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.response_id: str | None = None
        self.hints: set[str] = set()
        self.stop_reason: str | None = None
        self.stopped_early = False
        self.service_tier: str | None = None

    def feed(self, record: Record, data: dict) -> None:
        """Note one record of this family (``data``: its dict data)."""

    def tokens(self) -> Tokens | None:
        """The stream's reported usage by the family's rule, or None."""
        return None

    def tool_calls(self) -> dict[str, int]:
        """Tool calls by kind, sorted by kind."""
        return {}

    def note_identity(self, model, rid) -> None:
        """The model and response id, where the provider's object has them."""
        if type(model) is str and model:
            self.model = model
        if type(rid) is str and rid:
            self.response_id = rid

    def note_stop(self, reason, early: frozenset | None = None, normal: frozenset | None = None) -> None:
        """A stop reason: a cut-off when it is in ``early`` (or, given
        ``normal``, when it is not in it)."""
        if type(reason) is str and reason:
            self.stop_reason = reason
            self.stopped_early = reason in early if early is not None else reason not in (normal or ())

    def note_tier(self, value) -> None:
        tier = maybe_service_tier(value)
        if tier is not None:
            self.service_tier = tier


class Family:
    """One provider family's wire format.  Subclasses set the names and
    override what their format has."""

    api: str = Api.UNKNOWN
    default_provider: str | None = None
    # (host suffix, provider) pairs: who served a stream, from its url.
    hosts: tuple[tuple[str, str], ...] = ()
    # Records its readers treat like the one before them (see DeltaShape).
    delta_shapes: tuple[DeltaShape, ...] = ()

    def claims(self, record: Record) -> bool:
        """True when the record is in this family's format."""
        raise NotImplementedError

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        """Text, reasoning and tool fragments of one record of this family."""
        return iter(())

    def text_reader(self) -> TextReader:
        """A reader for one stream's fragments."""
        return TextReader(self)

    def is_terminal(self, record: Record) -> bool:
        """True for the record that says the upstream finished."""
        return False

    def maybe_error(self, record: Record) -> str | None:
        """The message of an in-band error event of this format, or None."""
        return None

    def usage_observer(self) -> UsageObserver:
        """A usage observer for one stream."""
        return UsageObserver()

    def opens_stream(self, record: Record, ended_at: Record, previous: Record | None) -> bool:
        """True when ``record`` is the first of a new stream.  Asked only
        after the stream ended: ``ended_at`` is its terminal marker or
        in-band error; ``previous`` the last record a family claimed."""
        return False

    def error_event(self, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
        """The error event this format sends mid-stream (the inverse of
        :meth:`maybe_error`).  ``previous``: the last event sent;
        ``named_events``: the stream names its events."""
        raise NotImplementedError

    def maybe_http_error(self, body: Any) -> str | None:
        """The message in an HTTP error body (parsed JSON) of this format."""
        return None


def iter_items(value) -> Iterable[dict]:
    """The dict items of a list (nothing when it is not a list)."""
    if type(value) is list:
        for item in value:
            if type(item) is dict:
                yield item
