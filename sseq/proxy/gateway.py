"""What the proxy changes, as a gateway, between the client and the
upstream: the request body (``--jq-body``, ``--include-usage``) and, for
``--include-usage``, the one extra chunk it asked for, taken out of what the
client receives.  No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ..errors import UsageProblem
from ..fetch.request import edit_body

__all__ = ["BodyEdit", "GatewayEdits", "UsageChunkFilter", "is_chat_path"]


def is_chat_path(path: str) -> bool:
    """A Chat Completions endpoint (OpenAI and the compatible relays)."""
    return path.split("?", 1)[0].rstrip("/").endswith("/chat/completions")


@dataclass(frozen=True)
class BodyEdit:
    """A request body after the gateway's edits.  ``strip_usage_chunk``: the
    proxy asked for the usage chunk on the client's behalf, so the client
    must not get it.  ``error``: why an edit could not be made (the request
    is then refused with 400)."""

    body: bytes | None
    strip_usage_chunk: bool = False
    error: str | None = None


class GatewayEdits:
    """The request edits: ``jq_body`` (a jq expression applied to every JSON
    body; a body that is not JSON is passed on untouched) and
    ``include_usage`` (ask a Chat Completions upstream for the final usage
    chunk when a streaming client did not)."""

    def __init__(self, jq_body: str | None = None, include_usage: bool = False):
        self.jq_body = jq_body
        self.include_usage = include_usage
        if jq_body is not None:
            import jq

            try:
                jq.compile(jq_body)  # a bad expression is refused at start, not per request
            except ValueError as exc:
                raise UsageProblem(f"--jq-body: {str(exc).strip()}") from None

    @property
    def active(self) -> bool:
        return self.jq_body is not None or self.include_usage

    def edit(self, path: str, body: bytes | None) -> BodyEdit:
        if not self.active or not body:
            return BodyEdit(body)
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return BodyEdit(body)
        changed = False
        if self.jq_body is not None:
            try:
                body = edit_body(body, self.jq_body)
            except UsageProblem as exc:
                return BodyEdit(body, error=f"{exc} (in this request)")
            value = orjson.loads(body)
            changed = True
        strip = False
        if self.include_usage and is_chat_path(path) and type(value) is dict and value.get("stream") is True:
            options = value.get("stream_options")
            if not (type(options) is dict and options.get("include_usage") is True):
                value = dict(value)
                value["stream_options"] = {**(options if type(options) is dict else {}), "include_usage": True}
                changed = strip = True
        if strip:
            body = orjson.dumps(value)
        return BodyEdit(body, strip) if changed else BodyEdit(body)


def _is_usage_chunk(block: bytes) -> bool:
    """The chunk that ``stream_options.include_usage`` adds at the end of a
    Chat stream: no choices, a usage object."""
    data = []
    for line in block.splitlines():
        if line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
    if not data:
        return False
    try:
        value = orjson.loads(b"\n".join(data))
    except orjson.JSONDecodeError:
        return False
    return type(value) is dict and value.get("choices") == [] and type(value.get("usage")) is dict


class UsageChunkFilter:
    """Passes an event stream on block by block, without the usage chunk.

    Bytes are held only until the block they belong to is complete (a
    client can do nothing with half an event anyway), then passed on whole.
    """

    def __init__(self) -> None:
        self._pending = b""
        self.removed = 0

    def feed(self, data: bytes) -> bytes:
        buffer = self._pending + data
        out: list[bytes] = []
        start = 0
        while True:
            end = _block_end(buffer, start)
            if end < 0:
                break
            block = buffer[start:end]
            if b'"usage"' in block and _is_usage_chunk(block):
                self.removed += 1
            else:
                out.append(block)
            start = end
        self._pending = buffer[start:]
        return b"".join(out)

    def end(self) -> bytes:
        rest, self._pending = self._pending, b""
        return rest


def _block_end(buffer: bytes, start: int) -> int:
    """The end (after the blank line) of the first complete block at
    ``start``, or -1."""
    best = -1
    for terminator in (b"\n\n", b"\r\n\r\n", b"\r\r"):
        at = buffer.find(terminator, start)
        if at >= 0 and (best < 0 or at + len(terminator) < best):
            best = at + len(terminator)
    return best
