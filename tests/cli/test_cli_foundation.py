"""parse, filter, text and replay as a user runs them: real subprocesses,
stdout and stderr apart, exit statuses."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
from helpers import REAL, ROOT, SSEQ, run_sseq

RESPONSES = REAL / "openai-responses-text.sse"
ANTHROPIC = REAL / "anthropic-messages-text.sse"
OPENROUTER = REAL / "openrouter-responses-no-event-field.sse"


def records_of(stdout: bytes) -> list[dict]:
    return [orjson.loads(line) for line in stdout.splitlines()]


# -- parse ---------------------------------------------------------------


def test_parse_file_and_stdin_agree():
    from_file = run_sseq("parse", ANTHROPIC)
    from_stdin = run_sseq("parse", input=ANTHROPIC.read_bytes())
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_file.stderr == from_stdin.stderr == b""
    assert from_file.stdout == from_stdin.stdout
    events = [r["event"] for r in records_of(from_file.stdout)]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "ping" in events


def test_parse_timestamps_and_all():
    result = run_sseq("parse", "--timestamps", "--all", REAL / "openrouter-chat-error-chunk.sse")
    records = records_of(result.stdout)
    assert all(isinstance(r["t"], float) for r in records)
    comments = [r for r in records if r["event"] == "sseq.comment"]
    assert len(comments) == 17 and comments[0]["data"] == " OPENROUTER PROCESSING"
    assert run_sseq("parse", REAL / "openrouter-chat-error-chunk.sse").stdout.count(b"sseq.comment") == 0


def test_parse_gzip_input(tmp_path):
    path = tmp_path / "capture.sse.gz"
    path.write_bytes(gzip.compress(ANTHROPIC.read_bytes()))
    assert run_sseq("parse", path).stdout == run_sseq("parse", ANTHROPIC).stdout


def test_parse_garbage_never_tracebacks():
    garbage = bytes(range(256)) * 50 + b"\r\x00\xef\xbb\xbf\n\n" + os.urandom(4096)
    result = run_sseq("parse", input=garbage)
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr


def test_event_over_max_size_is_an_error_after_earlier_records(tmp_path):
    path = tmp_path / "big.sse"
    path.write_bytes(b"data: small\n\ndata: " + b"x" * 5000 + b"\n\n")
    result = run_sseq("parse", "--max-event-size", "1K", path)
    assert result.returncode == 1
    assert records_of(result.stdout) == [{"event": "message", "data": "small"}]
    assert result.stderr.decode().startswith(f"sseq parse: error: {path}:3: event larger than 1024 bytes")


def test_missing_file_and_directory_are_one_clear_line(tmp_path):
    missing = run_sseq("parse", tmp_path / "nope.sse")
    assert missing.returncode == 1
    assert missing.stderr.decode() == f"sseq parse: error: {tmp_path / 'nope.sse'}: no such file\n"
    folder = run_sseq("text", tmp_path)
    assert folder.returncode == 1
    assert "is a directory" in folder.stderr.decode()


def test_bad_option_is_a_usage_error():
    result = run_sseq("parse", "--no-such-option")
    assert result.returncode == 2
    assert b"No such option" in result.stderr
    assert result.stdout == b""


def test_empty_input_is_fine():
    for command in ("parse", "filter", "text", "replay"):
        result = run_sseq(command, input=b"")
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", b""), command


# -- filter --------------------------------------------------------------


def test_filter_by_type_glob_on_records_and_raw_sse():
    records = run_sseq("parse", RESPONSES).stdout
    for given in (records, RESPONSES.read_bytes()):
        result = run_sseq("filter", "-t", "response.output_text.*", input=given)
        assert result.returncode == 0, result.stderr
        kinds = [r["event"] for r in records_of(result.stdout)]
        assert kinds and all(k.startswith("response.output_text.") for k in kinds)


def test_filter_passes_record_lines_through_byte_for_byte():
    records = run_sseq("parse", ANTHROPIC).stdout
    result = run_sseq("filter", input=records)
    assert result.stdout == records


def test_filter_matches_data_type_when_event_is_message():
    result = run_sseq("filter", "-t", "response.completed", OPENROUTER)
    (record,) = records_of(result.stdout)
    assert record["event"] == "message" and record["data"]["type"] == "response.completed"


def test_filter_exclude_and_head():
    result = run_sseq("filter", "-x", "ping", "-x", "content_block_*", "--head", "2", ANTHROPIC)
    assert [r["event"] for r in records_of(result.stdout)] == ["message_start", "message_delta"]


def test_filter_where_and_jq_raw():
    result = run_sseq("filter", "--where", '.data.delta.type? == "text_delta"', "--jq", ".data.delta.text", "-r", ANTHROPIC)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"-\n Captain\n\n- Sc\noop\n"


def test_filter_until_done_stops_at_the_terminal_marker():
    wire = ANTHROPIC.read_bytes() + b"event: after\ndata: {}\n\n"
    result = run_sseq("filter", "--until-done", input=wire)
    assert records_of(result.stdout)[-1]["event"] == "message_stop"
    chat = run_sseq("filter", "--until-done", REAL / "openai-chat-text-usage.sse")
    assert records_of(chat.stdout)[-1]["data"] == "[DONE]"


def test_invalid_jq_is_a_usage_error_with_jqs_message():
    result = run_sseq("filter", "--where", ".[", input=b"")
    assert result.returncode == 2
    assert result.stderr.decode().startswith("sseq filter: error: --where: jq: error: syntax error")


def test_jq_runtime_error_names_the_input_and_fails_at_the_end():
    result = run_sseq("filter", "--jq", ".data.choices[0].delta.content", "-r", REAL / "openai-chat-text-usage.sse")
    assert result.returncode == 1
    assert b"jq error at" in result.stderr and b"Cannot index string" in result.stderr
    assert b"Traceback" not in result.stderr
    assert result.stdout.startswith(b"\n")  # the first chunk's empty content


@pytest.mark.parametrize("command", ["filter", "text", "replay"])
def test_bad_line_names_file_and_line_and_keeps_what_came_before(command, tmp_path):
    good = run_sseq("parse", ANTHROPIC).stdout.splitlines(keepends=True)
    path = tmp_path / "run.ndjson"
    path.write_bytes(b"".join(good[:4]) + b'{"event": broken\n' + b"".join(good[4:]))
    result = run_sseq(command, path)
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"sseq {command}: error: {path}:5: not JSON")
    before = run_sseq(command, input=b"".join(good[:4])).stdout
    assert result.stdout.startswith(before.rstrip(b"\n"))
    skipped = run_sseq(command, "--skip-bad", path)
    assert skipped.returncode == 0
    assert skipped.stderr.decode().startswith(f"sseq {command}: skipped 1 bad line(s); first: {path}:5:")
    assert skipped.stdout == run_sseq(command, input=b"".join(good)).stdout


# -- text ----------------------------------------------------------------

TEXT_CASES = {
    "openai-responses-text.sse": "pong\n",
    "anthropic-messages-text.sse": "- Captain\n- Scoop\n",
    "gemini-sse-text.sse": "The capital of France is Paris.\n",
    "openai-chat-tool-calls-usage.sse": "",
    "openrouter-responses-no-event-field.sse": "4\n",
    "deepseek-chat-reasoning.sse": "Hello there! 😊 How can I help you today?\n",
}


@pytest.mark.parametrize("name,expected", TEXT_CASES.items())
def test_text_per_provider(name, expected):
    result = run_sseq("text", REAL / name)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout.decode() == expected


def test_text_reasoning_comes_first_and_is_set_apart():
    plain = run_sseq("text", REAL / "anthropic-messages-thinking.sse").stdout.decode()
    with_reasoning = run_sseq("text", "--reasoning", REAL / "anthropic-messages-thinking.sse").stdout.decode()
    assert with_reasoning.startswith("This is a straightforward question about pedestrian safety.")
    assert with_reasoning.endswith("\n\n" + plain)


def test_text_of_every_real_recording_is_clean(real_recording):
    result = run_sseq("text", "--reasoning", real_recording)
    assert result.returncode == 0
    if real_recording.stem == "codex-responses-fixture":  # it ends inside a block, which is said
        assert result.stderr.decode().count("unfinished event block") == 1
    else:
        assert result.stderr == b""


# -- replay --------------------------------------------------------------


def test_replay_then_parse_gives_the_same_records(real_recording):
    records = run_sseq("parse", "--all", real_recording).stdout
    wire = run_sseq("replay", input=records).stdout
    assert run_sseq("parse", "--all", input=wire).stdout == records


def test_replay_speed_follows_t(tmp_path):
    path = tmp_path / "paced.ndjson"
    path.write_bytes(b'{"event":"a","t":0.0,"data":"1"}\n{"event":"a","t":3.0,"data":"2"}\n')
    start = time.monotonic()
    fast = run_sseq("replay", "--speed", "0", path)
    fast_time = time.monotonic() - start
    start = time.monotonic()
    paced = run_sseq("replay", "--speed", "2", path)
    paced_time = time.monotonic() - start
    assert paced.stdout == fast.stdout == b"event: a\ndata: 1\n\nevent: a\ndata: 2\n\n"
    # 3 s of recording at twice the speed: 1.5 s more than as fast as possible
    # (with room for a slow start under load, and none for ignoring t).
    assert 1.2 < paced_time - fast_time < 4


# -- pipelines -----------------------------------------------------------

WRITER = r"""
import sys, time
out = sys.stdout.buffer
out.write(b'event: first\ndata: {"n": 1}\n\n'); out.flush()
time.sleep(float(sys.argv[1]))
out.write(b'event: second\ndata: {"n": 2}\n\n'); out.flush()
"""


def test_live_pipeline_delivers_the_first_record_before_the_second_is_written():
    pause = 3.0
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(pause)], stdout=subprocess.PIPE)
    parse = subprocess.Popen(SSEQ + ["parse"], stdin=writer.stdout, stdout=subprocess.PIPE, cwd=ROOT)
    filt = subprocess.Popen(SSEQ + ["filter", "-x", "nothing"], stdin=parse.stdout, stdout=subprocess.PIPE, cwd=ROOT)
    writer.stdout.close()
    parse.stdout.close()
    start = time.monotonic()
    first = filt.stdout.readline()
    arrived = time.monotonic() - start
    assert orjson.loads(first) == {"event": "first", "data": {"n": 1}}
    assert arrived < pause - 0.5, f"first record took {arrived:.2f}s"
    rest = filt.stdout.read()
    assert orjson.loads(rest) == {"event": "second", "data": {"n": 2}}
    for proc in (writer, parse, filt):
        assert proc.wait(timeout=10) == 0


def test_closed_downstream_pipe_ends_quietly(tmp_path):
    big = tmp_path / "big.sse"
    big.write_bytes(ANTHROPIC.read_bytes() * 2000)
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {' '.join(SSEQ)} parse {big} | head -1"],
        capture_output=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 0
    assert result.stderr == b""
    assert orjson.loads(result.stdout)["event"] == "message_start"


def test_sigint_exits_130_without_traceback():
    proc = subprocess.Popen(SSEQ + ["parse"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdin.write(b"data: one\n\n")
    proc.stdin.flush()
    assert orjson.loads(proc.stdout.readline()) == {"event": "message", "data": "one"}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    assert b"Traceback" not in proc.stderr.read()
    proc.stdin.close()


def test_sigterm_exits_130_without_traceback():
    proc = subprocess.Popen(SSEQ + ["text"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdin.write(b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n')
    proc.stdin.flush()
    assert proc.stdout.read(2) == b"hi"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 130
    assert b"Traceback" not in proc.stderr.read()
    proc.stdin.close()


def test_full_disk_is_a_clear_error():
    if not os.path.exists("/dev/full"):
        pytest.fail("/dev/full is missing on this machine")
    result = subprocess.run(
        ["bash", "-c", f"{' '.join(SSEQ)} parse {ANTHROPIC} > /dev/full"], capture_output=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert b"sseq parse: error:" in result.stderr and b"No space left" in result.stderr
