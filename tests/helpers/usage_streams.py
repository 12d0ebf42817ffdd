"""Hand-made recordings for the usage tests: provider streams as fetch
writes them, and the price-table excerpt."""

from __future__ import annotations

import json
from decimal import Decimal

import orjson

from sseq.records import Record, format_record

from .paths import ROOT

LITELLM_EXCERPT = ROOT / "tests" / "fixtures" / "prices" / "litellm-1.110.2-excerpt.json"

VERTEX_URL = ("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/"
              "publishers/google/models/{model}:streamGenerateContent?alt=sse")
GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/models/{model}:streamGenerateContent?alt=sse"


def table_price(model: str, key: str) -> Decimal:
    """A price from the excerpt of LiteLLM's table, exact as written there."""
    value = json.loads(LITELLM_EXCERPT.read_text())[model][key]
    if type(value) is dict:
        value = value["search_context_size_medium"]
    return Decimal(repr(value))


def recording(url: str, events: list[tuple[str, dict]], started: str = "2026-11-02T10:00:00.000Z",
              host: str | None = None, labels: dict | None = None, model: str | None = None) -> bytes:
    """A records file as fetch writes it: sseq.open, the events, sseq.close."""
    opened = {"url": url, "method": "POST", "status": 200, "headers": {}, "started": started,
              "request": {"model": model}}
    if host is not None:
        opened["host"] = host
    if labels is not None:
        opened["labels"] = labels
    out = format_record(Record("sseq.open", opened, t=0.0))
    for n, (event, data) in enumerate(events):
        out += format_record(Record(event, data, t=0.1 * (n + 1)))
    out += format_record(Record("sseq.close", {"reason": "eof", "events": len(events)}, t=0.1 * (len(events) + 1)))
    return out


def gemini_events(model: str, prompt: int, output: int, thoughts: int = 0, queries: list | None = None,
                  response_id: str = "gem-1", **meta) -> list[tuple[str, dict]]:
    candidate = {"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP", "index": 0}
    if queries:
        candidate["groundingMetadata"] = {"webSearchQueries": queries}
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": output,
             "totalTokenCount": prompt + output + thoughts, **meta}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return [("message", {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model,
                         "responseId": response_id})]


def anthropic_events(model: str, message_id: str, usage: dict, output: int) -> list[tuple[str, dict]]:
    return [
        ("message_start", {"type": "message_start", "message": {"id": message_id, "type": "message", "role": "assistant",
                                                                "model": model, "content": [], "usage": usage}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": output, **{k: v for k, v in usage.items() if k != "output_tokens"}}}),
        ("message_stop", {"type": "message_stop"}),
    ]


def chat_events(response_id: str, model: str, prompt: int, completion: int, text: str = "ok") -> list[tuple[str, dict]]:
    base = {"id": response_id, "object": "chat.completion.chunk", "model": model}
    return [
        ("message", {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]}),
        ("message", {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        ("message", {**base, "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                                       "total_tokens": prompt + completion}}),
        ("message", "[DONE]"),
    ]


def ndjson_rows(stdout: bytes) -> list[dict]:
    return [orjson.loads(line) for line in stdout.splitlines()]


def make_archive(folder, count: int) -> list:
    """``count`` recordings made from the 30 real ones, as fetch writes
    them, spread over days, hosts and teams; each copy starts with one
    event of its own, so every file is a distinct stream."""
    import sseq

    from .paths import REAL_FILES

    sources = [sseq.read_records(str(path)) for path in REAL_FILES]
    written = []
    for n in range(count):
        day = 1 + n % 28
        sub = folder / f"2026-11-{day:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        records = sources[n % len(sources)]
        opened = {"url": "", "method": "POST", "status": 200, "headers": {},
                  "started": f"2026-11-{day:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z",
                  "host": f"host-{n % 3}", "labels": {"team": ("search", "ads", "infra")[n % 3 if n % 7 else 0]}}
        out = format_record(Record("sseq.open", opened, t=0.0))
        out += format_record(Record("copy", {"copy": n}, t=0.0))
        out += b"".join(format_record(r) for r in records)
        path = sub / f"rec-{n:05d}.ndjson"
        path.write_bytes(out)
        written.append(path)
    return written
