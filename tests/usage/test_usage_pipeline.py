"""sseq usage on what sseq fetch records: a real server on 127.0.0.1, a
dropped connection resumed (a resume sseq.open continues the stream), two
fetches appended into one records file."""

from __future__ import annotations

import re
import subprocess

import orjson
from helpers import REAL, ROOT, SSEQ, invoke


def test_fetch_records_with_resumes_are_counted_per_request(tmp_path):
    server = subprocess.Popen(SSEQ + ["serve", "--port", "0", "--drop-after", "4", "--ids", str(REAL / "openai-responses-text.sse")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        url = None
        while url is None:
            line = server.stderr.readline().decode()
            assert line, "serve ended before listening"
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else None
        run = tmp_path / "run.ndjson"
        for _ in range(2):
            fetched = invoke("fetch", url, "--retry", "3", "--json", "-d", '{"model": "gpt-5.5", "input": "ping"}')
            assert fetched.returncode == 0, fetched.stderr
            with run.open("ab") as f:
                f.write(fetched.stdout)
    finally:
        server.terminate()
        server.wait(timeout=10)
    opens = [orjson.loads(line)["data"] for line in run.read_bytes().splitlines() if b'"sseq.open"' in line]
    assert sum(1 for o in opens if o.get("resume")) >= 2  # each fetch reconnected at least once

    result = invoke("usage", "--by", "stream", "--format", "ndjson", "--strict", run)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(r["stream"], r["model"], r["usage_source"], r["verdict"], r["input_tokens"], r["output_tokens"],
             r["total_tokens"]) for r in rows] == [
        (1, "gpt-5.5-2026-04-23", "reported", "complete", 11, 5, 16),
        (2, "gpt-5.5-2026-04-23", "reported", "complete", 11, 5, 16)]
    for row in rows:
        assert row["ttft_ms"] is not None and row["ttft_ms"] > 0
        assert row["started"] is not None and row["started"].endswith("Z")
    assert rows[0]["response_id"] == rows[1]["response_id"]  # the same recording served twice...
    # ...so a ledger counts it once.
    ledger = invoke("usage", "--ledger", tmp_path / "audit.sqlite", "--format", "json", run)
    assert orjson.loads(ledger.stdout)["totals"]["streams"] == 1
    assert b"1 stream(s) added, 0 improved, 1 already counted" in ledger.stderr


def test_fetch_labels_and_host_group_the_report(tmp_path):
    import socket

    server = subprocess.Popen(SSEQ + ["serve", "--port", "0", str(REAL / "openai-chat-text-usage.sse")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        url = None
        while url is None:
            line = server.stderr.readline().decode()
            assert line, "serve ended before listening"
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else None
        for n, team in enumerate(("search", "ads", "search")):
            fetched = invoke("fetch", url, "--label", f"team={team}", "--label", "job=nightly", "--json",
                             "-d", '{"model": "gpt-4o-mini"}')
            assert fetched.returncode == 0, fetched.stderr
            (tmp_path / f"run-{n}.ndjson").write_bytes(fetched.stdout)
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = invoke("usage", "--by", "label:team", "--by", "host", "--format", "json", tmp_path)
    assert result.returncode == 0, result.stderr
    rows = orjson.loads(result.stdout)["rows"]
    host = socket.gethostname()
    assert [(r["label:team"], r["host"], r["streams"], r["total_tokens"]) for r in rows] == [
        ("ads", host, 1, 113), ("search", host, 2, 226)]
