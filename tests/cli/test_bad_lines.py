"""A bad line in records (in-process): named by file and line, what came
before it kept, and --skip-bad, for every command that reads records."""

from __future__ import annotations

import pytest
from helpers import REAL, invoke

ANTHROPIC = REAL / "anthropic-messages-text.sse"


@pytest.mark.parametrize("command", ["filter", "text", "replay"])
def test_bad_line_names_file_and_line_and_keeps_what_came_before(command, tmp_path):
    good = invoke("parse", ANTHROPIC).stdout.splitlines(keepends=True)
    path = tmp_path / "run.ndjson"
    path.write_bytes(b"".join(good[:4]) + b'{"event": broken\n' + b"".join(good[4:]))
    result = invoke(command, path)
    assert result.status == 1
    assert result.stderr.decode().startswith(f"sseq {command}: error: {path}:5: not JSON")
    before = invoke(command, input=b"".join(good[:4])).stdout
    assert result.stdout.startswith(before.rstrip(b"\n"))
    skipped = invoke(command, "--skip-bad", path)
    assert skipped.status == 0
    assert skipped.stderr.decode().startswith(f"sseq {command}: skipped 1 bad line(s); first: {path}:5:")
    assert skipped.stdout == invoke(command, input=b"".join(good)).stdout
