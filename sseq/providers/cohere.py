"""Cohere Chat v2 (``POST /v2/chat`` with ``"stream": true``).

- Events, named by ``event:`` and by ``data.type``: ``message-start``,
  ``content-start`` / ``-delta`` / ``-end``, ``tool-plan-delta``,
  ``tool-call-start`` / ``-delta`` / ``-end``, ``citation-start`` /
  ``-end``, ``message-end`` (the terminal marker), ``debug``.
- Text: ``delta.message.content.text`` of ``content-delta``; reasoning:
  ``delta.message.content.thinking``, and the ``tool_plan`` of
  ``tool-plan-delta``; tool calls: ``delta.message.tool_calls.function``.
- Usage: ``message-end``'s ``delta.usage``: ``billed_units`` (what is
  billed) preferred over ``tokens``; the reason in ``delta.finish_reason``
  (``COMPLETE``, ``MAX_TOKENS``, ``TOOL_CALL``, ``ERROR``...), an error's
  message in ``delta.error``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Record
from .base import REASONING, TEXT, TOOL, Api, Family, Fragment, Tokens, UsageObserver, as_int, json_record

EVENT_TYPES = frozenset((
    "message-start", "content-start", "content-delta", "content-end", "tool-plan-delta", "tool-call-start",
    "tool-call-delta", "tool-call-end", "citation-start", "citation-end", "message-end", "debug",
))


# finish_reason values that mean the answer was cut off.
STOPPED_EARLY = frozenset(("MAX_TOKENS", "TIMEOUT"))


def _message(data: dict) -> dict:
    delta = data.get("delta")
    message = delta.get("message") if type(delta) is dict else None
    return message if type(message) is dict else {}


def _end_delta(data: dict) -> dict:
    delta = data.get("delta")
    return delta if type(delta) is dict else {}


def cohere_tokens(usage: dict) -> Tokens:
    """``billed_units`` when present (what Cohere bills), else ``tokens``."""
    counts = usage.get("billed_units")
    if type(counts) is not dict:
        counts = usage.get("tokens")
    counts = counts if type(counts) is dict else {}
    inp = as_int(counts.get("input_tokens"))
    out = as_int(counts.get("output_tokens"))
    return Tokens(inp, as_int(usage.get("cached_tokens")), 0, out, None, inp + out)


class CohereObserver(UsageObserver):
    def __init__(self) -> None:
        super().__init__()
        self._usage: dict | None = None
        self._tools = 0

    def feed(self, record: Record, data: dict) -> None:
        kind = record.type
        if kind == "message-start":
            self.note_identity(None, data.get("id"))
        elif kind == "tool-call-start":
            self._tools += 1
        elif kind == "message-end":
            self.note_stop(_end_delta(data).get("finish_reason"), STOPPED_EARLY)
            usage = _end_delta(data).get("usage")
            if type(usage) is dict:
                self._usage = usage

    def tokens(self) -> Tokens | None:
        return cohere_tokens(self._usage) if self._usage is not None else None

    def tool_calls(self) -> dict[str, int]:
        return {"function": self._tools} if self._tools else {}


class Cohere(Family):
    api = Api.COHERE
    default_provider = "cohere"
    hosts = (("api.cohere.com", "cohere"), ("api.cohere.ai", "cohere"))

    def claims(self, record: Record) -> bool:
        return record.type in EVENT_TYPES

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        data = record.data
        if type(data) is not dict:
            return
        kind = record.type
        message = _message(data)
        if kind == "content-delta":
            content = message.get("content")
            if type(content) is dict:
                for key, where in (("thinking", REASONING), ("text", TEXT)):
                    if type(content.get(key)) is str and content[key]:
                        yield Fragment(where, content[key], data.get("index"))
        elif kind == "tool-plan-delta":
            if type(message.get("tool_plan")) is str and message["tool_plan"]:
                yield Fragment(REASONING, message["tool_plan"], "tool-plan")
        elif kind == "tool-call-start" or kind == "tool-call-delta":
            call = message.get("tool_calls")
            function = call.get("function") if type(call) is dict else None
            if type(function) is dict:
                for key in ("name", "arguments"):
                    if type(function.get(key)) is str and function[key]:
                        yield Fragment(TOOL, function[key])

    def is_terminal(self, record: Record) -> bool:
        return record.type == "message-end"

    def maybe_error(self, record: Record) -> str | None:
        if record.type != "message-end" or type(record.data) is not dict:
            return None
        delta = _end_delta(record.data)
        if delta.get("error"):
            return str(delta["error"])
        return "ERROR" if delta.get("finish_reason") == "ERROR" else None

    def usage_observer(self) -> UsageObserver:
        return CohereObserver()

    def opens_stream(self, record: Record, ended_at: Record, previous: Record | None) -> bool:
        return record.type == "message-start"

    def error_event(self, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
        data = {"type": "message-end", "delta": {"finish_reason": "ERROR", "error": message}}
        return json_record("message-end" if named_events else "message", data)


FAMILY = Cohere()
