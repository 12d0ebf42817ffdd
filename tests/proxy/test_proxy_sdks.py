"""The official SDKs (openai, anthropic, google-genai, the openai npm
package; default options)
streaming through `sseq proxy` to a local upstream: each gets the same
text, tool calls and usage as going direct, and again when the proxy's
recording is served back by `sseq serve`.

Upstreams: `sseq serve` of the real recordings, and the dripping server
sending the same bytes cut mid-line with keep-alive comments between
events."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from pathlib import Path

import anthropic
import openai
import pytest
from google import genai
from google.genai import types
from helpers import REAL, ROOT
from helpers.http_servers import DripServer
from helpers.proxying import wait_for_recordings

from sseq.proxy.server import ProxyServer
from sseq.serve.server import ReplayServer

KEY = "sk-sdk-test-0123456789"


def openai_chat(base_url: str):
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=KEY)
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is 6 times 7?"}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [(t.index, t.id, t.function.name, t.function.arguments) for c in chunks if c.choices
             for t in c.choices[0].delta.tool_calls or []]
    usage = next((c.usage.to_dict() for c in chunks if c.usage), None)
    return text, calls, usage


def openai_responses(base_url: str):
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=KEY)
    with client.responses.stream(model="gpt-5", input="Hello") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    calls = [(item.name, item.arguments) for item in final.output if item.type == "function_call"]
    return final.output_text, calls, final.usage.to_dict()


def anthropic_messages(base_url: str):
    client = anthropic.Anthropic(base_url=base_url, api_key=KEY)
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=1024,
                                messages=[{"role": "user", "content": "Hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    calls = [(block.name, block.input) for block in final.content if block.type == "tool_use"]
    return text, calls, final.usage.to_dict()


def gemini(base_url: str):
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=base_url))
    text, calls, usage = "", [], None
    for response in client.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi"):
        for candidate in response.candidates or []:
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.text and not part.thought:
                    text += part.text
                if part.function_call:
                    calls.append((part.function_call.name, part.function_call.args))
        if response.usage_metadata:
            usage = response.usage_metadata.model_dump(exclude_none=True)
    return text, calls, usage


CASES = [
    (openai_chat, "openai-chat-tool-calls-usage.sse"),
    (openai_chat, "openai-chat-text-usage.sse"),
    (openai_responses, "openai-responses-function-call.sse"),
    (openai_responses, "openai-responses-reasoning-summary.sse"),
    (anthropic_messages, "anthropic-messages-tool-use.sse"),
    (anthropic_messages, "anthropic-messages-thinking.sse"),
    (gemini, "gemini-sse-function-call.sse"),
    (gemini, "gemini-sse-text.sse"),
]
IDS = [name.removesuffix(".sse") for _, name in CASES]


def served_back(folder, client):
    """What the SDK gets from `sseq serve` of the proxy's one recording."""
    (name,) = wait_for_recordings(folder, 1)
    with ReplayServer(str(folder / name)) as replay:
        return client(replay.url)


@pytest.mark.parametrize(("client", "name"), CASES, ids=IDS)
def test_an_sdk_through_the_proxy_to_sseq_serve_gets_what_it_gets_direct_and_again_from_the_recording(
        client, name, tmp_path):
    with ReplayServer(str(REAL / name)) as upstream:
        direct = client(upstream.url)
        with ProxyServer(upstream.url, record=str(tmp_path)) as proxy:
            proxied = client(proxy.url)
    text, calls, usage = direct
    assert usage and (text or calls)
    assert proxied == direct
    assert served_back(tmp_path, client) == direct


def drip_wire(data: bytes, seed: int, keepalives: bool) -> list[bytes]:
    """The recording's bytes cut at random places, many mid-line, with a
    keep-alive comment after some events, as real servers drip them."""
    rng = random.Random(seed)
    blocks = re.split(rb"(?<=\n\n)", data)
    pieces: list[bytes] = []
    for block in blocks:
        if not block:
            continue
        cut = sorted(rng.sample(range(1, len(block)), min(3, len(block) - 1))) if len(block) > 1 else []
        bounds = [0, *cut, len(block)]
        pieces += [block[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
        if keepalives and rng.random() < 0.3:
            pieces.append(b": keep-alive\n\n")
    return pieces


@pytest.mark.parametrize(("client", "name"), CASES[::2], ids=IDS[::2])
def test_an_sdk_through_the_proxy_to_a_dripping_upstream_gets_what_it_gets_direct(client, name, tmp_path):
    wire = (REAL / name).read_bytes()
    # google-genai reads every line as JSON: a comment breaks it even direct
    # (Gemini sends none), so its stream gets none.
    pieces = drip_wire(wire, seed=len(name), keepalives=client is not gemini)
    with DripServer() as upstream:
        def answer(x):
            x.start()
            for piece in pieces:
                x.send(piece)

        for path in ("/v1/chat/completions", "/v1/responses", "/v1/messages",
                     "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                     "/v1/models/gemini-2.5-flash:streamGenerateContent"):
            upstream.route(path)(answer)
        direct = client(upstream.url(""))
        with ProxyServer(upstream.url(""), record=str(tmp_path)) as proxy:
            proxied = client(proxy.url)
        seen = upstream.log[-1]
    assert proxied == direct and direct[2]
    assert seen.headers.get("authorization", seen.headers.get("x-api-key", seen.headers.get("x-goog-api-key"))) in (
        KEY, f"Bearer {KEY}")
    assert served_back(tmp_path, client) == direct


NODE_SCRIPT = Path(__file__).with_name("openai_node_stream.mjs")
OPENAI_NPM = ROOT / "tests" / "helpers" / "node" / "node_modules" / "openai" / "index.mjs"


def openai_node(base_url: str):
    """The openai npm package (tests/helpers/node, installed by make)."""
    done = subprocess.run(["node", str(NODE_SCRIPT)], capture_output=True, timeout=60,
                          env={**os.environ, "BASE_URL": base_url + "/v1", "OPENAI_MODULE": str(OPENAI_NPM)})
    assert done.returncode == 0, done.stderr.decode()
    got = json.loads(done.stdout)
    return got["text"], got["calls"], got["usage"]


@pytest.mark.parametrize("name", ["openai-chat-tool-calls-usage.sse", "openai-chat-text-usage.sse"])
def test_the_openai_npm_package_through_the_proxy_gets_what_it_gets_direct(name, tmp_path):
    with ReplayServer(str(REAL / name)) as upstream:
        direct = openai_node(upstream.url)
        with ProxyServer(upstream.url, record=str(tmp_path)) as proxy:
            proxied = openai_node(proxy.url)
    assert direct[2] and (direct[0] or direct[1])
    assert proxied == direct
    assert served_back(tmp_path, openai_node) == direct
