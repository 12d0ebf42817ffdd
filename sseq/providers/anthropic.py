"""Anthropic Messages (also through Bedrock and Vertex, same events).

- Events: ``message_start``, ``content_block_start`` / ``_delta`` /
  ``_stop``, ``message_delta``, ``message_stop`` (the terminal marker);
  errors as ``event: error`` with an ``error`` object.
- Text: ``content_block_delta`` with ``text_delta``; reasoning:
  ``thinking_delta``; tool calls: the name in ``content_block_start`` and
  ``input_json_delta``; compaction: ``compaction_delta``.
- Usage: each field's last value across ``message_start.message.usage``
  and the ``message_delta`` usages (they are cumulative); input = input +
  cache creation + cache read; with ``iterations`` the totals are their
  sums; ``server_tool_use`` counts the server tools;
  ``cache_creation.ephemeral_1h_input_tokens`` the 1-hour cache writes;
  ``service_tier`` the tier.  ``message_delta.delta.stop_reason``
  ``max_tokens``, ``model_context_window_exceeded`` or ``refusal``: cut off.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Record
from .base import (REASONING, TEXT, TOOL, Api, Family, Fragment, TextReader, Tokens, UsageObserver, as_int,
                   error_object_text, error_text, json_record)

# Anthropic Messages event types: a stream holding one is Anthropic's.
EVENT_TYPES = frozenset(
    ("message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
     "message_stop")
)

# stop_reason values that mean the answer was cut off.
STOPPED_EARLY = frozenset(("max_tokens", "model_context_window_exceeded", "refusal"))


def _maybe_1h_writes(usage: dict) -> int | None:
    creation = usage.get("cache_creation")
    return as_int(creation.get("ephemeral_1h_input_tokens")) if type(creation) is dict else None


def anthropic_tokens(usage: dict) -> Tokens:
    """Anthropic's usage, already merged (each field's last value).
    ``input_tokens`` excludes the cache, so input = input + cache creation +
    cache read.  With ``iterations`` (compaction, server-tool turns) the
    totals are the sums over them.  Anthropic does not break out thinking
    tokens, so reasoning is None."""
    iterations = usage.get("iterations")
    parts = [i for i in iterations if type(i) is dict] if type(iterations) is list else []
    if parts:
        plain = sum(as_int(i.get("input_tokens")) for i in parts)
        write = sum(as_int(i.get("cache_creation_input_tokens")) for i in parts)
        read = sum(as_int(i.get("cache_read_input_tokens")) for i in parts)
        out = sum(as_int(i.get("output_tokens")) for i in parts)
        hours = [h for h in map(_maybe_1h_writes, parts) if h is not None]
        write_1h = sum(hours) if hours else _maybe_1h_writes(usage)
    else:
        plain = as_int(usage.get("input_tokens"))
        write = as_int(usage.get("cache_creation_input_tokens"))
        read = as_int(usage.get("cache_read_input_tokens"))
        out = as_int(usage.get("output_tokens"))
        write_1h = _maybe_1h_writes(usage)
    inp = plain + write + read
    return Tokens(inp, read, write, out, None, inp + out, write_1h)


class AnthropicTextReader(TextReader):
    """Text blocks in a row (a cited passage is split into several) are one
    run of text; a tool call, a tool result or thinking between two text
    blocks sets them apart (a new ``block``)."""

    def __init__(self, family: Family) -> None:
        super().__init__(family)
        self._run = 0

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        if record.type == "content_block_start" and type(record.data) is dict:
            block = record.data.get("content_block")
            if type(block) is dict and block.get("type") != "text":
                self._run += 1
        for fragment in self.family.iter_fragments(record):
            yield fragment._replace(block=self._run) if fragment.kind != TOOL else fragment


class AnthropicObserver(UsageObserver):
    def __init__(self) -> None:
        super().__init__()
        self._usage: dict | None = None
        self._tools: dict[str, int] = {}
        self._server_tool_use: dict | None = None

    def feed(self, record: Record, data: dict) -> None:
        kind = record.type
        usage = None
        if kind == "message_start":
            message = data.get("message")
            if type(message) is dict:
                self.note_identity(message.get("model"), message.get("id"))
                usage = message.get("usage")
        elif kind == "message_delta":
            usage = data.get("usage")
            delta = data.get("delta")
            if type(delta) is dict:
                self.note_stop(delta.get("stop_reason"), STOPPED_EARLY)
        elif kind == "content_block_start":
            block = data.get("content_block")
            if type(block) is dict:
                btype = block.get("type")
                if btype == "tool_use":
                    self._tools["function"] = self._tools.get("function", 0) + 1
                elif btype in ("server_tool_use", "mcp_tool_use"):
                    name = block.get("name") if btype == "server_tool_use" else "mcp"
                    name = name if type(name) is str and name else btype
                    self._tools[name] = self._tools.get(name, 0) + 1
        if type(usage) is dict:
            merged = self._usage if self._usage is not None else {}
            for key, value in usage.items():
                if value is not None:
                    merged[key] = value
            self._usage = merged
            self.note_tier(usage.get("service_tier"))
            server = usage.get("server_tool_use")
            if type(server) is dict:
                self._server_tool_use = server

    def tokens(self) -> Tokens | None:
        return anthropic_tokens(self._usage) if self._usage is not None else None

    def tool_calls(self) -> dict[str, int]:
        counts = dict(self._tools)
        if self._server_tool_use is not None:
            # The billed count wins over the blocks seen.
            for key, value in self._server_tool_use.items():
                if type(value) is int and key.endswith("_requests"):
                    name = key[: -len("_requests")]
                    if value:
                        counts[name] = value
                    else:
                        counts.pop(name, None)
        return dict(sorted(counts.items()))


class Anthropic(Family):
    api = Api.ANTHROPIC
    default_provider = "anthropic"
    hosts = (("api.anthropic.com", "anthropic"),)

    def claims(self, record: Record) -> bool:
        return record.type in EVENT_TYPES or record.event in EVENT_TYPES

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        data = record.data
        if type(data) is not dict:
            return
        kind = record.type
        if kind == "content_block_delta":
            delta = data.get("delta")
            if type(delta) is not dict:
                return
            dtype = delta.get("type")
            if dtype == "text_delta" and type(delta.get("text")) is str:
                yield Fragment(TEXT, delta["text"])
            elif dtype == "thinking_delta" and type(delta.get("thinking")) is str:
                yield Fragment(REASONING, delta["thinking"])
            else:
                piece = delta.get("partial_json") if dtype == "input_json_delta" else (
                    delta.get("content") if dtype == "compaction_delta" else None)
                if type(piece) is str and piece:
                    yield Fragment(TOOL, piece)
        elif kind == "content_block_start":
            block = data.get("content_block")
            if type(block) is dict and type(block.get("name")) is str and block["name"]:
                yield Fragment(TOOL, block["name"])  # tool_use, server_tool_use

    def is_terminal(self, record: Record) -> bool:
        return record.type == "message_stop"

    def maybe_error(self, record: Record) -> str | None:
        if record.type == "error":
            return error_text(record.data) or "error"
        return None

    def text_reader(self) -> TextReader:
        return AnthropicTextReader(self)

    def usage_observer(self) -> UsageObserver:
        return AnthropicObserver()

    def opens_stream(self, record: Record, ended_at: Record, previous: Record | None) -> bool:
        return record.type == "message_start"

    def error_event(self, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
        return json_record("error", {"type": "error", "error": {"type": "overloaded_error", "message": message}})

    def maybe_http_error(self, body) -> str | None:
        error = body.get("error") if type(body) is dict else None
        return error_object_text(error) if type(error) is dict else None


FAMILY = Anthropic()
