"""OpenAI Responses (also without ``event:`` lines, as OpenRouter sends it:
the type is then ``data.type``).

- Events are named ``response.*``; the stream ends with
  ``response.completed``, ``.incomplete`` or ``.failed`` (``response.done``
  on the Realtime-style relays).
- Text: ``response.output_text.delta`` and ``response.refusal.delta``;
  reasoning: ``response.reasoning_summary_text.delta`` and
  ``response.reasoning_text.delta``; tool calls:
  ``response.function_call_arguments.delta``,
  ``response.custom_tool_call_input.delta`` and the item names of
  ``response.output_item.added``.
  Text that was not streamed as deltas is taken from the ``.done`` events
  (``output_text.done``, ``content_part.done``, ``output_item.done``) or
  from the output of ``response.completed``, once per content part.
- Usage: ``response.usage`` of the terminal event; cached and reasoning
  tokens from the ``*_details``; tool calls (``web_search_call``...) from
  the finished output items; ``response.incomplete`` says why in
  ``incomplete_details.reason``; the tier in ``response.service_tier``.
- Errors: the ``error`` event, and ``response.failed`` with
  ``response.error``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Record
from .base import (REASONING, TEXT, TOOL, Api, DeltaShape, Family, Fragment, TextReader, Tokens, UsageObserver,
                   as_int, error_object_text, error_text, iter_items, json_record, maybe_int)

TERMINAL_TYPES = frozenset(("response.completed", "response.incomplete", "response.failed", "response.done"))
_FINAL_TYPES = ("response.completed", "response.incomplete", "response.failed")

# What a finished content part or summary part holds: (fragment kind, key of its text).
_PART_TEXT = {"output_text": (TEXT, "text"), "refusal": (TEXT, "refusal"),
              "reasoning_text": (REASONING, "text"), "summary_text": (REASONING, "text")}
# The .done events of one part, and the key of their text.
_DONE_TEXT = {"response.output_text.done": (TEXT, "text"), "response.refusal.done": (TEXT, "refusal"),
              "response.reasoning_text.done": (REASONING, "text"),
              "response.reasoning_summary_text.done": (REASONING, "text")}

_DELTA_KINDS = {"response.output_text.delta": TEXT, "response.refusal.delta": TEXT,
                "response.reasoning_summary_text.delta": REASONING,
                "response.reasoning_text.delta": REASONING,
                "response.function_call_arguments.delta": TOOL,
                "response.custom_tool_call_input.delta": TOOL}


def responses_tokens(usage: dict) -> Tokens:
    """OpenAI Responses ``response.usage``: ``input_tokens`` includes
    ``input_tokens_details.cached_tokens``; ``output_tokens`` includes
    ``output_tokens_details.reasoning_tokens``."""
    inp = as_int(usage.get("input_tokens"))
    out = as_int(usage.get("output_tokens"))
    in_details = usage.get("input_tokens_details")
    cached = as_int(in_details.get("cached_tokens")) if type(in_details) is dict else 0
    out_details = usage.get("output_tokens_details")
    reasoning = maybe_int(out_details.get("reasoning_tokens")) if type(out_details) is dict else None
    total = maybe_int(usage.get("total_tokens"))
    return Tokens(inp, cached, 0, out, reasoning, inp + out if total is None else total)


def _tool_kind(item_type: str) -> str | None:
    if item_type == "function_call":
        return "function"
    if item_type == "custom_tool_call":
        return "custom"
    if item_type.endswith("_call"):
        return item_type[: -len("_call")]
    return None


def _item_of(data: dict):
    """Which output item an event is about: its position, else its id (the
    position, because OpenRouter's final output renames the items)."""
    index = data.get("output_index")
    return index if type(index) is int else data.get("item_id")


def _part_of(kind: str, data: dict) -> tuple:
    """Which part of the output a text event is about (its block)."""
    where = "summary_index" if "reasoning_summary" in kind else "content_index"
    return (_item_of(data), where[0], data.get(where))


class ResponsesTextReader(TextReader):
    """The deltas as they come, and for a part that had none, its text from
    whichever finished event shows it first."""

    def __init__(self, family: Family) -> None:
        super().__init__(family)
        self._said: set[tuple] = set()

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        data = record.data
        if type(data) is not dict:
            return
        kind = record.type
        where = _DELTA_KINDS.get(kind)
        if where is not None:
            delta = data.get("delta")
            if type(delta) is str and delta:
                if where == TOOL:
                    yield Fragment(TOOL, delta)
                else:
                    part = _part_of(kind, data)
                    self._said.add(part)
                    yield Fragment(where, delta, part)
        elif kind in _DONE_TEXT:
            fragment_kind, key = _DONE_TEXT[kind]
            yield from self._fallback(_part_of(kind, data), fragment_kind, data.get(key))
        elif kind == "response.content_part.done" or kind == "response.reasoning_summary_part.done":
            done = data.get("part")
            if type(done) is dict and done.get("type") in _PART_TEXT:
                fragment_kind, key = _PART_TEXT[done["type"]]
                yield from self._fallback(_part_of(kind, data), fragment_kind, done.get(key))
        elif kind == "response.output_item.done":
            item = data.get("item")
            if type(item) is dict:
                yield from self._item_fallback(item, data.get("output_index"))
        elif kind in _FINAL_TYPES:
            response = data.get("response")
            output = response.get("output") if type(response) is dict else None
            for index, item in enumerate(iter_items(output)):
                yield from self._item_fallback(item, index)
        elif kind == "response.output_item.added":
            item = data.get("item")
            if type(item) is dict and type(item.get("name")) is str and item["name"]:
                yield Fragment(TOOL, item["name"])  # a function call's name is output too

    def _item_fallback(self, item: dict, index) -> Iterator[Fragment]:
        which = index if type(index) is int else item.get("id")
        for where, parts in (("c", item.get("content")), ("s", item.get("summary"))):
            for position, part in enumerate(iter_items(parts)):
                if part.get("type") in _PART_TEXT:
                    fragment_kind, key = _PART_TEXT[part["type"]]
                    yield from self._fallback((which, where, position), fragment_kind, part.get(key))

    def _fallback(self, part: tuple, kind: str, text) -> Iterator[Fragment]:
        if part in self._said or type(text) is not str or not text:
            return
        self._said.add(part)
        yield Fragment(kind, text, part)


class ResponsesObserver(UsageObserver):
    def __init__(self) -> None:
        super().__init__()
        self._usage: dict | None = None
        self._items_done: dict = {}
        self._final_output: list | None = None

    def feed(self, record: Record, data: dict) -> None:
        kind = record.type
        response = data.get("response")
        if type(response) is dict:
            self.note_identity(response.get("model"), response.get("id"))
            self.note_tier(response.get("service_tier"))
            if kind == "response.incomplete":
                details = response.get("incomplete_details")
                reason = details.get("reason") if type(details) is dict else None
                self.note_stop(reason if type(reason) is str and reason else "incomplete", normal=frozenset())
            if kind in _FINAL_TYPES:
                usage = response.get("usage")
                self._usage = usage if type(usage) is dict else None
                if type(usage) is dict and "is_byok" in usage:
                    self.hints.add("openrouter")
                output = response.get("output")
                if type(output) is list and output:
                    self._final_output = output
        elif kind == "response.output_item.done":
            item = data.get("item")
            if type(item) is dict:
                where = data.get("output_index", item.get("id", len(self._items_done)))
                self._items_done[where] = item

    def tokens(self) -> Tokens | None:
        return responses_tokens(self._usage) if self._usage is not None else None

    def tool_calls(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        items = self._final_output if self._final_output is not None else list(self._items_done.values())
        for item in items:
            if type(item) is dict and type(item.get("type")) is str:
                kind = _tool_kind(item["type"])
                if kind is not None:
                    counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))


def _delta_shape(kind: str, fragment_kind: str) -> DeltaShape:
    # A delta's block is _part_of's: its output index (else item id) and its
    # content (or summary) index.  Its other keys no reader reads.
    where = "summary_index" if "reasoning_summary" in kind else "content_index"
    return DeltaShape(kind, fragment_kind, "delta", ("output_index", "item_id", where),
                      ("type", "sequence_number", "logprobs", "obfuscation"))


class OpenAIResponses(Family):
    api = Api.OPENAI_RESPONSES
    default_provider = "openai"
    delta_shapes = tuple(_delta_shape(kind, fragment_kind) for kind, fragment_kind in _DELTA_KINDS.items())

    def claims(self, record: Record) -> bool:
        return record.type.startswith("response.")

    def text_reader(self) -> TextReader:
        return ResponsesTextReader(self)

    def is_terminal(self, record: Record) -> bool:
        return record.type in TERMINAL_TYPES

    def maybe_error(self, record: Record) -> str | None:
        kind = record.type
        if kind == "error" or kind == "response.failed":
            return error_text(record.data) or kind
        return None

    def usage_observer(self) -> UsageObserver:
        return ResponsesObserver()

    def opens_stream(self, record: Record, ended_at: Record, previous: Record | None) -> bool:
        return record.type == "response.created"

    def error_event(self, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
        data = {"type": "error", "code": "server_error", "message": message, "param": None}
        if previous is not None and type(previous.data) is dict and type(previous.data.get("sequence_number")) is int:
            data["sequence_number"] = previous.data["sequence_number"] + 1
        return json_record("error" if named_events else "message", data)

    def maybe_http_error(self, body) -> str | None:
        error = body.get("error") if type(body) is dict else None
        return error_object_text(error) if type(error) is dict else None


FAMILY = OpenAIResponses()
