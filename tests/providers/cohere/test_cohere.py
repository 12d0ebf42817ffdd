"""Cohere Chat v2: text, reasoning, usage, errors and serve's injected error,
from a hand-made recording with the field names of Cohere's API reference."""

from __future__ import annotations

from pathlib import Path

import orjson
from helpers import run_sseq
from helpers.serving import fetch, serving

from sseq.providers import maybe_http_error_message, maybe_provider_of_url

HERE = Path(__file__).parent
RECORDING = HERE / "cohere-chat-v2-tool-then-text.sse"


def usage_rows(*args, input=None):
    result = run_sseq("usage", "--by", "stream", "--format", "ndjson", *args, input=input)
    assert result.returncode == 0, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_text_and_the_tool_plan_as_reasoning():
    assert run_sseq("text", RECORDING).stdout.decode() == "It is 24°C in Toronto.\n"
    assert run_sseq("text", "--reasoning", RECORDING).stdout.decode() == (
        "I will look up the weather in Toronto.\n\nIt is 24°C in Toronto.\n")


def test_usage_is_the_billed_units_of_message_end():
    (row,) = usage_rows(RECORDING)
    assert (row["api"], row["provider"], row["response_id"]) == (
        "cohere", "cohere", "c14c80c3-18eb-4519-9460-6c92edd8cfb4")
    assert (row["usage_source"], row["verdict"]) == ("reported", "complete")
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"]) == (37, 21, 58)
    assert row["tool_calls"] == {"function": 1}


def test_error_after_sends_a_message_end_with_error_and_usage_says_error():
    with serving("--error-after", "3", RECORDING) as server:
        status, _, body, _ = fetch(server, "/", "POST")
    assert status == 200
    assert b"event: message-end\n" in body and b'"finish_reason":"ERROR"' in body
    (row,) = usage_rows("-", input=body)
    assert row["verdict"] == "error" and "error injected after 3 events" in row["error"]


def test_who_served_it_and_what_an_error_body_says():
    assert maybe_provider_of_url("https://api.cohere.com/v2/chat") == "cohere"
    assert maybe_http_error_message('{"id":"4a1e","message":"invalid api token"}') == "invalid api token"
