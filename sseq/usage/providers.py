"""Each provider family's usage rules, one place per family.

Every rule here is a fact of a provider's wire format:

- OpenAI Chat Completions and the compatible relays: the usage is in the
  chunk whose ``usage`` is non-null (with ``stream_options.include_usage``),
  which need not be the last chunk (a moderation chunk can follow it).
  Groq may carry it only under ``x_groq.usage``; DeepSeek reports cache
  hits as ``prompt_cache_hit_tokens``.
- OpenAI Responses (also without ``event:`` lines, as OpenRouter sends it):
  ``response.usage`` of ``response.completed``, ``.incomplete`` or
  ``.failed``; cached and reasoning tokens from the ``*_details``; tool calls
  from the finished output items.
- Anthropic Messages: each usage field's last value across
  ``message_start.message.usage`` and the ``message_delta`` usages (they are
  cumulative); input = input + cache creation + cache read; with
  ``iterations`` the totals are their sums; ``server_tool_use`` counts the
  server tools.
- Gemini (and Vertex AI): the last ``usageMetadata``, not a sum over chunks;
  input = prompt + tool-use prompt; output = candidates + thoughts.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from ..markers import ANTHROPIC_TYPES
from ..records import Record
from ..text import iter_fragments
from .model import Tokens

CHAT = "openai-chat"
RESPONSES = "openai-responses"
ANTHROPIC = "anthropic"
GEMINI = "gemini"
UNKNOWN = "unknown"

# Hosts of sseq.open's url, by suffix: who served the stream.
_HOSTS = (
    ("api.openai.com", "openai"),
    (".openai.azure.com", "azure"),
    (".azure.com", "azure"),
    ("api.anthropic.com", "anthropic"),
    ("generativelanguage.googleapis.com", "google"),
    ("aiplatform.googleapis.com", "vertex"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("openrouter.ai", "openrouter"),
    ("api.mistral.ai", "mistral"),
    ("api.together.xyz", "together"),
    ("api.fireworks.ai", "fireworks"),
    ("api.x.ai", "xai"),
)


def _int(value) -> int:
    return value if type(value) is int else int(value) if type(value) is float else 0


def _maybe_int(value) -> int | None:
    if type(value) is int:
        return value
    if type(value) is float:
        return int(value)
    return None


# --- The four families' usage objects, mapped onto Tokens -----------------


def chat_tokens(usage: dict) -> Tokens:
    """OpenAI Chat Completions ``usage`` (and Groq's ``x_groq.usage``,
    DeepSeek's, OpenRouter's, vLLM's).  ``prompt_tokens`` already includes
    the cached part; ``completion_tokens`` the reasoning part."""
    prompt = _int(usage.get("prompt_tokens"))
    completion = _int(usage.get("completion_tokens"))
    prompt_details = usage.get("prompt_tokens_details")
    prompt_details = prompt_details if type(prompt_details) is dict else {}
    cached = _maybe_int(usage.get("prompt_cache_hit_tokens"))  # DeepSeek
    if cached is None:
        cached = _int(prompt_details.get("cached_tokens"))
    cache_write = _int(prompt_details.get("cache_write_tokens"))  # OpenRouter, for Anthropic models
    completion_details = usage.get("completion_tokens_details")
    reasoning = _maybe_int(completion_details.get("reasoning_tokens")) if type(completion_details) is dict else None
    total = _maybe_int(usage.get("total_tokens"))
    return Tokens(prompt, cached, cache_write, completion, reasoning, prompt + completion if total is None else total)


def responses_tokens(usage: dict) -> Tokens:
    """OpenAI Responses ``response.usage``: ``input_tokens`` includes
    ``input_tokens_details.cached_tokens``; ``output_tokens`` includes
    ``output_tokens_details.reasoning_tokens``."""
    inp = _int(usage.get("input_tokens"))
    out = _int(usage.get("output_tokens"))
    in_details = usage.get("input_tokens_details")
    cached = _int(in_details.get("cached_tokens")) if type(in_details) is dict else 0
    out_details = usage.get("output_tokens_details")
    reasoning = _maybe_int(out_details.get("reasoning_tokens")) if type(out_details) is dict else None
    total = _maybe_int(usage.get("total_tokens"))
    return Tokens(inp, cached, 0, out, reasoning, inp + out if total is None else total)


def anthropic_tokens(usage: dict) -> Tokens:
    """Anthropic's usage, already merged (each field's last value).
    ``input_tokens`` excludes the cache, so input = input + cache creation +
    cache read.  With ``iterations`` (compaction, server-tool turns) the
    totals are the sums over them.  Anthropic does not break out thinking
    tokens, so reasoning is None."""
    iterations = usage.get("iterations")
    parts = [i for i in iterations if type(i) is dict] if type(iterations) is list else []
    if parts:
        plain = sum(_int(i.get("input_tokens")) for i in parts)
        write = sum(_int(i.get("cache_creation_input_tokens")) for i in parts)
        read = sum(_int(i.get("cache_read_input_tokens")) for i in parts)
        out = sum(_int(i.get("output_tokens")) for i in parts)
    else:
        plain = _int(usage.get("input_tokens"))
        write = _int(usage.get("cache_creation_input_tokens"))
        read = _int(usage.get("cache_read_input_tokens"))
        out = _int(usage.get("output_tokens"))
    inp = plain + write + read
    return Tokens(inp, read, write, out, None, inp + out)


def gemini_tokens(meta: dict) -> Tokens:
    """Gemini's last ``usageMetadata``: input = prompt (cached content
    included) + tool-use prompt; output = candidates + thoughts."""
    inp = _int(meta.get("promptTokenCount")) + _int(meta.get("toolUsePromptTokenCount"))
    thoughts = _maybe_int(meta.get("thoughtsTokenCount"))
    out = _int(meta.get("candidatesTokenCount")) + (thoughts or 0)
    cached = _int(meta.get("cachedContentTokenCount"))
    total = _maybe_int(meta.get("totalTokenCount"))
    return Tokens(inp, cached, 0, out, thoughts, inp + out if total is None else total)


def _responses_tool_kind(item_type: str) -> str | None:
    if item_type == "function_call":
        return "function"
    if item_type == "custom_tool_call":
        return "custom"
    if item_type.endswith("_call"):
        return item_type[: -len("_call")]
    return None


def maybe_provider_of_url(url: str) -> str | None:
    """Who served a stream, from the url ``fetch`` recorded; None for a
    host that names no provider (a local ``sseq serve``, a proxy)."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("@")[-1].split(":")[0].lower()
    for suffix, provider in _HOSTS:
        if host == suffix.lstrip(".") or host.endswith(suffix):
            return provider
    return None


class UsageObserver:
    """Watches one stream's records and keeps what its family's rules need:
    the usage object, the model, the response id, tool calls, and hints of
    who served it."""

    def __init__(self) -> None:
        self.api = UNKNOWN
        self.model: str | None = None
        self.response_id: str | None = None
        self.hints: set[str] = set()
        self._chat_usage: dict | None = None
        self._responses_usage: dict | None = None
        self._anthropic_usage: dict | None = None
        self._gemini_usage: dict | None = None
        self._chat_tools: dict[tuple, str] = {}
        self._items_done: dict = {}
        self._final_output: list | None = None
        self._anthropic_tools: dict[str, int] = {}
        self._server_tool_use: dict | None = None
        self._gemini_tools: dict[str, int] = {}
        self._gemini_queries: int | None = None

    # -- feeding ----------------------------------------------------------

    def feed(self, record: Record) -> None:
        data = record.data
        if type(data) is not dict:
            return
        kind = record.type
        if kind.startswith("response.") or (self.api == RESPONSES and kind == "error"):
            self.api = RESPONSES
            self._feed_responses(kind, data)
        elif kind in ANTHROPIC_TYPES:
            self.api = ANTHROPIC
            self._feed_anthropic(kind, data)
        elif "candidates" in data or "usageMetadata" in data:
            self.api = GEMINI
            self._feed_gemini(data)
        elif "choices" in data or data.get("object") == "chat.completion.chunk":
            self.api = CHAT
            self._feed_chat(data)

    def _note_identity(self, model, rid) -> None:
        """The model and response id, where the provider's object has them."""
        if type(model) is str and model:
            self.model = model
        if type(rid) is str and rid:
            self.response_id = rid
            if rid.startswith("gen-"):  # OpenRouter's generation ids
                self.hints.add("openrouter")

    def _feed_chat(self, data: dict) -> None:
        self._note_identity(data.get("model"), data.get("id"))
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
            self._chat_usage = usage
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
            delta = choice.get("delta")
            calls = delta.get("tool_calls") if type(delta) is dict else None
            if type(calls) is not list:
                continue
            for call in calls:
                if type(call) is not dict:
                    continue
                where = (choice.get("index", 0), call.get("index", call.get("id")))
                if where not in self._chat_tools or type(call.get("type")) is str:
                    kind = call.get("type") if type(call.get("type")) is str else "function"
                    self._chat_tools[where] = kind

    def _feed_responses(self, kind: str, data: dict) -> None:
        response = data.get("response")
        if type(response) is dict:
            self._note_identity(response.get("model"), response.get("id"))
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                usage = response.get("usage")
                self._responses_usage = usage if type(usage) is dict else None
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

    def _feed_anthropic(self, kind: str, data: dict) -> None:
        usage = None
        if kind == "message_start":
            message = data.get("message")
            if type(message) is dict:
                self._note_identity(message.get("model"), message.get("id"))
                usage = message.get("usage")
        elif kind == "message_delta":
            usage = data.get("usage")
        elif kind == "content_block_start":
            block = data.get("content_block")
            if type(block) is dict:
                btype = block.get("type")
                if btype == "tool_use":
                    self._anthropic_tools["function"] = self._anthropic_tools.get("function", 0) + 1
                elif btype in ("server_tool_use", "mcp_tool_use"):
                    name = block.get("name") if btype == "server_tool_use" else "mcp"
                    name = name if type(name) is str and name else btype
                    self._anthropic_tools[name] = self._anthropic_tools.get(name, 0) + 1
        if type(usage) is dict:
            merged = self._anthropic_usage if self._anthropic_usage is not None else {}
            for key, value in usage.items():
                if value is not None:
                    merged[key] = value
            self._anthropic_usage = merged
            server = usage.get("server_tool_use")
            if type(server) is dict:
                self._server_tool_use = server

    def _feed_gemini(self, data: dict) -> None:
        meta = data.get("usageMetadata")
        if type(meta) is dict:
            self._gemini_usage = meta
        self._note_identity(data.get("modelVersion"), data.get("responseId"))
        if "createTime" in data:
            self.hints.add("vertex")
        candidates = data.get("candidates")
        if type(candidates) is not list:
            return
        for candidate in candidates[:1]:
            if type(candidate) is not dict:
                continue
            content = candidate.get("content")
            parts = content.get("parts") if type(content) is dict else None
            for part in parts if type(parts) is list else ():
                if type(part) is not dict:
                    continue
                if "functionCall" in part:
                    self._gemini_tools["function"] = self._gemini_tools.get("function", 0) + 1
                elif "executableCode" in part:
                    self._gemini_tools["code_execution"] = self._gemini_tools.get("code_execution", 0) + 1
            grounding = candidate.get("groundingMetadata")
            if type(grounding) is dict and type(grounding.get("webSearchQueries")) is list:
                self._gemini_queries = len(grounding["webSearchQueries"])

    # -- results ----------------------------------------------------------

    def tokens(self) -> Tokens | None:
        """The stream's reported usage by its family's rule, or None."""
        if self.api == CHAT and self._chat_usage is not None:
            return chat_tokens(self._chat_usage)
        if self.api == RESPONSES and self._responses_usage is not None:
            return responses_tokens(self._responses_usage)
        if self.api == ANTHROPIC and self._anthropic_usage is not None:
            return anthropic_tokens(self._anthropic_usage)
        if self.api == GEMINI and self._gemini_usage is not None:
            return gemini_tokens(self._gemini_usage)
        return None

    def tool_calls(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        if self.api == CHAT:
            for kind in self._chat_tools.values():
                counts[kind] = counts.get(kind, 0) + 1
        elif self.api == RESPONSES:
            items = self._final_output if self._final_output is not None else list(self._items_done.values())
            for item in items:
                if type(item) is dict and type(item.get("type")) is str:
                    kind = _responses_tool_kind(item["type"])
                    if kind is not None:
                        counts[kind] = counts.get(kind, 0) + 1
        elif self.api == ANTHROPIC:
            counts.update(self._anthropic_tools)
            if self._server_tool_use is not None:
                # The billed count wins over the blocks seen.
                for key, value in self._server_tool_use.items():
                    if type(value) is int and key.endswith("_requests"):
                        name = key[: -len("_requests")]
                        if value:
                            counts[name] = value
                        else:
                            counts.pop(name, None)
        elif self.api == GEMINI:
            counts.update(self._gemini_tools)
            if self._gemini_queries:
                counts["web_search"] = self._gemini_queries
        return dict(sorted(counts.items()))

    def provider(self, url_provider: str | None = None) -> str | None:
        if url_provider:
            return url_provider
        for hint in ("groq", "openrouter", "azure", "deepseek", "vllm", "vertex"):
            if hint in self.hints:
                return hint
        return {CHAT: "openai", RESPONSES: "openai", ANTHROPIC: "anthropic", GEMINI: "google"}.get(self.api)


def iter_output_text(record: Record) -> Iterator[str]:
    """The output a stream's record carries, for timing and ``--estimate``:
    text and reasoning deltas, and tool-call arguments as they stream."""
    for _kind, text in iter_fragments(record):
        if text:
            yield text
    data = record.data
    if type(data) is not dict:
        return
    kind = record.type
    if kind == "response.function_call_arguments.delta" or kind == "response.custom_tool_call_input.delta":
        delta = data.get("delta")
        if type(delta) is str and delta:
            yield delta
    elif kind == "response.output_item.added":
        item = data.get("item")
        if type(item) is dict and type(item.get("name")) is str and item["name"]:
            yield item["name"]  # a function call's name is output too
    elif kind == "content_block_start":
        block = data.get("content_block")
        if type(block) is dict and type(block.get("name")) is str and block["name"]:
            yield block["name"]  # tool_use, server_tool_use
    elif kind == "content_block_delta":
        delta = data.get("delta")
        if type(delta) is dict:
            dtype = delta.get("type")
            if dtype == "input_json_delta":
                piece = delta.get("partial_json")
            elif dtype == "compaction_delta":
                piece = delta.get("content")
            else:
                piece = None
            if type(piece) is str and piece:
                yield piece
    elif type(data.get("choices")) is list:
        for choice in data["choices"]:
            delta = choice.get("delta") if type(choice) is dict else None
            calls = delta.get("tool_calls") if type(delta) is dict else None
            for call in calls if type(calls) is list else ():
                function = call.get("function") if type(call) is dict else None
                if type(function) is dict:
                    for key in ("name", "arguments"):
                        if type(function.get(key)) is str and function[key]:
                            yield function[key]
    elif type(data.get("candidates")) is list and data["candidates"]:
        candidate = data["candidates"][0]
        content = candidate.get("content") if type(candidate) is dict else None
        parts = content.get("parts") if type(content) is dict else None
        for part in parts if type(parts) is list else ():
            if type(part) is dict and type(part.get("functionCall")) is dict:
                yield orjson.dumps(part["functionCall"]).decode()
