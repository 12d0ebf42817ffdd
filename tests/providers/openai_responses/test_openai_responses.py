"""OpenAI Responses: text that was never streamed as deltas, summary parts
on lines of their own, cut-offs, the service tier, server tools, and
streams appended to one file."""

from __future__ import annotations

import pytest
from helpers import REAL, run_sseq, sse, stream_rows, text_of

import sseq

CREATED = ("response.created", {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}})


def completed(output=(), **response):
    return ("response.completed", {"type": "response.completed", "response": {
        "id": "resp_1", "model": "gpt-5", "output": list(output), **response}})


MESSAGE = {"type": "message", "id": "msg_1", "role": "assistant",
           "content": [{"type": "output_text", "text": "Hello there.", "annotations": []}]}
DONE_ONLY = {
    "output_text.done": [("response.output_text.done", {"type": "response.output_text.done", "item_id": "msg_1",
                                                        "output_index": 0, "content_index": 0,
                                                        "text": "Hello there."})],
    "content_part.done": [("response.content_part.done", {"type": "response.content_part.done", "item_id": "msg_1",
                                                          "output_index": 0, "content_index": 0,
                                                          "part": MESSAGE["content"][0]})],
    "output_item.done": [("response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                                        "item": MESSAGE})],
    "completed only": [],
}


@pytest.mark.parametrize("where", sorted(DONE_ONLY))
def test_text_not_streamed_as_deltas_is_taken_from_the_finished_events(where):
    data = sse(CREATED, *DONE_ONLY[where], completed([MESSAGE]))
    assert text_of(data) == "Hello there.\n"


def test_every_finished_event_together_still_says_the_text_once():
    data = sse(CREATED, *DONE_ONLY["output_text.done"], *DONE_ONLY["content_part.done"],
               *DONE_ONLY["output_item.done"], completed([MESSAGE]))
    assert text_of(data) == "Hello there.\n"


def test_streamed_deltas_are_not_repeated_by_the_finished_events():
    data = sse(CREATED, ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_1",
                                                        "output_index": 0, "content_index": 0, "delta": "Hello"}),
               ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_1",
                                               "output_index": 0, "content_index": 0, "delta": " there."}),
               *DONE_ONLY["output_text.done"], *DONE_ONLY["output_item.done"], completed([MESSAGE]))
    assert text_of(data) == "Hello there.\n"
    # Real streams, deltas and finished events alike: each text once.
    real = REAL / "openai-responses-web-search-cached.sse"
    deltas = [r.data["delta"] for r in sseq.read_records(str(real)) if r.type == "response.output_text.delta"]
    assert run_sseq("text", real).stdout.decode() == "".join(deltas) + "\n"
    assert run_sseq("text", REAL / "openrouter-responses-no-event-field.sse", "--reasoning").stdout.decode() == (
        'The user asks: "What is 2+2?" They expect a straightforward answer: 4. Just answer 4.\n\n4\n')


def test_the_codex_fixture_prints_its_answer():
    assert run_sseq("text", REAL / "codex-responses-fixture.sse").stdout == b"fixture hello\n"


def test_each_reasoning_summary_part_starts_a_line():
    out = run_sseq("text", "--reasoning", REAL / "openai-responses-reasoning-summary.sse").stdout.decode()
    titles = [line for line in out.splitlines() if line.startswith("**")]
    assert len(titles) == 4  # four summary parts, each opening with its bold title
    assert "crossing the street.**" not in out


@pytest.mark.parametrize("reason", ["max_output_tokens", "content_filter"])
def test_response_incomplete_is_incomplete_with_its_reason(reason):
    data = sse(CREATED, ("response.incomplete", {"type": "response.incomplete", "response": {
        "id": "resp_1", "model": "gpt-5", "status": "incomplete", "incomplete_details": {"reason": reason},
        "usage": {"input_tokens": 5, "output_tokens": 16, "total_tokens": 21}}}))
    (row,) = stream_rows(data)
    assert (row["verdict"], row["stop_reason"], row["output_tokens"]) == ("incomplete", reason, 16)


def test_the_real_incomplete_recording():
    (row,) = stream_rows(None, REAL / "openai-responses-incomplete.sse")
    assert (row["verdict"], row["stop_reason"]) == ("incomplete", "max_output_tokens")


@pytest.mark.parametrize("tier,expected", [("default", "standard"), ("flex", "flex"), ("priority", "priority"),
                                           ("scale", None)])
def test_the_service_tier_of_the_response(tier, expected):
    usage = {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}
    (row,) = stream_rows(sse(CREATED, completed(service_tier=tier, usage=usage)))
    assert (row["verdict"], row["service_tier"]) == ("complete", expected)


def test_web_search_calls_are_counted_as_server_tool_calls():
    (row,) = stream_rows(None, REAL / "openai-responses-web-search-cached.sse")
    assert row["tool_calls"] == {"web_search": 1}


def test_streams_appended_to_one_file_count_apart():
    text, call = REAL / "openai-responses-text.sse", REAL / "openai-responses-function-call.sse"
    both = text.read_bytes() + call.read_bytes()
    rows = stream_rows(both)
    apart = stream_rows(None, text, call)
    fields = ("response_id", "verdict", "input_tokens", "output_tokens", "tool_calls")
    assert [[r[f] for f in fields] for r in rows] == [[r[f] for f in fields] for r in apart]
    assert len(rows) == 2
