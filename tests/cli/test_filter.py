"""sseq filter (in-process): by type glob, jq condition and transform,
--until-done and --head; jq's errors."""

from __future__ import annotations

from helpers import REAL, invoke
from helpers.records import records

RESPONSES = REAL / "openai-responses-text.sse"
ANTHROPIC = REAL / "anthropic-messages-text.sse"
OPENROUTER = REAL / "openrouter-responses-no-event-field.sse"


def test_filter_by_type_glob_on_records_and_raw_sse():
    recorded = invoke("parse", RESPONSES).stdout
    for given in (recorded, RESPONSES.read_bytes()):
        result = invoke("filter", "-t", "response.output_text.*", input=given)
        assert result.status == 0, result.stderr
        kinds = [r["event"] for r in records(result.stdout)]
        assert kinds and all(k.startswith("response.output_text.") for k in kinds)


def test_filter_passes_record_lines_through_byte_for_byte():
    recorded = invoke("parse", ANTHROPIC).stdout
    result = invoke("filter", input=recorded)
    assert result.stdout == recorded


def test_filter_matches_data_type_when_event_is_message():
    result = invoke("filter", "-t", "response.completed", OPENROUTER)
    (record,) = records(result.stdout)
    assert record["event"] == "message" and record["data"]["type"] == "response.completed"


def test_filter_exclude_and_head():
    result = invoke("filter", "-x", "ping", "-x", "content_block_*", "--head", "2", ANTHROPIC)
    assert [r["event"] for r in records(result.stdout)] == ["message_start", "message_delta"]


def test_filter_where_and_jq_raw():
    result = invoke("filter", "--where", '.data.delta.type? == "text_delta"', "--jq", ".data.delta.text", "-r", ANTHROPIC)
    assert result.status == 0, result.stderr
    assert result.stdout == b"-\n Captain\n\n- Sc\noop\n"


def test_filter_until_done_stops_at_the_terminal_marker():
    wire = ANTHROPIC.read_bytes() + b"event: after\ndata: {}\n\n"
    result = invoke("filter", "--until-done", input=wire)
    assert records(result.stdout)[-1]["event"] == "message_stop"
    chat = invoke("filter", "--until-done", REAL / "openai-chat-text-usage.sse")
    assert records(chat.stdout)[-1]["data"] == "[DONE]"


def test_invalid_jq_is_a_usage_error_with_jqs_message():
    result = invoke("filter", "--where", ".[", input=b"")
    assert result.status == 2
    assert result.stderr.decode().startswith("sseq filter: error: --where: jq: error: syntax error")


def test_jq_runtime_error_names_the_input_and_fails_at_the_end():
    result = invoke("filter", "--jq", ".data.choices[0].delta.content", "-r", REAL / "openai-chat-text-usage.sse")
    assert result.status == 1
    assert b"jq error at" in result.stderr and b"Cannot index string" in result.stderr
    assert b"Traceback" not in result.stderr
    assert result.stdout.startswith(b"\n")  # the first chunk's empty content
