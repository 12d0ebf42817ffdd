"""The assistant's text, assembled from any provider's stream events.

Each provider puts its text deltas somewhere else:

- OpenAI Responses: ``response.output_text.delta`` (reasoning:
  ``response.reasoning_summary_text.delta``, ``response.reasoning_text.delta``);
- Anthropic Messages: ``content_block_delta`` with ``text_delta``
  (reasoning: ``thinking_delta``);
- Chat Completions and the relays: ``choices[].delta.content`` (reasoning:
  ``reasoning_content`` as DeepSeek sends it, or ``reasoning``);
- Gemini: ``candidates[0].content.parts[].text`` (reasoning: parts marked
  ``thought``).
"""

from __future__ import annotations

from collections.abc import Iterator

from .records import Record

TEXT = "text"
REASONING = "reasoning"

_RESPONSES_TEXT = {"response.output_text.delta": TEXT, "response.refusal.delta": TEXT,
                   "response.reasoning_summary_text.delta": REASONING,
                   "response.reasoning_text.delta": REASONING}


def iter_fragments(record: Record) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs carried by one record; kind is TEXT or REASONING."""
    data = record.data
    if type(data) is not dict:
        return
    kind = record.type
    where = _RESPONSES_TEXT.get(kind)
    if where is not None:
        delta = data.get("delta")
        if type(delta) is str:
            yield where, delta
        return
    if kind == "content_block_delta":
        delta = data.get("delta")
        if type(delta) is dict:
            if delta.get("type") == "text_delta" and type(delta.get("text")) is str:
                yield TEXT, delta["text"]
            elif delta.get("type") == "thinking_delta" and type(delta.get("thinking")) is str:
                yield REASONING, delta["thinking"]
        return
    choices = data.get("choices")
    if type(choices) is list:
        for choice in choices:
            if type(choice) is not dict or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if type(delta) is not dict:
                continue
            reasoning = delta.get("reasoning_content")
            if type(reasoning) is not str:
                reasoning = delta.get("reasoning")
            if type(reasoning) is str and reasoning:
                yield REASONING, reasoning
            content = delta.get("content")
            if type(content) is str and content:
                yield TEXT, content
        return
    candidates = data.get("candidates")
    if type(candidates) is list and candidates and type(candidates[0]) is dict:
        content = candidates[0].get("content")
        parts = content.get("parts") if type(content) is dict else None
        if type(parts) is list:
            for part in parts:
                if type(part) is dict and type(part.get("text")) is str:
                    yield (REASONING if part.get("thought") else TEXT), part["text"]


class TextAssembler:
    """Turns records into the text a person reads.  With ``reasoning``, the
    reasoning text is included too, set off from the answer by a blank line
    wherever the stream switches between them."""

    def __init__(self, reasoning: bool = False):
        self.reasoning = reasoning
        self.last_kind: str | None = None
        self.ends_with_newline = True

    def feed(self, record: Record) -> str:
        pieces = []
        for kind, text in iter_fragments(record):
            if kind == REASONING and not self.reasoning:
                continue
            if not text:
                continue
            if self.last_kind is not None and kind != self.last_kind:
                pieces.append("\n\n" if self.ends_with_newline is False else "\n")
            self.last_kind = kind
            pieces.append(text)
            self.ends_with_newline = text.endswith("\n")
        return "".join(pieces)

    def finish(self) -> str:
        """What to write at the end: a final newline when the text lacks one."""
        return "" if self.last_kind is None or self.ends_with_newline else "\n"
