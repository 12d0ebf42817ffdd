"""One small hand-made stream per usage rule, and the corners of streams."""

from __future__ import annotations

import orjson

import sseq
from sseq.records import Record, format_record
from sseq.usage import usage_of
from sseq.usage.streams import iter_file_usages


def sse(*events) -> bytes:
    """SSE wire bytes: each event a dict (data only) or (type, dict)."""
    out = b""
    for event in events:
        if type(event) is tuple:
            kind, data = event
            out += b"event: " + kind.encode() + b"\n"
        else:
            data = event
        out += b"data: " + (data if type(data) is bytes else orjson.dumps(data)) + b"\n\n"
    return out


def usage_of_sse(data: bytes):
    return usage_of(sseq.parse_bytes(data))


def tokens(u):
    return (u.input_tokens, u.cached_input_tokens, u.cache_write_tokens, u.output_tokens, u.reasoning_tokens,
            u.total_tokens)


def chunk(**extra):
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o-mini", "choices": []}
    base.update(extra)
    return base


# --- OpenAI Chat Completions and the relays -----------------------------------


def test_chat_usage_is_the_non_null_chunk_not_the_last():
    u = usage_of_sse(sse(
        chunk(choices=[{"index": 0, "delta": {"content": "Hi"}}], usage=None),
        chunk(usage={"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37,
                     "prompt_tokens_details": {"cached_tokens": 16},
                     "completion_tokens_details": {"reasoning_tokens": 3}}),
        chunk(moderation={"flagged": False}, usage=None),
        b"[DONE]",
    ))
    assert (u.usage_source, u.verdict, u.provider) == ("reported", "complete", "openai")
    assert tokens(u) == (30, 16, 0, 7, 3, 37)


def test_chat_groq_usage_under_x_groq_only():
    u = usage_of_sse(sse(
        chunk(choices=[{"index": 0, "delta": {"content": "x"}}]),
        chunk(x_groq={"id": "req_1", "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}),
        b"[DONE]",
    ))
    assert u.provider == "groq"
    assert tokens(u) == (12, 0, 0, 5, None, 17)


def test_chat_deepseek_cache_hits():
    u = usage_of_sse(sse(
        chunk(usage={"prompt_tokens": 100, "completion_tokens": 9, "total_tokens": 109,
                     "prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 36}),
        b"[DONE]",
    ))
    assert u.provider == "deepseek"
    assert tokens(u) == (100, 64, 0, 9, None, 109)


def test_chat_total_is_input_plus_output_when_not_reported():
    u = usage_of_sse(sse(chunk(usage={"prompt_tokens": 4, "completion_tokens": 6}), b"[DONE]"))
    assert u.total_tokens == 10


def test_chat_tool_calls_counted_once_per_call():
    u = usage_of_sse(sse(
        chunk(choices=[{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                                                             "function": {"name": "f", "arguments": ""}}]}}]),
        chunk(choices=[{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]),
        chunk(choices=[{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "c2", "type": "function",
                                                             "function": {"name": "g", "arguments": "{}"}}]}}]),
        b"[DONE]",
    ))
    assert u.tool_calls == {"function": 2}
    assert u.usage_source == "missing"
    assert tokens(u) == (None,) * 6


# --- OpenAI Responses -----------------------------------------------------------


def test_responses_without_event_lines_incomplete_with_details():
    u = usage_of_sse(sse(
        {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5", "usage": None}},
        {"type": "response.output_text.delta", "delta": "Hello"},
        {"type": "response.incomplete", "response": {"id": "resp_1", "model": "gpt-5", "usage": {
            "input_tokens": 200, "input_tokens_details": {"cached_tokens": 128},
            "output_tokens": 64, "output_tokens_details": {"reasoning_tokens": 48}, "total_tokens": 264}}},
    ))
    # Cut off, and no incomplete_details to say why.
    assert (u.api, u.response_id, u.model, u.verdict, u.stop_reason) == (
        "openai-responses", "resp_1", "gpt-5", "incomplete", "incomplete")
    assert tokens(u) == (200, 128, 0, 64, 48, 264)


def test_responses_failed_with_usage_is_an_error_with_its_tokens():
    u = usage_of_sse(sse(
        ("response.created", {"type": "response.created", "response": {"id": "r", "model": "m"}}),
        ("response.failed", {"type": "response.failed", "response": {
            "id": "r", "model": "m", "error": {"message": "server error"},
            "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}}}),
    ))
    assert (u.verdict, u.error, u.usage_source) == ("error", "server error", "reported")
    assert tokens(u) == (5, 0, 0, 2, None, 7)


def test_responses_built_in_tool_calls_from_finished_items():
    output = [{"type": "reasoning"}, {"type": "web_search_call"}, {"type": "web_search_call"},
              {"type": "file_search_call"}, {"type": "code_interpreter_call"}, {"type": "function_call"},
              {"type": "message"}]
    done = [("response.output_item.done", {"type": "response.output_item.done", "output_index": i, "item": item})
            for i, item in enumerate(output)]
    completed = ("response.completed", {"type": "response.completed", "response": {
        "id": "r", "output": output, "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}})
    expected = {"code_interpreter": 1, "file_search": 1, "function": 1, "web_search": 2}
    assert usage_of_sse(sse(*done, completed)).tool_calls == expected
    # A stream cut before response.completed still counts the finished items.
    truncated = usage_of_sse(sse(*done))
    assert truncated.tool_calls == expected
    assert (truncated.verdict, truncated.usage_source) == ("truncated", "missing")


# --- Anthropic -------------------------------------------------------------------


def message_start(**usage):
    return ("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "model": "claude-x", "usage": usage}})


def message_delta(**usage):
    return ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage})


STOP = ("message_stop", {"type": "message_stop"})


def test_anthropic_last_value_of_each_field_not_a_sum():
    u = usage_of_sse(sse(
        message_start(input_tokens=10, output_tokens=1),
        message_delta(input_tokens=500, output_tokens=20),
        message_delta(output_tokens=40),
        STOP,
    ))
    assert tokens(u) == (500, 0, 0, 40, None, 540)
    assert (u.model, u.response_id, u.verdict) == ("claude-x", "msg_1", "complete")


def test_anthropic_input_includes_cache_creation_and_read():
    u = usage_of_sse(sse(
        message_start(input_tokens=5, cache_creation_input_tokens=100, cache_read_input_tokens=200, output_tokens=1),
        message_delta(output_tokens=30),
        STOP,
    ))
    assert tokens(u) == (305, 200, 100, 30, None, 335)


def test_anthropic_iterations_are_summed():
    u = usage_of_sse(sse(
        message_start(input_tokens=7, output_tokens=1),
        message_delta(input_tokens=50, output_tokens=9, iterations=[
            {"input_tokens": 7, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 3, "output_tokens": 70},
            {"input_tokens": 50, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 2, "output_tokens": 9}]),
        STOP,
    ))
    assert tokens(u) == (57 + 1000 + 5, 1000, 5, 79, None, 1062 + 79)


def test_anthropic_server_tool_use_counts_tools():
    u = usage_of_sse(sse(
        message_start(input_tokens=1, output_tokens=1),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "server_tool_use", "name": "web_search"}}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "tool_use", "name": "lookup"}}),
        message_delta(output_tokens=3, server_tool_use={"web_search_requests": 3, "web_fetch_requests": 1}),
        STOP,
    ))
    assert u.tool_calls == {"function": 1, "web_fetch": 1, "web_search": 3}


def test_anthropic_error_event_and_cut_stream():
    error = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    u = usage_of_sse(sse(message_start(input_tokens=3, output_tokens=1), error))
    assert (u.verdict, u.error, u.usage_source) == ("error", "Overloaded", "reported")
    cut = usage_of_sse(sse(message_start(input_tokens=3, output_tokens=1), message_delta(output_tokens=2)))
    assert cut.verdict == "truncated"
    assert tokens(cut) == (3, 0, 0, 2, None, 5)


# --- Gemini ----------------------------------------------------------------------


def gemini(text, finish=None, **usage):
    candidate = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": "g1"}


def test_gemini_last_usage_metadata_not_a_sum():
    u = usage_of_sse(sse(
        gemini("a", promptTokenCount=9, candidatesTokenCount=5, totalTokenCount=14),
        gemini("b", promptTokenCount=9, candidatesTokenCount=10, totalTokenCount=19),
        gemini("c", "STOP", promptTokenCount=8, candidatesTokenCount=15, totalTokenCount=23),
    ))
    assert (u.api, u.provider, u.model, u.verdict) == ("gemini", "google", "gemini-2.5-flash", "complete")
    assert tokens(u) == (8, 0, 0, 15, 0, 23)  # no thoughtsTokenCount: proto3's zero


def test_gemini_tool_use_prompt_thoughts_and_cache():
    u = usage_of_sse(sse(gemini("x", "STOP", promptTokenCount=40, toolUsePromptTokenCount=60, cachedContentTokenCount=32,
                                candidatesTokenCount=20, thoughtsTokenCount=80, totalTokenCount=200)))
    assert tokens(u) == (100, 32, 0, 100, 80, 200)


def test_gemini_error_chunk():
    u = usage_of_sse(sse({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}))
    assert (u.verdict, u.error, u.usage_source) == ("error", "The model is overloaded.", "missing")


# --- Streams within records files -------------------------------------------------


def rec(event, data, t=None):
    return format_record(Record(event, data, t=t))


def opened(started, url="https://api.openai.com/v1/responses", resume=False, t=0.0):
    data = {"url": url, "method": "POST", "status": 200, "headers": {}, "request": {"model": "gpt-5"},
            "started": started}
    if resume:
        data["resume"] = True
    return rec("sseq.open", data, t)


def responses_run(rid, inp, out, t0=0.0):
    return (
        rec("response.created", {"type": "response.created", "response": {"id": rid, "model": "gpt-5"}}, t0 + 0.2)
        + rec("response.output_text.delta", {"type": "response.output_text.delta", "delta": "Hi"}, t0 + 0.5)
        + rec("response.output_text.delta", {"type": "response.output_text.delta", "delta": " there"}, t0 + 1.5)
        + rec("response.completed", {"type": "response.completed", "response": {
            "id": rid, "model": "gpt-5", "usage": {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}}},
            t0 + 2.5)
    )


def test_each_open_starts_a_stream_but_a_resume_does_not(tmp_path):
    path = tmp_path / "run.ndjson"
    path.write_bytes(
        opened("2026-11-01T10:00:00.000Z") + responses_run("r1", 10, 20)
        + opened("2026-11-02T10:00:00.000Z")
        + rec("response.created", {"type": "response.created", "response": {"id": "r2", "model": "gpt-5"}}, 0.2)
        + opened("2026-11-02T10:00:05.000Z", resume=True)
        + rec("response.completed", {"type": "response.completed", "response": {
            "id": "r2", "model": "gpt-5", "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}}, 0.9)
    )
    first, second = iter_file_usages(str(path))
    assert (first.stream, first.response_id, first.input_tokens, first.verdict) == (1, "r1", 10, "complete")
    assert (second.stream, second.response_id, second.total_tokens, second.verdict) == (2, "r2", 7, "complete")
    assert first.started == 1793527200.0  # 2026-11-01T10:00:00Z
    assert second.started == first.started + 86400


def test_time_to_first_token_and_rate_from_t(tmp_path):
    path = tmp_path / "timed.ndjson"
    path.write_bytes(opened("2026-11-01T10:00:00.000Z") + responses_run("r1", 10, 20))
    (u,) = iter_file_usages(str(path))
    assert u.ttft_ms == 500.0
    assert u.output_tokens_per_s == 10.0  # 20 tokens from t=0.5 to t=2.5
    untimed = usage_of(sseq.parse_bytes(sse({"type": "response.output_text.delta", "delta": "x"})))
    assert (untimed.ttft_ms, untimed.output_tokens_per_s) == (None, None)


def test_provider_from_the_recorded_url_and_http_error(tmp_path):
    path = tmp_path / "azure.ndjson"
    path.write_bytes(
        opened("2026-11-01T10:00:00.000Z", url="https://example.openai.azure.com/openai/deployments/x/chat/completions")
        + rec("sseq.close", {"reason": "http-error", "events": 0, "bytes": 80, "error": "HTTP 429 Too Many Requests",
                             "status": 429, "body": "{}"}, 0.3)
    )
    (u,) = iter_file_usages(str(path))
    assert (u.provider, u.verdict, u.error, u.usage_source, u.model) == (
        "azure", "error", "HTTP 429 Too Many Requests", "missing", "gpt-5")


def test_records_before_the_first_open_are_a_stream(tmp_path):
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(responses_run("r0", 1, 1) + opened("2026-11-01T10:00:00.000Z") + responses_run("r1", 2, 2))
    assert [u.response_id for u in iter_file_usages(str(path))] == ["r0", "r1"]


def test_digest_is_the_same_for_raw_sse_and_its_records(tmp_path):
    raw = (tmp_path / "a.sse")
    raw.write_bytes(sse(chunk(usage={"prompt_tokens": 1, "completion_tokens": 1}), b"[DONE]"))
    records = tmp_path / "a.ndjson"
    records.write_bytes(b"".join(format_record(r) for r in sseq.read_records(str(raw))))
    (a,) = iter_file_usages(str(raw))
    (b,) = iter_file_usages(str(records))
    assert a.digest == b.digest
    assert a.key == b.key == f"sha256:{a.digest}"  # the ledger's identity is the content


def test_chat_cumulative_usage_on_every_chunk_takes_the_last():
    # vLLM's continuous_usage_stats: a running usage on every chunk.
    u = usage_of_sse(sse(
        chunk(choices=[{"index": 0, "delta": {"content": "a"}}], usage={"prompt_tokens": 9, "completion_tokens": 1,
                                                                        "total_tokens": 10}),
        chunk(choices=[{"index": 0, "delta": {"content": "b"}}], usage={"prompt_tokens": 9, "completion_tokens": 2,
                                                                        "total_tokens": 11}),
        b"[DONE]",
    ))
    assert tokens(u) == (9, 0, 0, 2, None, 11)


def test_an_http_error_status_in_open_is_an_error_verdict(tmp_path):
    path = tmp_path / "err.ndjson"
    path.write_bytes(
        rec("sseq.open", {"url": "https://api.anthropic.com/v1/messages", "status": 529, "started": "2026-11-01T10:00:00Z"}, 0.0)
        + rec("sseq.close", {"reason": "http-error", "events": 0, "bytes": 10, "error": None, "status": 529}, 0.1)
    )
    (u,) = iter_file_usages(str(path))
    assert (u.provider, u.verdict, u.error, u.usage_source) == ("anthropic", "error", "HTTP 529", "missing")
