"""What ends a stream, and what reports an error, in each provider's format."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from .records import Record

# Responses API and Anthropic Messages terminal event types.
TERMINAL_TYPES = frozenset(
    ("response.completed", "response.incomplete", "response.failed", "message_stop", "response.done")
)


def is_terminal(record: Record) -> bool:
    """True for the record that says the upstream finished: ``[DONE]``
    (Chat Completions and the relays), a terminal Responses or Anthropic
    event, or a Gemini chunk carrying a finishReason."""
    data = record.data
    if type(data) is str:
        return data.strip() == "[DONE]"
    if record.type in TERMINAL_TYPES:
        return True
    if type(data) is dict:
        candidates = data.get("candidates")
        if type(candidates) is list:
            return any(type(c) is dict and c.get("finishReason") for c in candidates)
    return False


def maybe_error(record: Record) -> str | None:
    """The message of an in-band error event, or None.

    Covers ``event: error`` (Anthropic, Groq), the Responses ``error`` event,
    and a chunk whose body holds an ``error`` object (OpenRouter).
    """
    data = record.data
    kind = record.type
    if kind == "error" or record.event == "error" or kind == "response.failed":
        return _error_text(data) or kind
    if type(data) is dict and data.get("error"):
        return _error_text(data) or "error"
    return None


def _error_text(data) -> str | None:
    if type(data) is not dict:
        return str(data) if data else None
    error = data.get("error")
    if error is None and type(data.get("response")) is dict:
        error = data["response"].get("error")
    if type(error) is dict:
        return _maybe_error_object_text(error) or str(error)
    if error:
        return str(error)
    if data.get("message"):
        return str(data["message"])
    return None


def maybe_body_error(body: str) -> str | None:
    """The provider's own message in an HTTP error body: an ``error`` object
    or string (OpenAI, Anthropic, Gemini, in-band errors alike), a top-level
    ``message``, ``detail`` (FastAPI) or ``error_description`` (OAuth), else
    the first line of a short plain-text body; None for HTML."""
    text = body.strip()
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        line = text.splitlines()[0]
        return line[:300] if not line.lstrip().startswith("<") else None
    if type(value) is list and value:
        value = value[0]  # Gemini wraps some errors in a list
    if type(value) is not dict:
        return None
    error = value.get("error")
    if type(error) is dict:
        said = _maybe_error_object_text(error) or (str(error["status"]) if error.get("status") else None)
        if said:
            return said[:1000]
    if type(error) is str and error:
        return error[:1000]
    for key in ("message", "detail", "error_description"):
        if type(value.get(key)) is str and value[key]:
            return value[key][:1000]
    return None


def _maybe_error_object_text(error: dict) -> str | None:
    """What an ``error`` object says: its message, else its code or type."""
    for key in ("message", "code", "type"):
        if error.get(key):
            return str(error[key])
    return None


# Anthropic Messages event types: a stream holding one is Anthropic's.
ANTHROPIC_TYPES = frozenset(
    ("message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop")
)


def detect_provider(records: Iterable[Record]) -> str:
    """``"anthropic"``, ``"responses"``, ``"gemini"`` or ``"chat"`` (Chat
    Completions and the OpenAI-compatible relays, also the fallback)."""
    for record in records:
        data = record.data
        kind = record.type
        if record.event in ANTHROPIC_TYPES or kind in ANTHROPIC_TYPES:
            return "anthropic"
        if kind.startswith("response."):
            return "responses"
        if type(data) is dict:
            if "candidates" in data or "usageMetadata" in data:
                return "gemini"
            if "choices" in data or data.get("object") == "chat.completion.chunk":
                return "chat"
    return "chat"


def in_band_error(provider: str, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
    """The error event this provider sends mid-stream (the inverse of
    :func:`maybe_error`).  ``previous``: the last event sent, whose Responses
    ``sequence_number`` the error continues; ``named_events``: the stream
    names its events (``event: error`` rather than a plain message)."""
    if provider == "anthropic":
        data = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
        event = "error"
    elif provider == "responses":
        data = {"type": "error", "code": "server_error", "message": message, "param": None}
        if previous is not None and type(previous.data) is dict and type(previous.data.get("sequence_number")) is int:
            data["sequence_number"] = previous.data["sequence_number"] + 1
        event = "error" if named_events else "message"
    elif provider == "gemini":
        data = {"error": {"code": 500, "message": message, "status": "INTERNAL"}}
        event = "message"
    else:
        data = {"error": {"message": message, "type": "server_error", "param": None, "code": "server_error"}}
        event = "message"
    return Record(event, data, raw=orjson.dumps(data))
