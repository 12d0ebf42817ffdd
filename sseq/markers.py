"""What ends a stream, and what reports an error, in each provider's format."""

from __future__ import annotations

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
