"""Hand-made cassette recordings, written as fetch and proxy write them
(COMMON contract: ``sseq.open`` with status, headers and ``request``; the
events with ``t``; ``sseq.close``, holding the body of a non-stream answer),
and the request bodies the SDKs send for them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CHAT_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_hand_made",
                "openai-processing-ms": "120", "transfer-encoding": "chunked", "connection": "keep-alive",
                "set-cookie": "[redacted]"}


def request_record(body, path: str = "/v1/chat/completions", method: str = "POST", query: str = "",
                   sequence: int | None = None) -> dict:
    """``sseq.open``'s ``request`` for a JSON (or text, or no) body."""
    request: dict = {"method": method, "path": path, "query": query,
                     "headers": {"content-type": "application/json", "authorization": "[redacted]"}}
    if body is not None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        if isinstance(body, str):
            request["text"] = body
        else:
            request["json"] = body
        request.update(bytes=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                       model=body.get("model") if isinstance(body, dict) else None)
    if sequence is not None:
        request["sequence"] = sequence
    return request


def write_recording(path: Path, request: dict | None, events=(), *, status: int = 200, headers: dict | None = None,
                    body: str | None = None, started: str = "2026-11-30T10:00:00Z") -> Path:
    """A recording file: ``events`` are (event, data) pairs; ``body`` makes
    it a non-stream answer."""
    opened: dict = {"url": "https://api.example.test" + (request or {}).get("path", "/v1/chat/completions"),
                    "method": (request or {}).get("method", "POST"), "status": status,
                    "headers": CHAT_HEADERS if headers is None else headers, "started": started,
                    "host": "hand-made", "labels": {}}
    if request is not None:
        opened["request"] = request
    lines = [{"event": "sseq.open", "t": 0.0, "data": opened}]
    for n, (event, data) in enumerate(events):
        lines.append({"event": event, "t": round(0.01 * (n + 1), 3), "data": data})
    close: dict = {"reason": "eof" if status < 400 else "http-error", "events": len(events), "bytes": 0,
                   "error": None, "status": status}
    if body is not None:
        close["body"] = body
    lines.append({"event": "sseq.close", "t": 0.5, "data": close})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n" for line in lines))
    return path


def chat_chunks(text: str, usage: dict | None = None, model: str = "gpt-4o-mini") -> list[tuple[str, object]]:
    """A Chat Completions stream that says ``text`` (one chunk per word)."""
    words = text.split(" ")
    chunks = [{"id": "chatcmpl-hand", "object": "chat.completion.chunk", "created": 1764496800, "model": model,
               "choices": [{"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}]}
              for i, w in enumerate(words)]
    chunks[-1]["choices"][0]["finish_reason"] = "stop"
    if usage is not None:
        chunks.append({"id": "chatcmpl-hand", "object": "chat.completion.chunk", "created": 1764496800,
                       "model": model, "choices": [], "usage": usage})
    return [("message", c) for c in chunks] + [("message", "[DONE]")]
