"""Commands said what went wrong, once and where: jq errors in filter,
option values that make no sense, and replay's pacing across streams."""

from __future__ import annotations

import time

import pytest
from helpers import ROOT, run_sseq

CHAT = (b'data: {"choices":[{"delta":{"content":"a"}}]}\n\n'
        b'data: {"choices":[],"usage":{"total_tokens":4}}\n\n'
        b"data: [DONE]\n\n")


def test_jq_errors_name_file_and_line_once_per_distinct_error_with_a_count(tmp_path):
    path = tmp_path / "two.sse"
    path.write_bytes(CHAT + CHAT)
    result = run_sseq("filter", "--where", ".data.usage != null", path)
    assert result.returncode == 1
    # What jq could read is still written.
    assert result.stdout.count(b'"usage"') == 2
    errors = [line for line in result.stderr.decode().splitlines() if "jq error" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"sseq filter: jq error at {path}:6: Cannot index string")
    assert errors[0].endswith(" (2 records)")


def test_jq_error_lines_in_records_are_the_ndjson_lines(tmp_path):
    records = run_sseq("parse", input=CHAT).stdout
    path = tmp_path / "r.ndjson"
    path.write_bytes(b"\n" + records)
    result = run_sseq("filter", "--jq", ".data.choices[0]", path)
    assert f"jq error at {path}:4: Cannot index string".encode() in result.stderr


def test_the_readme_idiom_for_records_whose_data_may_be_a_string():
    assert ".data | objects | .usage" in (ROOT / "README.md").read_text()
    result = run_sseq("filter", "--where", ".data | objects | .usage", input=CHAT)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout == b'{"event":"message","data":{"choices":[],"usage":{"total_tokens":4}}}\n'


@pytest.mark.parametrize("args", [
    ["replay", "--speed", "nan"],
    ["filter", "-r"],
    ["filter", "-r", "--where", "true"],
])
def test_option_values_that_make_no_sense_are_usage_errors(args):
    result = run_sseq(*args, input=b'{"event":"message","data":"x"}\n')
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"Traceback" not in result.stderr


def _stream(duration: float) -> bytes:
    return (b'{"event":"sseq.open","t":0.0,"data":{}}\n'
            b'{"event":"message","t":0.0,"data":"a"}\n'
            + b'{"event":"message","t":%.3f,"data":"b"}\n' % duration)


def _timed_replay(*args, input=None) -> float:
    start = time.monotonic()
    result = run_sseq("replay", "--speed", "1", *args, input=input)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b"data: ") == 4
    return time.monotonic() - start


def test_replay_speed_gives_each_file_its_own_clock(tmp_path):
    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_bytes(_stream(0.6))
    second.write_bytes(_stream(0.6))
    assert _timed_replay(first, second) >= 1.2


def test_replay_speed_gives_each_stream_in_a_file_its_own_clock():
    assert _timed_replay(input=_stream(0.6) + _stream(0.6)) >= 1.2
