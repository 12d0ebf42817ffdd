"""One ledger for a fleet: identity by content, PostgreSQL as SQLite,
writers at once, shards, and -j N equal to -j 1."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time

import orjson
import pytest
from helpers import REAL, REAL_FILES, ROOT, SSEQ, run_sseq
from helpers.usage_streams import chat_events, make_archive, recording

import sseq
from sseq.records import format_record
from sseq.usage.shard import iter_shard_paths, shard_of

CHAT_URL = "https://api.openai.com/v1/chat/completions"


def usage_json(*args):
    result = run_sseq("usage", "--format", "json", *args, timeout=300)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout), result.stderr.decode()


def summary(err: str) -> tuple[int, int, int]:
    """(added, improved, known) from the ledger's line on stderr."""
    words = err.strip().splitlines()[-1].split(": ")[-1].split()
    return int(words[0]), int(words[3]), int(words[5])


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "audit.sqlite")
    return request.getfixturevalue("postgres")


# --- Identity -------------------------------------------------------------------


def test_two_streams_sharing_a_response_id_both_count(tmp_path, ledger):
    (tmp_path / "a.ndjson").write_bytes(recording(CHAT_URL, chat_events("chatcmpl-123", "gpt-4o-mini", 10, 5, "one")))
    (tmp_path / "b.ndjson").write_bytes(recording(CHAT_URL, chat_events("chatcmpl-123", "gpt-4o-mini", 20, 7, "two")))
    out, err = usage_json("--ledger", ledger, tmp_path)
    assert summary(err) == (2, 0, 0)
    assert (out["totals"]["streams"], out["totals"]["input_tokens"], out["totals"]["output_tokens"]) == (2, 30, 12)
    # The same stream again, under another name and read twice in one run: counted once.
    shutil.copy(tmp_path / "a.ndjson", tmp_path / "a-copy.ndjson")
    out, err = usage_json("--ledger", ledger, tmp_path, tmp_path / "a.ndjson")
    assert summary(err) == (0, 0, 4)
    assert out["totals"]["input_tokens"] == 30


def test_a_better_sighting_replaces_a_truncated_one(tmp_path, ledger):
    records = sseq.read_records(str(REAL / "openai-responses-text.sse"))
    partial = tmp_path / "partial.ndjson"
    partial.write_bytes(b"".join(format_record(r) for r in records[:-1]))  # cut before response.completed
    out, err = usage_json("--ledger", ledger, partial)
    assert (out["totals"]["verdict"]["truncated"], out["totals"]["usage_source"]["missing"]) == (1, 1)
    out, err = usage_json("--ledger", ledger, REAL / "openai-responses-text.sse")
    assert summary(err) == (0, 1, 0)
    assert (out["totals"]["streams"], out["totals"]["total_tokens"], out["totals"]["verdict"]["complete"]) == (1, 16, 1)
    out, err = usage_json("--ledger", ledger, partial)  # the worse sighting does not come back
    assert summary(err) == (0, 0, 1)
    assert out["totals"]["total_tokens"] == 16
    # Both in one run, longer first: one stream.
    fresh = tmp_path / "fresh.sqlite"
    out, err = usage_json("--ledger", fresh, REAL / "openai-responses-text.sse", partial)
    assert summary(err) == (1, 0, 1)


def test_an_old_ledger_keyed_by_response_id_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # the version-1 table as sseq 0.1 wrote it
        db.execute("""CREATE TABLE streams (key TEXT PRIMARY KEY, file TEXT NOT NULL, stream INTEGER NOT NULL,
            response_id TEXT, digest TEXT NOT NULL, api TEXT NOT NULL, provider TEXT, model TEXT,
            usage_source TEXT NOT NULL, verdict TEXT NOT NULL, input_tokens INTEGER, cached_input_tokens INTEGER,
            cache_write_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER, total_tokens INTEGER,
            tool_calls TEXT NOT NULL, ttft_ms REAL, output_tokens_per_s REAL, started REAL, error TEXT,
            rank INTEGER NOT NULL, recorded_at REAL NOT NULL)""")
        (u,) = sseq.usage.iter_usages([str(REAL / "openai-chat-text-usage.sse")])
        db.execute("INSERT INTO streams VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'reported', 'complete', 87, 0, 0, 26, 0, 113,"
                   " '{}', NULL, NULL, 1.0, NULL, 8, 1.0)",
                   (f"openai-chat:{u.response_id}", u.file, u.response_id, u.digest, u.api, u.provider, u.model))
    out, err = usage_json("--ledger", path, REAL / "openai-chat-text-usage.sse", REAL / "gemini-sse-text.sse")
    assert summary(err) == (1, 0, 1)
    assert (out["totals"]["streams"], out["totals"]["total_tokens"]) == (2, 113 + 21)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM sseq_meta WHERE name = 'ledger_version'").fetchone() == ("2",)
        assert db.execute("SELECT key FROM streams WHERE response_id = ?", (u.response_id,)).fetchone() == (
            f"sha256:{u.digest}",)


# --- PostgreSQL ------------------------------------------------------------------


def test_postgres_and_sqlite_give_identical_reports(tmp_path, postgres):
    lite = tmp_path / "audit.sqlite"
    for args in (("--by", "provider"), ("--by", "stream", "--format", "ndjson"), ("--by", "model", "--by", "day")):
        a = run_sseq("usage", "--ledger", lite, "--timezone", "UTC", "--format", "json", *args, REAL)
        b = run_sseq("usage", "--ledger", postgres, "--timezone", "UTC", "--format", "json", *args, REAL)
        assert a.returncode == b.returncode == 0, (a.stderr, b.stderr)
        assert a.stdout == b.stdout
    # And from the ledgers alone.
    a = run_sseq("usage", "--ledger", lite, "--by", "stream", "--format", "ndjson")
    b = run_sseq("usage", "--ledger", postgres, "--by", "stream", "--format", "ndjson")
    assert a.stdout == b.stdout and len(a.stdout.splitlines()) == 30


def test_four_writers_at_once_over_overlapping_folders(tmp_path, postgres):
    folders = []
    for n in range(4):  # each folder holds 20 of the 30 recordings, shifted by 3
        folder = tmp_path / f"machine-{n}"
        folder.mkdir()
        for path in (REAL_FILES * 2)[3 * n:3 * n + 20]:
            shutil.copy(path, folder / path.name)
        folders.append(folder)
    runs = [subprocess.Popen(SSEQ + ["usage", "--ledger", postgres, "--format", "json", str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) for folder in folders]
    added = 0
    for run in runs:
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err
        added += summary(err.decode())[0]
    serial, _ = usage_json("--ledger", str(tmp_path / "serial.sqlite"), *folders)
    together, _ = usage_json("--ledger", postgres)
    covered = {p.name for f in folders for p in f.iterdir()}
    assert added == len(covered) == serial["totals"]["streams"]
    assert together["totals"] == serial["totals"]
    assert together["rows"] == serial["rows"]
    # The same folders again add nothing.
    for folder in folders:
        _, err = usage_json("--ledger", postgres, folder)
        assert summary(err) == (0, 0, 20)


def test_three_shards_into_one_postgres_ledger_equal_one_run(tmp_path, postgres):
    archive = tmp_path / "archive"
    make_archive(archive, 90)
    sizes = []
    for index in (1, 2, 3):
        _, err = usage_json("--ledger", postgres, "--shard", f"{index}/3", archive)
        sizes.append(summary(err)[0])
    assert sum(sizes) == 90 and min(sizes) > 0
    whole, _ = usage_json("--by", "day", archive)
    sharded, _ = usage_json("--ledger", postgres, "--by", "day")
    assert sharded["rows"] == whole["rows"] and sharded["totals"] == whole["totals"]


def test_a_postgres_url_that_does_not_answer(tmp_path):
    result = run_sseq("usage", "--ledger", "postgresql://nobody:secret@127.0.0.1:1/none", REAL / "gemini-sse-text.sse")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.startswith("sseq usage: error: --ledger postgresql://nobody:***@127.0.0.1:1/none: ")
    assert "secret" not in err and "Traceback" not in err and len(err.splitlines()) == 1


# --- Shards and processes ----------------------------------------------------------


def test_shards_are_stable_slices_of_relative_paths(tmp_path):
    archive = tmp_path / "a"
    make_archive(archive, 60)
    moved = tmp_path / "elsewhere" / "b"
    shutil.copytree(archive, moved)
    slices = [sorted(str(p.relative_to(archive)) for p in map(type(archive), iter_shard_paths([str(archive)], i, 3)))
              for i in (1, 2, 3)]
    again = [sorted(str(p.relative_to(moved)) for p in map(type(moved), iter_shard_paths([str(moved)], i, 3)))
             for i in (1, 2, 3)]
    assert slices == again  # the same slices wherever the archive lies
    assert sorted(sum(slices, [])) == sorted(str(p.relative_to(archive)) for p in archive.rglob("*.ndjson"))
    assert all(shard_of(name, 3) == i + 1 for i, names in enumerate(slices) for name in names)
    bad = run_sseq("usage", "--shard", "4/3", archive)
    assert bad.returncode == 2 and b"--shard: '4/3' is not I/N" in bad.stderr


@pytest.mark.parametrize("jobs", ["2", "3"])
@pytest.mark.parametrize("by", [("--by", "stream", "--format", "ndjson"), ("--by", "model", "--by", "day")])
def test_jobs_two_equals_jobs_one_on_the_real_recordings(by, jobs):
    one = run_sseq("usage", "-j", "1", *by, REAL)
    two = run_sseq("usage", "--jobs", jobs, *by, REAL)
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert len(one.stdout) > 1000


def test_jobs_two_equals_jobs_one_on_2000_files(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 2000)
    (archive / "2026-11-05" / "broken.ndjson").write_bytes(b'{"event":"message","data":{}}\nnot json\n')
    one = run_sseq("usage", "-j", "1", "--by", "stream", "--format", "ndjson", archive, timeout=300)
    two = run_sseq("usage", "-j", "2", "--by", "stream", "--format", "ndjson", archive, timeout=300)
    assert one.returncode == two.returncode == 1  # the broken file, named on stderr by both
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert len(one.stdout.splitlines()) == 2001
    assert b"broken.ndjson:2" in one.stderr


def test_a_cut_short_stream_of_other_content_is_not_taken_for_a_part(tmp_path, ledger):
    # Two streams share chatcmpl-9; the short one is cut before [DONE] but differs from the first event on.
    whole = chat_events("chatcmpl-9", "gpt-4o-mini", 10, 5, "the whole answer")
    other = chat_events("chatcmpl-9", "gpt-4o-mini", 20, 7, "another answer")[:2]
    (tmp_path / "whole.ndjson").write_bytes(recording(CHAT_URL, whole))
    (tmp_path / "other.ndjson").write_bytes(recording(CHAT_URL, other))
    out, err = usage_json("--ledger", ledger, tmp_path)
    assert summary(err) == (2, 0, 0)
    assert out["totals"]["verdict"]["truncated"] == 1
    # A true part of the whole (its first two events) is already counted.
    (tmp_path / "part.ndjson").write_bytes(recording(CHAT_URL, whole[:2]))
    _, err = usage_json("--ledger", ledger, tmp_path / "part.ndjson")
    assert summary(err) == (0, 0, 1)


def test_postgres_schema_is_created_and_migrated(postgres):
    import psycopg

    out, _ = usage_json("--ledger", postgres, REAL / "gemini-sse-text.sse")
    with psycopg.connect(postgres, autocommit=True) as db:
        assert db.execute("SELECT value FROM sseq_meta WHERE name = 'ledger_version'").fetchone() == ("2",)
        db.execute("ALTER TABLE streams DROP COLUMN labels")  # as a ledger from before labels were kept
    again, err = usage_json("--ledger", postgres, REAL / "gemini-sse-text.sse", REAL / "deepseek-chat-reasoning.sse")
    assert summary(err) == (1, 0, 1)
    assert again["totals"]["streams"] == 2
    rows = [orjson.loads(line) for line in run_sseq("usage", "--ledger", postgres, "--by", "stream", "--format",
                                                     "ndjson").stdout.splitlines()]
    assert [r["labels"] for r in rows] == [{}, {}]


def test_jobs_with_skip_bad_and_estimate_equal_one_process(tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(REAL, folder, ignore=shutil.ignore_patterns("licenses", "*.md"))
    (folder / "zz-bad.ndjson").write_bytes(b'{"event":"message","data":{}}\nnot json\nalso not\n')
    args = ("--skip-bad", "--estimate", "--by", "stream", "--format", "ndjson", folder)
    one = run_sseq("usage", "-j", "1", *args)
    two = run_sseq("usage", "-j", "2", *args)
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert b"skipped 2 bad line(s)" in one.stderr
    assert b'"usage_source":"estimated"' in one.stdout


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found |= {int(child) for child in fh.read().split()}
    return found


def _blocked_run(tmp_path):
    """usage -j 2 whose forked worker is stuck reading a FIFO nobody writes
    (the second input: the worker's), and the pid of that worker."""
    files = make_archive(tmp_path / "archive", 6)
    fifo = tmp_path / "stuck.ndjson"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*SSEQ, "usage", "-j", "2", str(files[0]), str(fifo), *map(str, files[1:])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (workers := _children(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # (the worker reaches the FIFO)
    assert len(workers) == 1
    return proc, workers.pop()


def test_ctrl_c_ends_a_jobs_run_and_its_workers(tmp_path):
    proc, worker = _blocked_run(tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Traceback" not in err
    assert not os.path.exists(f"/proc/{worker}")  # ended and reaped, not left behind


def test_a_killed_worker_is_an_error_not_a_hang(tmp_path):
    proc, worker = _blocked_run(tmp_path)
    os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert b"worker process ended before its files were read" in err and b"Traceback" not in err


def test_a_file_name_that_is_not_utf8_is_reported_and_counted(tmp_path, ledger):
    # A name of bytes that are not UTF-8 is a row like any other, its odd
    # bytes written as escapes, with -j 2 (results cross a pipe as JSON) as
    # with -j 1, and into the ledger.
    files = make_archive(tmp_path / "archive", 40)
    odd = os.fsencode(files[7].parent) + b"/caf\xe9-\xff.ndjson"
    os.rename(files[7], odd)
    one = run_sseq("usage", "-j", "1", "--by", "stream", "--format", "ndjson", tmp_path / "archive")
    two = run_sseq("usage", "-j", "2", "--by", "stream", "--format", "ndjson", tmp_path / "archive")
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == 40
    assert b'caf\\\\xe9-\\\\xff.ndjson"' in one.stdout
    counted = run_sseq("usage", "--ledger", ledger, tmp_path / "archive")
    assert counted.returncode == 0 and b"40 stream(s) added" in counted.stderr
