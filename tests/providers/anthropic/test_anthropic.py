"""Anthropic Messages: text blocks set apart by tool blocks, cut-offs,
1-hour cache writes, the service tier, server tools, appended streams."""

from __future__ import annotations

import pytest
from helpers import REAL, run_sseq, sse, stream_rows, text_of


def start(mid="msg_1", **usage):
    usage = {"input_tokens": 10, "output_tokens": 1, **usage}
    return ("message_start", {"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "usage": usage}})


def block(index, kind, **extra):
    return ("content_block_start", {"type": "content_block_start", "index": index,
                                    "content_block": {"type": kind, **extra}})


def text(index, piece):
    return ("content_block_delta", {"type": "content_block_delta", "index": index,
                                    "delta": {"type": "text_delta", "text": piece}})


def end(stop_reason="end_turn", **usage):
    return [("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                               "usage": {"output_tokens": 20, **usage}}),
            ("message_stop", {"type": "message_stop"})]


def test_text_blocks_apart_from_tool_blocks_start_a_line_cited_runs_do_not():
    data = sse(start(), block(0, "text", text=""), text(0, "Let me search."),
               block(1, "server_tool_use", id="srvtoolu_1", name="web_search", input={}),
               block(2, "web_search_tool_result", tool_use_id="srvtoolu_1", content=[]),
               block(3, "text", text=""), text(3, "It is sunny"),
               block(4, "text", text="", citations=[]), text(4, " in Paris"),
               block(5, "text", text=""), text(5, " today."), *end())
    assert text_of(data) == "Let me search.\nIt is sunny in Paris today.\n"
    out = run_sseq("text", REAL / "anthropic-messages-web-search.sse").stdout.decode()
    assert "information.Based on" not in out and "information.\nBased on" in out


@pytest.mark.parametrize("reason", ["max_tokens", "refusal", "model_context_window_exceeded"])
def test_a_cut_off_stop_reason_is_incomplete(reason):
    (row,) = stream_rows(sse(start(), block(0, "text", text=""), text(0, "Once"), *end(reason)))
    assert (row["verdict"], row["stop_reason"], row["output_tokens"]) == ("incomplete", reason, 20)


@pytest.mark.parametrize("reason", ["end_turn", "tool_use", "stop_sequence", "pause_turn"])
def test_a_finished_stop_reason_is_complete(reason):
    (row,) = stream_rows(sse(start(), block(0, "text", text=""), text(0, "Done"), *end(reason)))
    assert (row["verdict"], row["stop_reason"]) == ("complete", reason)


def test_one_hour_cache_writes_and_the_service_tier():
    data = sse(start(cache_creation_input_tokens=12000, cache_read_input_tokens=0, service_tier="priority",
                     cache_creation={"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 10000}),
               block(0, "text", text=""), text(0, "ok"), *end())
    (row,) = stream_rows(data)
    assert (row["input_tokens"], row["cache_write_tokens"], row["cache_write_1h_tokens"]) == (12010, 12000, 10000)
    assert row["service_tier"] == "priority"
    # No cache_creation object: the split by TTL is unknown.
    (row,) = stream_rows(sse(start(cache_creation_input_tokens=500), *end()))
    assert (row["cache_write_tokens"], row["cache_write_1h_tokens"], row["service_tier"]) == (500, None, None)


def test_one_hour_cache_writes_add_up_over_iterations():
    iterations = [{"input_tokens": 5, "output_tokens": 7, "cache_creation_input_tokens": 300,
                   "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200}},
                  {"input_tokens": 3, "output_tokens": 9, "cache_creation_input_tokens": 50,
                   "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 50}}]
    (row,) = stream_rows(sse(start(), *end(iterations=iterations)))
    assert (row["cache_write_tokens"], row["cache_write_1h_tokens"], row["output_tokens"]) == (350, 250, 16)


def test_server_tool_use_counts_the_billed_searches():
    (row,) = stream_rows(None, REAL / "anthropic-messages-web-search.sse")
    assert row["tool_calls"] == {"web_search": 2}
    assert (row["verdict"], row["stop_reason"], row["service_tier"]) == ("complete", "end_turn", "standard")


def test_streams_appended_to_one_file_count_apart():
    one, two = REAL / "anthropic-messages-text.sse", REAL / "anthropic-messages-tool-use.sse"
    rows = stream_rows(one.read_bytes() + two.read_bytes())
    assert [(r["stream"], r["response_id"]) for r in rows] == [
        (1, stream_rows(None, one)[0]["response_id"]), (2, stream_rows(None, two)[0]["response_id"])]
    # An error ends a stream too: the next message_start is another one.
    failed = sse(start("msg_a"), ("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                        "message": "Overloaded"}}))
    rows = stream_rows(failed + sse(start("msg_b"), *end()))
    assert [(r["response_id"], r["verdict"]) for r in rows] == [("msg_a", "error"), ("msg_b", "complete")]
