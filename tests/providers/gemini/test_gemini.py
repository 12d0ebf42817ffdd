"""Gemini and Vertex AI: cut-off finish reasons, proto3's absent zeros, the
Vertex traffic type as the service tier, grounding, appended streams."""

from __future__ import annotations

import pytest
from helpers import REAL, sse, stream_rows, text_of


def gemini(text=None, finish=None, rid="r1", **usage):
    candidate: dict = {"index": 0}
    if text is not None:
        candidate["content"] = {"role": "model", "parts": [{"text": text}]}
    if finish:
        candidate["finishReason"] = finish
    chunk = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": rid}
    if usage:
        chunk["usageMetadata"] = usage
    return chunk


@pytest.mark.parametrize("reason", ["MAX_TOKENS", "SAFETY", "RECITATION", "PROHIBITED_CONTENT"])
def test_a_cut_off_finish_reason_is_incomplete(reason):
    (row,) = stream_rows(sse(gemini("Once"), gemini("", reason, promptTokenCount=4, candidatesTokenCount=8)))
    assert (row["verdict"], row["stop_reason"]) == ("incomplete", reason)


def test_stop_is_complete_and_absent_counts_are_zero():
    (row,) = stream_rows(sse(gemini("Hi", "STOP", promptTokenCount=4, candidatesTokenCount=2, totalTokenCount=6)))
    assert (row["verdict"], row["stop_reason"]) == ("complete", "STOP")
    # Proto3 leaves zero counts out: no thoughtsTokenCount is 0 reasoning, not unknown.
    assert (row["cached_input_tokens"], row["reasoning_tokens"], row["output_tokens"]) == (0, 0, 2)


@pytest.mark.parametrize("traffic,tier", [("ON_DEMAND", "standard"), ("ON_DEMAND_FLEX", "flex"),
                                          ("ON_DEMAND_PRIORITY", "priority"), ("PROVISIONED_THROUGHPUT", None)])
def test_the_vertex_traffic_type_is_the_service_tier(traffic, tier):
    (row,) = stream_rows(sse(gemini("Hi", "STOP", promptTokenCount=4, candidatesTokenCount=2, trafficType=traffic)))
    assert row["service_tier"] == tier


def test_the_real_vertex_flex_recording():
    (row,) = stream_rows(None, REAL / "vertex-gemini-sse-flex.sse")
    assert (row["provider"], row["service_tier"], row["reasoning_tokens"]) == ("vertex", "flex", 100)


def test_grounding_searches_count_as_web_search_calls():
    (row,) = stream_rows(None, REAL / "gemini-sse-web-search.sse")
    assert row["tool_calls"] == {"web_search": 1}  # one entry in webSearchQueries


def test_streams_appended_to_one_file_count_apart():
    one = sse(gemini("pong"), gemini("", "STOP", rid="r1", promptTokenCount=3, candidatesTokenCount=1))
    two = sse(gemini("- Captain", rid="r2"), gemini("", "STOP", rid="r2", promptTokenCount=5, candidatesTokenCount=2))
    rows = stream_rows(one + two)
    assert [(r["response_id"], r["input_tokens"]) for r in rows] == [("r1", 3), ("r2", 5)]
    assert text_of(one + two) == "pong\n- Captain\n"
    # The same file twice: new content after the finishReason is a new stream.
    assert len(stream_rows(one + one)) == 2
    # A usage-only chunk after the finishReason belongs to the same stream.
    trailing = sse(gemini("pong"), gemini("", "STOP"), {"usageMetadata": {"promptTokenCount": 3,
                                                                         "candidatesTokenCount": 1},
                                                       "responseId": "r1"})
    (row,) = stream_rows(trailing)
    assert row["input_tokens"] == 3
