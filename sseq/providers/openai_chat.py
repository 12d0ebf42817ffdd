"""OpenAI Chat Completions, and the relays that speak it (Azure, Groq,
DeepSeek, OpenRouter, vLLM, Mistral, Together...).

- A chunk: ``{"object": "chat.completion.chunk", "choices": [{"delta":
  {...}}]}``; the stream ends with ``data: [DONE]``.
- Text: ``choices[0].delta.content`` (a refusal: ``delta.refusal``);
  reasoning: ``reasoning_content`` as DeepSeek sends it, or ``reasoning``
  (Groq, OpenRouter, vLLM); tool calls: ``delta.tool_calls[].function``.
- Usage: the chunk whose ``usage`` is non-null (with
  ``stream_options.include_usage``), which need not be the last chunk (a
  moderation chunk can follow it).  Groq may carry it only under
  ``x_groq.usage``; DeepSeek reports cache hits as
  ``prompt_cache_hit_tokens``.
- Errors: ``event: error`` (Groq), or a chunk holding an ``error`` object
  (OpenRouter).  ``finish_reason`` ``length`` or ``content_filter``: cut
  off.  The tier that served it: ``service_tier`` on each chunk.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Record
from .base import (REASONING, TEXT, TOOL, Api, Family, Fragment, Tokens, UsageObserver, as_int, error_object_text,
                   error_text, json_record, maybe_int)

# finish_reason values that mean the answer was cut off.
STOPPED_EARLY = frozenset(("length", "content_filter"))


def chat_tokens(usage: dict) -> Tokens:
    """OpenAI Chat Completions ``usage`` (and Groq's ``x_groq.usage``,
    DeepSeek's, OpenRouter's, vLLM's).  ``prompt_tokens`` already includes
    the cached part; ``completion_tokens`` the reasoning part."""
    prompt = as_int(usage.get("prompt_tokens"))
    completion = as_int(usage.get("completion_tokens"))
    prompt_details = usage.get("prompt_tokens_details")
    prompt_details = prompt_details if type(prompt_details) is dict else {}
    cached = maybe_int(usage.get("prompt_cache_hit_tokens"))  # DeepSeek
    if cached is None:
        cached = as_int(prompt_details.get("cached_tokens"))
    cache_write = as_int(prompt_details.get("cache_write_tokens"))  # OpenRouter, for Anthropic models
    completion_details = usage.get("completion_tokens_details")
    reasoning = maybe_int(completion_details.get("reasoning_tokens")) if type(completion_details) is dict else None
    total = maybe_int(usage.get("total_tokens"))
    return Tokens(prompt, cached, cache_write, completion, reasoning, prompt + completion if total is None else total)


class ChatObserver(UsageObserver):
    def __init__(self) -> None:
        super().__init__()
        self._usage: dict | None = None
        self._tools: dict[tuple, str] = {}

    def note_identity(self, model, rid) -> None:
        super().note_identity(model, rid)
        if type(rid) is str and rid.startswith("gen-"):  # OpenRouter's generation ids
            self.hints.add("openrouter")

    def feed(self, record: Record, data: dict) -> None:
        self.note_identity(data.get("model"), data.get("id"))
        self.note_tier(data.get("service_tier"))
        if type(data.get("provider")) is str:
            self.hints.add("openrouter")
        if "prompt_filter_results" in data:
            self.hints.add("azure")
        fingerprint = data.get("system_fingerprint")
        if type(fingerprint) is str and fingerprint.startswith("vllm"):
            self.hints.add("vllm")
        usage = data.get("usage")
        x_groq = data.get("x_groq")
        if type(x_groq) is dict:
            self.hints.add("groq")
            if type(usage) is not dict and type(x_groq.get("usage")) is dict:
                usage = x_groq["usage"]
        if type(usage) is dict:
            self._usage = usage
            if "prompt_cache_hit_tokens" in usage:
                self.hints.add("deepseek")
            if "is_byok" in usage:
                self.hints.add("openrouter")
        choices = data.get("choices")
        if type(choices) is not list:
            return
        for choice in choices:
            if type(choice) is not dict:
                continue
            if "content_filter_results" in choice:
                self.hints.add("azure")
            if "token_ids" in choice:
                self.hints.add("vllm")
            if choice.get("index", 0) == 0:
                self.note_stop(choice.get("finish_reason"), STOPPED_EARLY)
            delta = choice.get("delta")
            calls = delta.get("tool_calls") if type(delta) is dict else None
            if type(calls) is not list:
                continue
            for call in calls:
                if type(call) is not dict:
                    continue
                where = (choice.get("index", 0), call.get("index", call.get("id")))
                if where not in self._tools or type(call.get("type")) is str:
                    kind = call["type"] if type(call.get("type")) is str else "function"
                    self._tools[where] = kind

    def tokens(self) -> Tokens | None:
        return chat_tokens(self._usage) if self._usage is not None else None

    def tool_calls(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind in self._tools.values():
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))


class OpenAIChat(Family):
    api = Api.OPENAI_CHAT
    default_provider = "openai"
    hosts = (
        ("api.openai.com", "openai"),
        (".openai.azure.com", "azure"),
        (".azure.com", "azure"),
        ("api.groq.com", "groq"),
        ("api.deepseek.com", "deepseek"),
        ("openrouter.ai", "openrouter"),
        ("api.mistral.ai", "mistral"),
        ("api.together.xyz", "together"),
        ("api.fireworks.ai", "fireworks"),
        ("api.x.ai", "xai"),
    )

    def claims(self, record: Record) -> bool:
        data = record.data
        return type(data) is dict and ("choices" in data or data.get("object") == "chat.completion.chunk")

    def iter_fragments(self, record: Record) -> Iterator[Fragment]:
        data = record.data
        choices = data.get("choices") if type(data) is dict else None
        if type(choices) is not list:
            return
        for choice in choices:
            if type(choice) is not dict:
                continue
            delta = choice.get("delta")
            if type(delta) is not dict:
                continue
            if choice.get("index", 0) == 0:
                reasoning = delta.get("reasoning_content")
                if type(reasoning) is not str:
                    reasoning = delta.get("reasoning")
                if type(reasoning) is str and reasoning:
                    yield Fragment(REASONING, reasoning)
                for key in ("content", "refusal"):
                    if type(delta.get(key)) is str and delta[key]:
                        yield Fragment(TEXT, delta[key])
            calls = delta.get("tool_calls")
            for call in calls if type(calls) is list else ():
                function = call.get("function") if type(call) is dict else None
                if type(function) is dict:
                    for key in ("name", "arguments"):
                        if type(function.get(key)) is str and function[key]:
                            yield Fragment(TOOL, function[key])

    def is_terminal(self, record: Record) -> bool:
        data = record.data
        return type(data) is str and data.strip() == "[DONE]"

    def maybe_error(self, record: Record) -> str | None:
        data = record.data
        if record.event == "error":  # Groq
            return error_text(data) or "error"
        if type(data) is dict and data.get("error"):  # OpenRouter's error chunk
            return error_text(data) or "error"
        return None

    def usage_observer(self) -> UsageObserver:
        return ChatObserver()

    def opens_stream(self, record: Record, ended_at: Record, previous: Record | None) -> bool:
        if self.is_terminal(ended_at):
            return True  # nothing follows [DONE] in the same stream
        # After an error: a chunk of another completion.
        rid = record.data.get("id") if type(record.data) is dict else None
        before = previous.data.get("id") if previous is not None and type(previous.data) is dict else None
        return type(rid) is str and bool(rid) and type(before) is str and bool(before) and rid != before

    def error_event(self, message: str, previous: Record | None = None, named_events: bool = False) -> Record:
        return json_record("message", {"error": {"message": message, "type": "server_error", "param": None,
                                                 "code": "server_error"}})

    def maybe_http_error(self, body) -> str | None:
        error = body.get("error") if type(body) is dict else None
        return error_object_text(error) if type(error) is dict else None


FAMILY = OpenAIChat()
