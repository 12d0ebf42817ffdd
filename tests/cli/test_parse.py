"""sseq parse as a user runs it (in-process): raw SSE to records, stdout
and stderr apart, exit statuses."""

from __future__ import annotations

import gzip
import os

from helpers import REAL, invoke
from helpers.records import records

ANTHROPIC = REAL / "anthropic-messages-text.sse"


def test_parse_file_and_stdin_agree():
    from_file = invoke("parse", ANTHROPIC)
    from_stdin = invoke("parse", input=ANTHROPIC.read_bytes())
    assert from_file.status == from_stdin.status == 0
    assert from_file.stderr == from_stdin.stderr == b""
    assert from_file.stdout == from_stdin.stdout
    events = [r["event"] for r in records(from_file.stdout)]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "ping" in events


def test_parse_timestamps_and_all():
    result = invoke("parse", "--timestamps", "--all", REAL / "openrouter-chat-error-chunk.sse")
    recs = records(result.stdout)
    assert all(isinstance(r["t"], float) for r in recs)
    comments = [r for r in recs if r["event"] == "sseq.comment"]
    assert len(comments) == 17 and comments[0]["data"] == " OPENROUTER PROCESSING"
    assert invoke("parse", REAL / "openrouter-chat-error-chunk.sse").stdout.count(b"sseq.comment") == 0


def test_parse_gzip_input(tmp_path):
    path = tmp_path / "capture.sse.gz"
    path.write_bytes(gzip.compress(ANTHROPIC.read_bytes()))
    assert invoke("parse", path).stdout == invoke("parse", ANTHROPIC).stdout


def test_parse_garbage_never_tracebacks():
    garbage = bytes(range(256)) * 50 + b"\r\x00\xef\xbb\xbf\n\n" + os.urandom(4096)
    result = invoke("parse", input=garbage)
    assert result.status == 0
    assert b"Traceback" not in result.stderr


def test_event_over_max_size_is_an_error_after_earlier_records(tmp_path):
    path = tmp_path / "big.sse"
    path.write_bytes(b"data: small\n\ndata: " + b"x" * 5000 + b"\n\n")
    result = invoke("parse", "--max-event-size", "1K", path)
    assert result.status == 1
    assert records(result.stdout) == [{"event": "message", "data": "small"}]
    assert result.stderr.decode().startswith(f"sseq parse: error: {path}:3: event larger than 1024 bytes")


def test_missing_file_and_directory_are_one_clear_line(tmp_path):
    missing = invoke("parse", tmp_path / "nope.sse")
    assert missing.status == 1
    assert missing.stderr.decode() == f"sseq parse: error: {tmp_path / 'nope.sse'}: no such file\n"
    folder = invoke("text", tmp_path)
    assert folder.status == 1
    assert "is a directory" in folder.stderr.decode()


def test_empty_input_is_fine():
    for command in ("parse", "filter", "text", "replay"):
        result = invoke(command, input=b"")
        assert (result.status, result.stdout, result.stderr) == (0, b"", b""), command
