"""sseq in real pipelines (subprocesses): records leave as soon as they are
complete, a closed downstream pipe ends quietly, a full disk is one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import orjson
import pytest
from helpers import REAL, ROOT, SSEQ

ANTHROPIC = REAL / "anthropic-messages-text.sse"

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


def test_full_disk_is_a_clear_error():
    if not os.path.exists("/dev/full"):
        pytest.fail("/dev/full is missing on this machine")
    result = subprocess.run(
        ["bash", "-c", f"{' '.join(SSEQ)} parse {ANTHROPIC} > /dev/full"], capture_output=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert b"sseq parse: error:" in result.stderr and b"No space left" in result.stderr
