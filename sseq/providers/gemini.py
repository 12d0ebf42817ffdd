"""Gemini (the Gemini API's ``streamGenerateContent?alt=sse``, and Vertex AI).

- A chunk: ``{"candidates": [{"content": {"parts": [...]}}],
  "usageMetadata": {...}}``; the stream ends with the chunk whose candidate
  carries a ``finishReason``.  There are no event names.
- Text: ``candidates[0].content.parts[].text``; reasoning: the parts
  marked ``thought``; tool calls: ``functionCall`` parts.
- Usage: the last ``usageMetadata``, not a sum over chunks; input = prompt
  + tool-use prompt; output = candidates + thoughts.  The JSON is proto3:
  an absent count is zero.  Vertex AI adds ``createTime``, and the tier in
  ``usageMetadata.trafficType`` (``ON_DEMAND_FLEX``...).  A ``finishReason``
  other than ``STOP`` (``MAX_TOKENS``, ``SAFETY``, ``RECITATION``...): cut
  off.  Grounding with Google Search counts as ``web_search`` calls.
- Errors: a chunk (or an HTTP body, sometimes in a list) holding an
  ``error`` object with ``code``, ``message`` and ``status``.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from ..records import Record
from .base import (REASONING, TEXT, TOOL, Api, Family, Fragment, Tokens, UsageObserver, as_int, error_object_text,
                   error_text, json_record, maybe_int)

# finishReason values of a finished answer; any other is a cut-off.
FINISHED = frozenset(("STOP", "FINISH_REASON_UNSPECIFIED"))


def gemini_tokens(meta: dict) -> Tokens:
    """Gemini's last ``usageMetadata``: input = prompt (cached content
    included) + tool-use prompt; output = candidates + thoughts.  Proto3
    leaves zero counts out, so an absent count is 0."""
    inp = as_int(meta.get("promptTokenCount")) + as_int(meta.get("toolUsePromptTokenCount"))
    thoughts = as_int(meta.get("thoughtsTokenCount"))
    out = as_int(meta.get("candidatesTokenCount")) + thoughts
    cached = as_int(meta.get("cachedContentTokenCount"))
    total = maybe_int(meta.get("totalTokenCount"))
    return Tokens(inp, cached, 0, out, thoughts, inp + out if total is None else total)


def _first_candidate(data: dict) -> dict | None:
    candidates = data.get("candidates")
    if type(candidates) is list and candidates and type(candidates[0]) is dict:
        return candidates[0]
    return None


class GeminiObserver(UsageObserver):
    def __init__(self) -> None:
        super().__init__()
        self._usage: dict | None = None
        self._tools: dict[str, int] = {}
        self._queries: int | None = None

    def feed(self, record: Record, data: dict) -> None:
        meta = data.get("usageMetadata")
        if type(meta) is dict:
            self._usage = meta
            self.note_tier(meta.get("trafficType"))
        self.note_identity(data.get("modelVersion"), data.get("responseId"))
        if "createTime" in data:
            self.hints.add("vertex")
        candidate = _first_candidate(data)
        if candidate is None:
            return
        self.note_stop(candidate.get("finishReason"), normal=FINISHED)
        content = candidate.get("content")
        parts = content.get("parts") if type(content) is dict else None
        for part in parts if type(parts) is list else ():
            if type(part) is not dict:
                continue
            if "functionCall" in part:
                self._tools["function"] = self._tools.get("function", 0) + 1
            elif "executableCode" in part:
                self._tools["code_execution"] = self._tools.get("code_execution", 0) + 1
        grounding = candidate.get("groundingMetadata")
        if type(grounding) is dict and type(grounding.get("webSearchQueries")) is list:
            self._queries = len(grounding["webSearchQueries"])

    def tokens(self) -> Tokens | None:
        return gemini_tokens(self._usage) if self._usage is not None else None

    def tool_calls(self) -> dict[str, int]:
        counts = dict(self._tools)
        if self._queries:
            counts["web_search"] = self._queries
        return dict(sorted(counts.items()))


class Gemini(Family):
    api = Api.GEMINI
    default_provider = "google"
    hosts = (("generativelanguage.googleapis.com", "google"), ("aiplatform.googleapis.com", "vertex"))

    def claims(self, record: Record) -> bool:
        data = record.data
        return type(data) is dict and ("candidates" in data or "usageMetadata" in data)

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        data = record.data
        candidate = _first_candidate(data) if type(data) is dict else None
        content = candidate.get("content") if candidate is not None else None
        parts = content.get("parts") if type(content) is dict else None
        for part in parts if type(parts) is list else ():
            if type(part) is not dict:
                continue
            if type(part.get("text")) is str:
                yield Fragment(REASONING if part.get("thought") else TEXT, part["text"])
            if type(part.get("functionCall")) is dict:
                yield Fragment(TOOL, orjson.dumps(part["functionCall"]).decode())

    def is_terminal(self, record: Record) -> bool:
        data = record.data
        if type(data) is dict:
            candidates = data.get("candidates")
            if type(candidates) is list:
                return any(type(c) is dict and c.get("finishReason") for c in candidates)
        return False

    def maybe_error(self, record: Record) -> str | None:
        data = record.data
        if type(data) is dict and data.get("error"):
            return error_text(data) or "error"
        return None

    def usage_observer(self) -> UsageObserver:
        return GeminiObserver()

    def opens_stream(self, record: Record, ended_at: Record, previous: Record | None) -> bool:
        # A usage-only chunk can follow the finishReason one; new content or
        # a new responseId cannot.
        rid = record.data.get("responseId")
        before = previous.data.get("responseId") if previous is not None and type(previous.data) is dict else None
        if type(rid) is str and type(before) is str and rid != before:
            return True
        candidate = _first_candidate(record.data)
        content = candidate.get("content") if candidate is not None else None
        return type(content) is dict and bool(content.get("parts"))

    def error_event(self, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
        return json_record("message", {"error": {"code": 500, "message": message, "status": "INTERNAL"}})

    def maybe_http_error(self, body) -> str | None:
        if type(body) is list and body:
            body = body[0]  # Gemini wraps some errors in a list
        error = body.get("error") if type(body) is dict else None
        if type(error) is dict:
            return error_object_text(error) or (str(error["status"]) if error.get("status") else None)
        return None


FAMILY = Gemini()
