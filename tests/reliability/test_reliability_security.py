"""Security and bounds: hostile strings stay data, memory stays bounded,
nothing evaluates its input as code."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys

import orjson
from helpers import ROOT, invoke

HOSTILE = "x'); DROP TABLE streams; -- $(touch /tmp/sseq-pwned) `id` {{7*7}}"


def test_hostile_model_name_is_stored_and_reported_verbatim(tmp_path):
    wire = (
        'data: {"id":"chatcmpl-1","model":' + orjson.dumps(HOSTILE).decode() + ',"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
        'data: {"id":"chatcmpl-1","model":' + orjson.dumps(HOSTILE).decode() + ',"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n'
        "data: [DONE]\n\n"
    )
    path = tmp_path / "hostile.sse"
    path.write_text(wire)
    ledger = tmp_path / "audit.sqlite"
    for _ in range(2):
        result = invoke("usage", "--ledger", ledger, "--by", "model", "--format", "json", path)
        assert result.returncode == 0, result.stderr
        (row,) = orjson.loads(result.stdout)["rows"]
        assert row["model"] == HOSTILE and row["total_tokens"] == 4
    with sqlite3.connect(ledger) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "streams" in tables
    assert not os.path.exists("/tmp/sseq-pwned")


# Started from a small wrapper rather than from pytest: a child's peak RSS
# counts the process it was forked from until it execs.
_FEED_AND_MEASURE = r"""
import os, sys
r, w = os.pipe()
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
err = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT)
pid = os.fork()
if pid == 0:
    os.dup2(r, 0); os.dup2(out, 1); os.dup2(err, 2)
    os.execv(sys.executable, [sys.executable, "-m", "sseq", "parse", "--max-event-size", "1M"])
os.close(r)
block = b"x" * (1 << 20)
try:
    os.write(w, b"data: ok\n\ndata: ")
    for _ in range(200):
        os.write(w, block)
except BrokenPipeError:
    pass
os.close(w)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def test_oversized_event_keeps_memory_bounded(tmp_path):
    """200 MB of one unterminated data line: refused after the limit, and
    the process never holds the stream."""
    out, err = tmp_path / "out", tmp_path / "err"
    result = subprocess.run([sys.executable, "-c", _FEED_AND_MEASURE, str(out), str(err)],
                            capture_output=True, cwd=ROOT, timeout=120, check=True)
    status, peak_kib = map(int, result.stdout.split())
    assert status == 1
    assert out.read_bytes() == b'{"event":"message","data":"ok"}\n'
    assert b"event larger than 1048576 bytes" in err.read_bytes()
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB"


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "yaml"}


def test_no_module_evaluates_input_as_code():
    problems = []
    for path in sorted((ROOT / "sseq").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in FORBIDDEN_CALLS and not (isinstance(func, ast.Attribute) and name == "compile"):
                    problems.append(f"{where}: {name}()")
                if name == "system" or any(k.arg == "shell" and getattr(k.value, "value", False) for k in node.keywords):
                    problems.append(f"{where}: a shell")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                problems += [f"{where}: imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
    assert problems == []
