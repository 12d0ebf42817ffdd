"""SIGINT and SIGTERM (subprocesses): exit 130, no traceback."""

from __future__ import annotations

import signal
import subprocess

import orjson
from helpers import ROOT, SSEQ


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
