"""OpenAI Chat Completions and its relays: refusals, cut-offs, the service
tier, unknown reasoning, and streams appended to one file."""

from __future__ import annotations

import pytest
from helpers import REAL, run_sseq, sse, stream_rows, text_of


def chunk(delta=None, finish=None, cid="chatcmpl-1", **extra):
    choices = [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if delta is not None or finish else []
    return {"id": cid, "object": "chat.completion.chunk", "model": "gpt-4o-mini", "choices": choices, **extra}


USAGE = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}


def test_a_refusal_is_the_answer_text():
    data = sse(chunk({"role": "assistant", "refusal": ""}), chunk({"refusal": "I can't help"}),
               chunk({"refusal": " with that."}), chunk(finish="stop"), "[DONE]")
    assert text_of(data) == "I can't help with that.\n"


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_a_cut_off_finish_reason_is_incomplete_and_strict_counts_it(reason):
    data = sse(chunk({"content": "Once upon"}), chunk(finish=reason), chunk(usage=USAGE), "[DONE]")
    (row,) = stream_rows(data)
    assert (row["verdict"], row["stop_reason"], row["usage_source"]) == ("incomplete", reason, "reported")
    strict = run_sseq("usage", "--strict", "-", input=data)
    assert strict.returncode == 1
    assert strict.stderr.decode() == (
        "sseq usage: --strict: 1 stream(s) missing usage, truncated or incomplete: <stdin> (reported, incomplete)\n")


def test_a_finished_answer_is_complete_with_its_reason():
    (row,) = stream_rows(sse(chunk({"content": "Hi"}), chunk(finish="tool_calls"), chunk(usage=USAGE), "[DONE]"))
    assert (row["verdict"], row["stop_reason"]) == ("complete", "tool_calls")


@pytest.mark.parametrize("tier,expected", [("default", "standard"), ("flex", "flex"), ("priority", "priority"),
                                           ("on_demand", "standard"), (None, None)])
def test_the_service_tier_on_the_chunks(tier, expected):
    extra = {"service_tier": tier} if tier else {}
    (row,) = stream_rows(sse(chunk({"content": "Hi"}, **extra), chunk(finish="stop", **extra),
                             chunk(usage=USAGE, **extra), "[DONE]"))
    assert row["service_tier"] == expected


def test_reasoning_stays_unknown_without_completion_tokens_details():
    (row,) = stream_rows(sse(chunk({"content": "Hi"}), chunk(finish="stop"), chunk(usage=USAGE), "[DONE]"))
    assert (row["output_tokens"], row["reasoning_tokens"]) == (3, None)


def test_streams_appended_after_done_count_apart():
    one = sse(chunk({"content": "pong"}), chunk(finish="stop"), chunk(usage=USAGE), "[DONE]")
    rows = stream_rows(one + one)
    assert [(r["stream"], r["verdict"], r["total_tokens"]) for r in rows] == [(1, "complete", 12), (2, "complete", 12)]
    assert text_of(one + one) == "pong\npong\n"


def test_after_an_error_a_chunk_of_another_completion_starts_a_new_stream():
    failed = sse(chunk({"content": "Captain"}, cid="chatcmpl-a"), ("error", {"error": {"message": "overloaded"}}))
    then = sse(chunk({"content": "Ahoy"}, cid="chatcmpl-b"), chunk(finish="stop", cid="chatcmpl-b"),
               chunk(usage=USAGE, cid="chatcmpl-b"), "[DONE]")
    rows = stream_rows(failed + then)
    assert [(r["verdict"], r["response_id"], r["error"]) for r in rows] == [
        ("error", "chatcmpl-a", "overloaded"), ("complete", "chatcmpl-b", None)]
    # The same completion going on after an error is still one stream (OpenRouter).
    on = sse(chunk({"content": "more"}, cid="chatcmpl-a"), "[DONE]")
    assert len(stream_rows(failed + on)) == 1


def test_real_relays_keep_their_numbers_and_gain_reason_and_tier():
    rows = {r["file"].rsplit("/", 1)[-1]: r for r in stream_rows(None, REAL / "openai-chat-text-usage.sse",
                                                                 REAL / "groq-chat-tool-call.sse")}
    openai, groq = rows["openai-chat-text-usage.sse"], rows["groq-chat-tool-call.sse"]
    assert (openai["verdict"], openai["stop_reason"], openai["service_tier"]) == ("complete", "stop", "standard")
    assert (groq["provider"], groq["stop_reason"], groq["tool_calls"]) == ("groq", "tool_calls", {"function": 1})
