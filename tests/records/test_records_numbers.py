"""Records and numbers: nothing a stream said is lost between raw SSE, the
records sseq writes and the wire bytes it replays -- lone surrogate
escapes, digits past 64 bits, deep nesting, and sseq's own namespace."""

from __future__ import annotations

import orjson
import pytest
from helpers import run_sseq

from sseq import parse_bytes
from sseq.records import parse_record_line


def round_trip(raw: bytes):
    """parse, replay, parse again: (records, wire bytes, records again)."""
    records = run_sseq("parse", "--all", input=raw)
    assert records.returncode == 0, records.stderr
    wire = run_sseq("replay", input=records.stdout)
    assert wire.returncode == 0, wire.stderr
    again = run_sseq("parse", "--all", input=wire.stdout)
    assert again.returncode == 0, again.stderr
    return records.stdout, wire.stdout, again.stdout


@pytest.mark.parametrize("payload", [
    b'{"delta":"A\\ud83d"}',  # lone high surrogate
    b'{"delta":"\\udc00B","n":1}',  # lone low surrogate
    b'["\\ud83d\\ude00","\\ud83d"]',
])
def test_lone_surrogate_escapes_keep_the_payload_json(payload):
    (record,) = parse_bytes(b"data: " + payload + b"\n\n")
    assert type(record.data) in (dict, list)  # not demoted to a string
    records, wire, again = round_trip(b"data: " + payload + b"\n\n")
    assert records == b'{"event":"message","data":' + payload + b"}\n"
    assert wire == b"data: " + payload + b"\n\n"
    assert again == records
    assert type(parse_record_line(records.rstrip(b"\n")).data) in (dict, list)


def test_text_of_a_delta_with_a_lone_surrogate_is_not_lost():
    raw = b'data: {"choices":[{"index":0,"delta":{"content":"Hi \\ud83d there"}}]}\n\ndata: [DONE]\n\n'
    result = run_sseq("text", input=raw)
    assert result.returncode == 0, result.stderr
    assert b"Hi " in result.stdout and b"there" in result.stdout


def test_multi_line_json_keeps_every_digit_through_records_and_replay():
    raw = b'data: {"n":\ndata: 12345678901234567890123,\ndata: "f": 0.1000000000000000055511151231257827}\n\n'
    records, wire, again = round_trip(raw)
    assert b"12345678901234567890123" in records and b"0.1000000000000000055511151231257827" in records
    assert b"12345678901234567890123" in wire
    assert again == records


def test_a_huge_retry_is_written_and_read_back_exactly():
    raw = b"retry: 99999999999999999999999\ndata: x\n\n"
    records, wire, again = round_trip(raw)
    assert b'"retry":99999999999999999999999' in records
    assert b"retry: 99999999999999999999999\n" in wire
    assert again == records


def test_nesting_deeper_than_sseq_reads_is_kept_as_text_and_read_back():
    deep = b"[" * 1100 + b"]" * 1100
    records, wire, again = round_trip(b"data: " + deep + b"\n\n")
    assert orjson.loads(records)["data"] == deep.decode()  # a string, as non-JSON data is
    assert wire == b"data: " + deep + b"\n\n"
    assert again == records


def test_a_record_nested_too_deep_is_a_clear_bad_line():
    line = b'{"event":"message","data":' + b"[" * 1100 + b"]" * 1100 + b"}\n"
    result = run_sseq("replay", input=line)
    assert result.returncode == 1
    assert b"<stdin>:1: nested deeper than sseq reads" in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("kind", [b"sseq.open", b"sseq.close", b"sseq.comment", b"sseq.retry", b"sseq.upstream.x", b"sseq."])
def test_upstream_events_in_the_sseq_namespace_are_escaped_and_restored(kind):
    raw = b"event: " + kind + b'\ndata: {"a":1}\n\nevent: other\ndata: x\n\n'
    records, wire, again = round_trip(raw)
    first = orjson.loads(records.splitlines()[0])
    assert first["event"] == "sseq.upstream." + kind.decode()
    assert wire == raw
    assert again == records


def test_an_upstream_sseq_open_starts_no_phantom_stream():
    raw = (b'data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
           b'event: sseq.open\ndata: {"url":"x"}\n\n'
           b'data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[],'
           b'"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n'
           b"data: [DONE]\n\n")
    result = run_sseq("usage", "--by", "stream", "--format", "ndjson", input=raw)
    assert result.returncode == 0, result.stderr
    (row,) = result.stdout.splitlines()
    assert orjson.loads(row)["input_tokens"] == 3


def test_replay_never_puts_unknown_sseq_records_on_the_wire():
    lines = (b'{"event":"sseq.open","data":{"url":"u"}}\n'
             b'{"event":"sseq.future-kind","data":{"x":1}}\n'
             b'{"event":"sseq.comment","data":" ping"}\n'
             b'{"event":"delta","data":{"a":1}}\n'
             b'{"event":"sseq.close","data":{"reason":"eof"}}\n')
    result = run_sseq("replay", input=lines)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b': ping\n\nevent: delta\ndata: {"a":1}\n\n'
