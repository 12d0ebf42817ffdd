"""The benchmark's inputs, generated deterministically (seeded, no network).

W1  OpenAI Responses stream: ``event:`` + ``data:`` pairs, responses of 300
    small ``response.output_text.delta`` events, each ending in
    ``response.completed`` with usage.
W2  Chat Completions chunks, each stream ending in ``data: [DONE]``, LF.
W3  W2 with CRLF line endings.
W4  one event whose data is 50 MB (w4-big), and 50 events of 1 MB (w4-many).
W5  the records of W1 (``sseq parse`` output), written by the runner.
W6  one million tiny events: ``event: e`` + ``data: x`` (18 bytes each).
W7  a folder of 2,000 recordings (records files, one Responses stream each,
    as ``sseq fetch`` writes them), for ``usage -j``.

Each generator writes whole responses until the size is reached, so every
file is a stream a real client could have received.  ``iter_w1(size)``
yields the same bytes in pieces, for feeding a 1 GB input to a command's
stdin without storing it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

MB = 1_000_000

_WORDS = (
    "the of and to in is that it for on with as was be by this are or from at "
    "an but not have which one were all their has been more when will would "
    "there can stream event token model answer cache usage server delta "
    "réponse naïve 東京 données — “quoted” 🙂"
).split()


def _delta_text(rng: random.Random) -> str:
    word = rng.choice(_WORDS)
    return word if rng.random() < 0.15 else " " + word


def _dumps(obj) -> str:
    # Compact, key order kept, non-ASCII as is: what OpenAI sends.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _responses_stream(rng: random.Random, n: int) -> str:
    """One OpenAI Responses stream with 300 text deltas."""
    resp_id = "resp_%032x" % rng.getrandbits(128)
    item_id = "msg_%032x" % rng.getrandbits(128)
    model = "gpt-5-mini-2025-08-07"
    base = {"id": resp_id, "object": "response", "created_at": 1763700000 + n, "status": "in_progress",
            "model": model, "output": [], "usage": None}
    seq = 0
    out = []

    def event(kind: str, body: dict) -> None:
        nonlocal seq
        payload = {"type": kind, "sequence_number": seq}
        payload.update(body)
        seq += 1
        out.append("event: %s\ndata: %s\n\n" % (kind, _dumps(payload)))

    event("response.created", {"response": base})
    event("response.in_progress", {"response": base})
    event("response.output_item.added", {"output_index": 0, "item": {
        "id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}})
    event("response.content_part.added", {"item_id": item_id, "output_index": 0, "content_index": 0,
                                          "part": {"type": "output_text", "annotations": [], "text": ""}})
    pieces = []
    for _ in range(300):
        text = _delta_text(rng)
        pieces.append(text)
        event("response.output_text.delta", {"item_id": item_id, "output_index": 0, "content_index": 0,
                                             "delta": text, "logprobs": []})
    full = "".join(pieces)
    event("response.output_text.done", {"item_id": item_id, "output_index": 0, "content_index": 0,
                                        "text": full, "logprobs": []})
    event("response.output_item.done", {"output_index": 0, "item": {
        "id": item_id, "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "text": full}]}})
    usage = {"input_tokens": 20 + n % 50, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": 320 + n % 50}
    done = dict(base, status="completed", usage=usage)
    event("response.completed", {"response": done})
    return "".join(out)


def _chat_stream(rng: random.Random, n: int) -> str:
    """One Chat Completions stream: role chunk, 300 content chunks, finish,
    usage, [DONE]."""
    cid = "chatcmpl-%024x" % rng.getrandbits(96)
    head = '{"id":"%s","object":"chat.completion.chunk","created":%d,"model":"gpt-4o-mini-2024-07-18",' \
           '"service_tier":"default","system_fingerprint":"fp_%08x","choices":' % (cid, 1763700000 + n, n)
    out = ['data: %s[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
           '"logprobs":null,"finish_reason":null}],"usage":null}\n\n' % head]
    for _ in range(300):
        out.append('data: %s[{"index":0,"delta":{"content":%s},"logprobs":null,"finish_reason":null}],'
                   '"usage":null,"obfuscation":"%06x"}\n\n'
                   % (head, _dumps(_delta_text(rng)), rng.getrandbits(24)))
    out.append('data: %s[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n' % head)
    out.append('data: %s[],"usage":{"prompt_tokens":%d,"completion_tokens":300,"total_tokens":%d}}\n\n'
               % (head, 20 + n % 50, 320 + n % 50))
    out.append("data: [DONE]\n\n")
    return "".join(out)


def _iter_streams(make, seed: int, size: int, crlf: bool = False) -> Iterator[bytes]:
    rng = random.Random(seed)
    written = 0
    n = 0
    while written < size:
        block = make(rng, n).encode()
        if crlf:
            block = block.replace(b"\n", b"\r\n")
        n += 1
        written += len(block)
        yield block


def iter_w1(size: int) -> Iterator[bytes]:
    return _iter_streams(_responses_stream, 1, size)


def iter_w2(size: int, crlf: bool = False) -> Iterator[bytes]:
    return _iter_streams(_chat_stream, 2, size, crlf)


def iter_w4_big(size: int = 50 * MB) -> Iterator[bytes]:
    """One event: a single-line JSON object holding a ``size``-byte string."""
    rng = random.Random(4)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
    block = "".join(rng.choice(alphabet) for _ in range(1 << 16)).encode()
    yield b'event: blob\ndata: {"type":"blob","data":"'
    left = size
    while left > 0:
        piece = block[: min(left, len(block))]
        left -= len(piece)
        yield piece
    yield b'"}\n\n'


def iter_w4_many(count: int = 50, size: int = MB) -> Iterator[bytes]:
    for _ in range(count):
        yield from iter_w4_big(size)


def iter_tiny(count: int = 1_000_000) -> Iterator[bytes]:
    """``count`` events of one short data line each: the per-event cost."""
    one = b"event: e\ndata: x\n\n"
    block = one * 10_000
    left = count
    while left > 0:
        n = min(left, 10_000)
        yield block[: n * len(one)]
        left -= n


def _recording(rng: random.Random, n: int) -> bytes:
    """One Responses stream as the records ``sseq fetch`` writes: sseq.open,
    each event with its ``t``, sseq.close."""
    opened = ('{"event":"sseq.open","t":0.000,"data":{"url":"https://api.openai.com/v1/responses",'
              '"status":200,"started":"2026-11-%02dT10:00:00Z","headers":{"content-type":"text/event-stream"}}}\n'
              % (1 + n % 28))
    lines = [opened.encode()]
    t = 0.3
    for block in _responses_stream(rng, n).split("\n\n")[:-1]:
        head, data = block.split("\n", 1)
        kind = head[len("event: "):]
        t += 0.01
        lines.append(b'{"event":"%s","t":%.3f,"data":%s}\n' % (kind.encode(), t, data[len("data: "):].encode()))
    lines.append(b'{"event":"sseq.close","t":%.3f,"data":{"reason":"eof"}}\n' % (t + 0.001))
    return b"".join(lines)


def write_recordings(folder, count: int) -> int:
    """W7: ``count`` recordings in ``folder`` (made afresh); their total size."""
    import shutil
    from pathlib import Path

    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(7)
    size = 0
    for n in range(count):
        data = _recording(rng, n)
        day = folder / f"{n // 100:03d}"  # 100 recordings per sub-folder
        day.mkdir(exist_ok=True)
        (day / f"stream-{n:05d}.ndjson").write_bytes(data)
        size += len(data)
    return size


def generators(scale: float = 1.0, tiny: int = 1_000_000) -> dict:
    """The generated files by name; ``scale`` shrinks them (--quick)."""
    big = int(50 * MB * scale)
    return {
        "w1.sse": lambda: iter_w1(int(100 * MB * scale)),
        "w2.sse": lambda: iter_w2(int(100 * MB * scale)),
        "w3.sse": lambda: iter_w2(int(100 * MB * scale), crlf=True),
        "w4-big.sse": lambda: iter_w4_big(big),
        "w4-many.sse": lambda: iter_w4_many(50, big // 50),
        "w6-tiny.sse": lambda: iter_tiny(tiny),
    }


GENERATORS = generators()


def write(path, chunks: Iterator[bytes]) -> int:
    size = 0
    with open(path, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            size += len(chunk)
    return size


if __name__ == "__main__":
    # python bench/workloads.py w1 SIZE: stream a workload to stdout (used to
    # feed the 1 GB memory runs without storing the file).
    import sys

    kind, size = sys.argv[1], int(sys.argv[2])
    make = {"w1": iter_w1, "w2": iter_w2}[kind]
    out = sys.stdout.buffer
    try:
        for chunk in make(size):
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        pass
