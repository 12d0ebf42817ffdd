"""Record modes: a two-turn tool conversation through the openai SDK,
recorded in mode `new`, then answered from the cassette (mode `new` again,
mode `none` with the upstream gone, and `sseq serve` of the folder); `once`
records only an empty cassette; a miss in `none` gets serve's answer."""

from __future__ import annotations

import json
import socket

import openai
import pytest
from helpers import REAL
from helpers.http_servers import DripServer
from helpers.proxying import proxying, recordings

from sseq.errors import BadInput
from sseq.proxy.server import ProxyServer
from sseq.serve.server import ReplayServer

TOOL_TURN = (REAL / "openai-chat-tool-calls-usage.sse").read_bytes()
TEXT_TURN = (REAL / "openai-chat-text-usage.sse").read_bytes()
TOOLS = [{"type": "function", "function": {"name": "multiply", "description": "a times b", "parameters": {
    "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}}}]


def conversation(base_url: str, question: str = "What is 1231 times 2331?"):
    """Two turns: the model asks for the tool, then answers with its result.
    What the SDK got: (tool call, arguments, final text, usage of both)."""
    client = openai.OpenAI(base_url=base_url + "/v1", api_key="sk-test-modes-0123456789", max_retries=0)
    messages = [{"role": "user", "content": question}]
    first = list(client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True,
                                                stream_options={"include_usage": True}))
    calls = {}
    for chunk in first:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = calls.setdefault(call.index, {"id": call.id, "name": call.function.name, "arguments": ""})
            entry["arguments"] += call.function.arguments or ""
    (call,) = calls.values()
    args = json.loads(call["arguments"])
    messages += [{"role": "assistant", "tool_calls": [{"id": call["id"], "type": "function", "function": {
                     "name": call["name"], "arguments": call["arguments"]}}]},
                 {"role": "tool", "tool_call_id": call["id"], "content": str(args["a"] * args["b"])}]
    second = list(client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in second if c.choices)
    usages = [next(c.usage.total_tokens for c in turn if c.usage) for turn in (first, second)]
    return call["name"], args, text, usages


@pytest.fixture
def upstream():
    with DripServer() as server:
        @server.route("/v1/chat/completions")
        def chat(x):
            turn = TEXT_TURN if any(m["role"] == "tool" for m in json.loads(x.body)["messages"]) else TOOL_TURN
            x.start()
            x.send_split(turn, list(range(50, len(turn), 700)), pause=0.001)

        yield server


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_a_two_turn_tool_conversation_recorded_in_mode_new_is_replayed_without_the_upstream(upstream, tmp_path):
    folder = tmp_path / "cas"
    direct = conversation(upstream.url(""))
    assert direct[0] == "multiply" and direct[1] == {"a": 1231, "b": 2331} and direct[2]
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        recorded = conversation(proxy.url)
    assert recorded == direct and len(upstream.log) == 4
    made = recordings(folder)
    assert len(made) == 2 and all(r[-1]["data"]["reason"] == "eof" for r in made.values())

    # Mode new again: both turns match, nothing reaches the upstream.
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        assert conversation(proxy.url) == direct
    log = list(proxy.log)  # (complete once the proxy has stopped)
    assert len(upstream.log) == 4 and [e.outcome for e in log] == ["replayed", "replayed"]
    assert sorted(e.recording for e in log) == sorted(made)

    # Mode none, the upstream gone: the cassette alone answers.
    with ProxyServer(dead_url(), record=str(folder), mode="none") as proxy:
        assert conversation(proxy.url) == direct
    assert proxy.failures == 0

    # And sseq serve of the folder gives the SDK the same again.
    with ReplayServer(str(folder)) as replay:
        assert conversation(replay.url) == direct
    assert sorted(recordings(folder)) == sorted(made)  # replays are not recorded again


def test_mode_new_forwards_and_records_what_does_not_match(upstream, tmp_path):
    folder = tmp_path / "cas"
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        conversation(proxy.url)
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        conversation(proxy.url, question="What is 2 times 3?")  # turn 0 differs, so does turn 1
    log = list(proxy.log)
    assert [e.outcome for e in log] == ["eof", "eof"] and len(upstream.log) == 4
    assert len(recordings(folder)) == 4


def test_identical_requests_past_the_recorded_ones_are_numbered_on(upstream, tmp_path):
    folder = tmp_path / "cas"
    client = lambda url: openai.OpenAI(base_url=url + "/v1", api_key="sk-x-0123456789", max_retries=0)  # noqa: E731
    ask = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        list(client(proxy.url).chat.completions.create(**ask))
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        for _ in range(2):
            list(client(proxy.url).chat.completions.create(**ask))
    log = list(proxy.log)
    assert [e.outcome for e in log] == ["replayed", "eof"]
    made = recordings(folder)
    assert sorted(r[0]["data"]["request"]["sequence"] for r in made.values()) == [0, 1]
    with ReplayServer(str(folder)) as replay:  # serve accepts the numbering (no two claim one sequence)
        for _ in range(2):
            list(client(replay.url).chat.completions.create(**ask))


def test_mode_once_records_an_empty_cassette_and_then_only_replays(upstream, tmp_path):
    folder = tmp_path / "cas"
    with ProxyServer(upstream.url(""), record=str(folder), mode="once") as proxy:
        first = conversation(proxy.url)
    assert len(upstream.log) == 2 and len(recordings(folder)) == 2
    with ProxyServer(upstream.url(""), record=str(folder), mode="once") as proxy:
        assert conversation(proxy.url) == first
        with pytest.raises(openai.NotFoundError, match="no recording matched"):
            conversation(proxy.url, question="Something new?")
    assert len(upstream.log) == 2 and proxy.failures == 1


def test_a_miss_in_mode_none_names_the_nearest_recording_and_the_process_exits_1(upstream, tmp_path):
    folder = tmp_path / "cas"
    with ProxyServer(upstream.url(""), record=str(folder), mode="new") as proxy:
        conversation(proxy.url)
    with proxying(dead_url(), "--record", folder, "--mode", "none") as proxy:
        with pytest.raises(openai.NotFoundError) as caught:
            conversation(proxy.url, question="What is 4 times 5?")
        proxy.wait_for("no recording matched")
        status = proxy.stop()
    message = str(caught.value)
    assert "no recording matched POST /v1/chat/completions" in message and "nearest: " in message
    assert "What is 4 times 5?" in message  # the diff shows what differed
    assert "no recording matched" in proxy.stderr and status == 1


def test_mode_none_needs_recordings(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no recording to replay"):
        ProxyServer("http://127.0.0.1:9", record=str(tmp_path / "empty"), mode="none")
