"""The official Python SDKs (openai, anthropic, google-genai), default
options, against a real `sseq serve` process with default options and with
`--rechunk random`: every real recording of each SDK's family, and the SDK
gets the recorded chunks, text, tool calls and usage (or the recorded
in-band error, raised as the SDK raises it)."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from helpers import REAL_FILES
from helpers.serving import serving

from sseq.library import read_records
from sseq.providers import maybe_error

CHAT = [p for p in REAL_FILES if "-chat-" in p.stem]
RESPONSES = [p for p in REAL_FILES if "-responses-" in p.stem]
ANTHROPIC = [p for p in REAL_FILES if p.stem.startswith("anthropic-")]
GEMINI = [p for p in REAL_FILES if "gemini" in p.stem]

pytestmark = [
    # openai's own serializer warns about a web-search union it parses fine.
    pytest.mark.filterwarnings("ignore::UserWarning"),
    # anthropic warns about model names it deprecates; the replay ignores the name.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def test_every_real_recording_belongs_to_one_family():
    assert sorted(CHAT + RESPONSES + ANTHROPIC + GEMINI) == REAL_FILES
    assert (len(CHAT), len(RESPONSES), len(ANTHROPIC), len(GEMINI)) == (11, 8, 6, 5)


@pytest.fixture(scope="module", params=["default", "rechunk-random"])
def server(request):
    """One `sseq serve` with every real recording under /NAME."""
    extra = [] if request.param == "default" else ["--rechunk", "random"]
    with serving(*extra, *REAL_FILES) as running:
        yield running


def recorded(path) -> list:
    """The recording's events (no comments), up to and including the first
    in-band error, and that error's message (or None)."""
    events = []
    for record in read_records(str(path), include_all=False):
        events.append(record)
        said = maybe_error(record)
        if said:
            return events, said
    return events, None


# ---------------------------------------------------------------- openai: Chat Completions


@pytest.mark.parametrize("path", CHAT, ids=lambda p: p.stem)
def test_openai_chat_stream(server, path):
    events, error = recorded(path)
    expected = [r.data for r in events if r.data != "[DONE]"]
    client = openai.OpenAI(base_url=f"{server.url}/{path.stem}/v1", api_key="sk-any")
    chunks = []
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True,
                                            stream_options={"include_usage": True})
    if error is None:
        chunks = [c for c in stream]
    else:
        with pytest.raises(openai.APIError) as caught:
            for chunk in stream:
                chunks.append(chunk)
        assert caught.value.message == error
        expected = expected[:-1]  # the error chunk is raised, not yielded
    # Every chunk as recorded, field for field.
    assert [c.to_dict() for c in chunks] == expected
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(d["choices"][0]["delta"].get("content") or "" for d in expected if d.get("choices"))
    calls = [(t.function.name, t.function.arguments) for c in chunks if c.choices
             for t in c.choices[0].delta.tool_calls or () if t.function]
    assert calls == [(t["function"].get("name"), t["function"].get("arguments")) for d in expected if d.get("choices")
                     for t in d["choices"][0]["delta"].get("tool_calls") or () if t.get("function")]
    usage = [c.usage.to_dict() for c in chunks if c.usage]
    assert usage == [d["usage"] for d in expected if d.get("usage")]


def test_openai_chat_streams_hold_text_tool_calls_and_usage():
    """The recordings above are not empty: text, tool calls and usage are
    all among what the SDK got."""
    datas = [r.data for p in CHAT for r in recorded(p)[0] if isinstance(r.data, dict)]
    assert any(d.get("usage") for d in datas)
    assert any(t for d in datas if d.get("choices") for t in d["choices"][0]["delta"].get("tool_calls") or ())
    assert sum(len(d["choices"][0]["delta"].get("content") or "") for d in datas if d.get("choices")) > 1000


# ---------------------------------------------------------------- openai: Responses


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.stem)
def test_openai_responses_stream(server, path):
    events, error = recorded(path)
    expected = [r.data for r in events if r.data != "[DONE]"]
    client = openai.OpenAI(base_url=f"{server.url}/{path.stem}/v1", api_key="sk-any")
    received = []
    stream = client.responses.create(model="m", input="hi", stream=True)
    if error is None:
        received = [e for e in stream]
    else:
        with pytest.raises(openai.APIError) as caught:
            for event in stream:
                received.append(event)
        assert caught.value.message == error
        expected = expected[:-1]
    assert [e.to_dict() for e in received] == expected
    text = "".join(e.delta for e in received if e.type == "response.output_text.delta")
    assert text == "".join(d["delta"] for d in expected if d["type"] == "response.output_text.delta")
    arguments = [e.arguments for e in received if e.type == "response.function_call_arguments.done"]
    assert arguments == [d["arguments"] for d in expected if d["type"] == "response.function_call_arguments.done"]
    final = [e.response for e in received if e.type in ("response.completed", "response.incomplete")]
    if final:
        recorded_usage = [d["response"]["usage"] for d in expected
                          if d["type"] in ("response.completed", "response.incomplete")][-1]
        assert final[-1].usage.to_dict() == recorded_usage
        assert final[-1].output_text == text


# ---------------------------------------------------------------- anthropic


@pytest.mark.parametrize("path", ANTHROPIC, ids=lambda p: p.stem)
def test_anthropic_messages_stream(server, path):
    events, _ = recorded(path)
    expected = [r.data for r in events if r.data.get("type") != "ping"]  # the SDK drops pings
    client = anthropic.Anthropic(base_url=f"{server.url}/{path.stem}", api_key="sk-ant-any")
    received = list(client.messages.create(model="claude-sonnet-4-5", max_tokens=1024, stream=True,
                                           messages=[{"role": "user", "content": "hi"}]))
    assert [e.to_dict() for e in received] == expected
    # The SDK's own accumulation: the final message's text, tool calls and usage.
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=1024,
                                messages=[{"role": "user", "content": "hi"}]) as stream:
        message = stream.get_final_message()
    deltas = [d["delta"] for d in expected if d["type"] == "content_block_delta"]
    assert "".join(b.text for b in message.content if b.type == "text") == \
        "".join(d["text"] for d in deltas if d["type"] == "text_delta")
    starts = [d["content_block"] for d in expected if d["type"] == "content_block_start"]
    assert [(b.name, b.id) for b in message.content if b.type in ("tool_use", "server_tool_use")] == \
        [(b["name"], b["id"]) for b in starts if b["type"] in ("tool_use", "server_tool_use")]
    last_usage = [d["usage"] for d in expected if d["type"] == "message_delta"][-1]
    assert message.usage.output_tokens == last_usage["output_tokens"]
    assert message.stop_reason == [d["delta"]["stop_reason"] for d in expected if d["type"] == "message_delta"][-1]


# ---------------------------------------------------------------- google-genai


@pytest.mark.parametrize("path", GEMINI, ids=lambda p: p.stem)
def test_gemini_stream(server, path):
    events, _ = recorded(path)
    expected = [r.data for r in events]
    client = genai.Client(api_key="AIza-any", http_options=genai_types.HttpOptions(base_url=f"{server.url}/{path.stem}/"))
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-pro", contents="hi"))
    assert len(chunks) == len(expected)
    parts = [p for c in chunks for cand in c.candidates or () for p in cand.content.parts or ()] if chunks else []
    recorded_parts = [p for d in expected for cand in d.get("candidates", ()) for p in cand["content"].get("parts", ())]
    assert [(p.text, bool(p.thought)) for p in parts] == [(p.get("text"), bool(p.get("thought"))) for p in recorded_parts]
    assert [(p.function_call.name, p.function_call.args) for p in parts if p.function_call] == \
        [(p["functionCall"]["name"], p["functionCall"].get("args", {})) for p in recorded_parts if "functionCall" in p]
    meta, recorded_meta = chunks[-1].usage_metadata, expected[-1]["usageMetadata"]
    assert (meta.prompt_token_count, meta.candidates_token_count, meta.thoughts_token_count, meta.total_token_count) == (
        recorded_meta.get("promptTokenCount"), recorded_meta.get("candidatesTokenCount"),
        recorded_meta.get("thoughtsTokenCount"), recorded_meta["totalTokenCount"])
    assert [c.response_id for c in chunks] == [d.get("responseId") for d in expected]


def test_gemini_sdk_surfaces_a_cassette_miss(tmp_path):
    """google-genai reads 404 as a ClientError with sseq's message."""
    folder = tmp_path / "cassette"
    folder.mkdir()
    (folder / "other.ndjson").write_text(json.dumps({"event": "sseq.open", "data": {
        "status": 200, "request": {"method": "POST", "path": "/v1/models/gemini-2.5-pro:streamGenerateContent",
                                   "query": "alt=sse", "json": {"contents": [{"parts": [{"text": "bye"}],
                                                                              "role": "user"}]}}}}) + "\n")
    with serving(folder) as running:
        client = genai.Client(api_key="AIza-any", http_options=genai_types.HttpOptions(base_url=running.url + "/"))
        with pytest.raises(genai_errors.ClientError) as caught:
            list(client.models.generate_content_stream(model="gemini-2.5-pro", contents="hi"))
    assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")
    message = caught.value.message
    assert message.startswith("sseq serve: no recording matched POST /v1/models/gemini-2.5-pro:streamGenerateContent"
                              "?alt=sse; nearest: ")
    assert '-          "text": "bye"\n+          "text": "hi"' in message
