"""--by week, month, host and label:KEY, and the versioned per-stream row."""

from __future__ import annotations

import csv
import io
import re

import orjson
from helpers import REAL, ROOT, run_sseq
from helpers.usage_streams import chat_events, ndjson_rows, recording

from sseq.usage.schema import STREAM_FIELDS, STREAM_SCHEMA

URL = "https://api.openai.com/v1/chat/completions"


def folder_of_labelled_streams(tmp_path):
    folder = tmp_path / "recs"
    folder.mkdir()
    streams = [  # started (UTC), host, labels, prompt tokens
        ("2026-11-01T10:00:00.000Z", "build-1", {"team": "search"}, 100),   # Sunday: ISO week 44
        ("2026-11-02T10:00:00.000Z", "build-1", {"team": "ads"}, 200),      # Monday: week 45
        ("2026-11-08T23:30:00.000Z", "build-2", {"team": "search"}, 400),   # Sunday night UTC: week 45 in UTC
        ("2026-12-01T09:00:00.000Z", "build-2", {}, 800),                   # December, no team
    ]
    for n, (started, host, labels, prompt) in enumerate(streams):
        (folder / f"s{n}.ndjson").write_bytes(recording(URL, chat_events(f"chatcmpl-{n}", "gpt-4o-mini", prompt, 1),
                                                        started=started, host=host, labels=labels))
    return folder


def grouped(folder, *args):
    result = run_sseq("usage", "--format", "json", *args, folder)
    assert result.returncode == 0, result.stderr
    return [tuple(r[k] for k in r if k not in ("streams",) and not k.endswith(("tokens", "_source", "verdict",
                                                                                 "calls", "ttft_ms", "per_s")))
            + (r["input_tokens"],) for r in orjson.loads(result.stdout)["rows"]]


def test_by_week_and_month_are_local(tmp_path):
    folder = folder_of_labelled_streams(tmp_path)
    assert grouped(folder, "--by", "week", "--timezone", "UTC") == [
        ("2026-W44", 100), ("2026-W45", 600), ("2026-W49", 800)]
    # In Tokyo, Sunday 23:30 UTC is Monday: week 46.
    assert grouped(folder, "--by", "week", "--timezone", "Asia/Tokyo") == [
        ("2026-W44", 100), ("2026-W45", 200), ("2026-W46", 400), ("2026-W49", 800)]
    assert grouped(folder, "--by", "month", "--timezone", "UTC") == [("2026-11", 700), ("2026-12", 800)]


def test_by_host_and_label(tmp_path):
    folder = folder_of_labelled_streams(tmp_path)
    assert grouped(folder, "--by", "host") == [("build-1", 300), ("build-2", 1200)]
    assert grouped(folder, "--by", "label:team") == [("ads", 200), ("search", 500), (None, 800)]
    assert grouped(folder, "--by", "label:team", "--by", "host") == [
        ("ads", "build-1", 200), ("search", "build-1", 100), ("search", "build-2", 400), (None, "build-2", 800)]
    table = run_sseq("usage", "--by", "label:team", "--format", "table", folder).stdout.decode()
    assert table.splitlines()[0].split()[:2] == ["label:team", "streams"]
    bad = run_sseq("usage", "--by", "team", folder)
    assert bad.returncode == 2 and b"--by: 'team' is not one of" in bad.stderr and b"label:KEY" in bad.stderr


def test_the_per_stream_row_is_versioned_and_documented(tmp_path):
    folder = folder_of_labelled_streams(tmp_path)
    rows = ndjson_rows(run_sseq("usage", "--by", "stream", "--format", "ndjson", folder, REAL).stdout)
    names = [name for name, _type in STREAM_FIELDS]
    assert all(list(row) == names and row["schema"] == STREAM_SCHEMA for row in rows)
    assert rows[0]["labels"] == {"team": "search"} and rows[0]["host"] == "build-1"
    kinds = {"string": str, "integer": int, "number": float, "object": dict}
    for row in rows:
        for name, kind in STREAM_FIELDS:
            value = row[name]
            assert (value is None and kind.endswith("?")) or type(value) is kinds[kind.rstrip("?")], (name, value)
    # CSV: the same fields, objects as k=v;k=v.
    text = run_sseq("usage", "--by", "stream", "--format", "csv", folder).stdout.decode()
    (first, *_rest) = list(csv.DictReader(io.StringIO(text)))
    assert list(first) == names and first["labels"] == "team=search" and first["schema"] == STREAM_SCHEMA
    # The man page names and types every field.
    man = (ROOT / "man" / "sseq-usage.1").read_text()
    section = man.split(".SH PER-STREAM ROWS", 1)[1].split("\n.SH ", 1)[0]
    documented = re.findall(r"^\.TP\n\.B (\w+)\n((?:string|integer|number|object)[^\n]*)", section, re.M)
    assert [(name, typ.split(":")[0].replace(" or null", "?")) for name, typ in documented] == [
        (name, kind) for name, kind in STREAM_FIELDS]
    assert STREAM_SCHEMA in section


def test_strict_counts_incomplete_streams(tmp_path):
    import sqlite3

    ledger = tmp_path / "audit.sqlite"
    assert run_sseq("usage", "--ledger", ledger, REAL / "openai-chat-text-usage.sse").returncode == 0
    with sqlite3.connect(ledger) as db:  # as the providers' rules record a stream cut by max_tokens
        db.execute("UPDATE streams SET verdict = 'incomplete', stop_reason = 'length'")
    result = run_sseq("usage", "--ledger", ledger, "--strict", "--format", "table")
    assert result.returncode == 1
    assert result.stderr.decode() == ("sseq usage: --strict: 1 stream(s) missing usage, truncated or incomplete: "
                                      f"{REAL / 'openai-chat-text-usage.sse'} (reported, incomplete)\n")
    assert "1 incomplete" in result.stdout.decode()
    rows = ndjson_rows(run_sseq("usage", "--ledger", ledger, "--by", "stream", "--format", "ndjson").stdout)
    assert (rows[0]["verdict"], rows[0]["stop_reason"]) == ("incomplete", "length")
