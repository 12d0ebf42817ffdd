"""sseq usage --ledger: each stream counted once, across runs and at once."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import orjson
from helpers import REAL, ROOT, SSEQ, cut_block_warning, invoke

import sseq
from sseq.records import Record, format_record


def ledger_report(ledger, *paths):
    result = invoke("usage", "--ledger", ledger, "--by", "provider", "--format", "json", *paths)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout), result.stderr.decode()


def test_same_files_twice_then_a_new_file(tmp_path):
    ledger = tmp_path / "audit.sqlite"
    first, err = ledger_report(ledger, REAL)
    assert err == cut_block_warning("usage") + f"sseq usage: ledger {ledger}: 30 stream(s) added, 0 improved, 0 already counted\n"
    assert (first["totals"]["streams"], first["totals"]["total_tokens"]) == (30, 96961)

    again, err = ledger_report(ledger, REAL)
    assert err == cut_block_warning("usage") + f"sseq usage: ledger {ledger}: 0 stream(s) added, 0 improved, 30 already counted\n"
    assert again["totals"] == first["totals"]
    assert again["rows"] == first["rows"]

    # The same recording under another name is the same stream (same response id).
    copy = tmp_path / "copy-of-text.sse"
    shutil.copy(REAL / "openai-chat-text-usage.sse", copy)
    new = tmp_path / "new.ndjson"
    # A new stream: the Anthropic text recording as records, under a new message id.
    records = sseq.read_records(str(REAL / "anthropic-messages-text.sse"))
    new.write_bytes(
        format_record(Record("sseq.open", {"url": "https://api.anthropic.com/v1/messages", "status": 200,
                                           "started": "2026-11-20T08:00:00.000Z"}, t=0.0))
        + b"".join(format_record(Record(r.event, r.data)).replace(b"msg_017A4s3HAsrqf5d2WvBmrpLr", b"msg_new")
                   for r in records)
    )
    third, err = ledger_report(ledger, REAL, copy, new)
    assert err == cut_block_warning("usage") + f"sseq usage: ledger {ledger}: 1 stream(s) added, 0 improved, 31 already counted\n"
    assert third["totals"]["streams"] == 31
    assert third["totals"]["total_tokens"] == 96961 + 27
    anthropic = next(r for r in third["rows"] if r["provider"] == "anthropic")
    assert (anthropic["streams"], anthropic["input_tokens"]) == (7, 78468 + 17)

    # A report from the ledger alone.
    alone, err = ledger_report(ledger)
    assert err == ""
    assert alone["totals"] == third["totals"]


def test_a_better_sighting_replaces_a_truncated_one(tmp_path):
    ledger = tmp_path / "audit.sqlite"
    records = sseq.read_records(str(REAL / "openai-responses-text.sse"))
    partial = tmp_path / "partial.ndjson"
    partial.write_bytes(b"".join(format_record(r) for r in records[:-1]))  # cut before response.completed
    out, err = ledger_report(ledger, partial)
    assert out["totals"]["usage_source"]["missing"] == 1
    assert out["totals"]["verdict"]["truncated"] == 1
    out, err = ledger_report(ledger, REAL / "openai-responses-text.sse")
    assert err.endswith("0 stream(s) added, 1 improved, 0 already counted\n")
    assert (out["totals"]["streams"], out["totals"]["total_tokens"]) == (1, 16)
    assert out["totals"]["verdict"]["complete"] == 1
    # And the worse sighting does not come back.
    out, err = ledger_report(ledger, partial)
    assert err.endswith("0 stream(s) added, 0 improved, 1 already counted\n")
    assert out["totals"]["total_tokens"] == 16


def test_two_runs_at_once(tmp_path):
    ledger = tmp_path / "audit.sqlite"
    # Two folders that share 20 recordings and each have 5 of their own, run together, several times.
    real = sorted(REAL.glob("*.sse"))
    left, right = tmp_path / "left", tmp_path / "right"
    left.mkdir()
    right.mkdir()
    for path in real[:25]:
        shutil.copy(path, left / path.name)
    for path in real[5:]:
        shutil.copy(path, right / path.name)
    for _round in range(3):
        runs = [subprocess.Popen(SSEQ + ["usage", "--ledger", str(ledger), "--format", "json", str(folder)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
                for folder in (left, right)]
        outputs = [run.communicate(timeout=120) for run in runs]
        for run, (out, err) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, err
            assert b"stream(s) added" in err
            assert orjson.loads(out)["totals"]["streams"] <= 30
    with sqlite3.connect(ledger) as db:
        assert db.execute("SELECT count(*), count(DISTINCT key) FROM streams").fetchone() == (30, 30)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    final, _ = ledger_report(ledger)
    assert (final["totals"]["streams"], final["totals"]["total_tokens"]) == (30, 96961)


def test_ledger_is_not_a_database(tmp_path):
    ledger = tmp_path / "audit.sqlite"
    ledger.write_text("this is not SQLite, it is a text file that happens to be long enough " * 20)
    result = invoke("usage", "--ledger", ledger, REAL / "openai-chat-text-usage.sse")
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().startswith(f"sseq usage: error: --ledger {ledger}: file is not a database")
