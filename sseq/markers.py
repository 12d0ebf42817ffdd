"""What ends a stream, and what reports an error, in each provider's format."""

from __future__ import annotations

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
        return str(error.get("message") or error.get("code") or error.get("type") or error)
    if error:
        return str(error)
    if data.get("message"):
        return str(data["message"])
    return None
