"""sseq usage reports: grouping, days, formats, prices, --strict, bad input."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil

import orjson
from helpers import REAL, cut_block_warning, invoke

from sseq.records import Record, format_record


def rec(event, data, t=None):
    return format_record(Record(event, data, t=t))


def stream(started, rid, model, inp, out, cached=0, url="https://api.openai.com/v1/responses"):
    """A fetch-style records stream of the Responses API."""
    return (
        rec("sseq.open", {"url": url, "method": "POST", "status": 200, "headers": {},
                          "request": {"model": model}, "started": started}, 0.0)
        + rec("response.created", {"type": "response.created", "response": {"id": rid, "model": model}}, 0.3)
        + rec("response.output_text.delta", {"type": "response.output_text.delta", "delta": "ok"}, 0.4)
        + rec("response.completed", {"type": "response.completed", "response": {"id": rid, "model": model, "usage": {
            "input_tokens": inp, "input_tokens_details": {"cached_tokens": cached}, "output_tokens": out,
            "total_tokens": inp + out}}}, 0.6)
        + rec("sseq.close", {"reason": "eof", "events": 3, "bytes": 100, "error": None, "status": None}, 0.6)
    )


def make_folder(tmp_path):
    folder = tmp_path / "recordings"
    (folder / "nov").mkdir(parents=True)
    (folder / "nov" / "a.ndjson").write_bytes(
        stream("2026-11-01T09:00:00.000Z", "r1", "gpt-5", 100, 10)
        + stream("2026-11-01T15:00:00.000Z", "r2", "gpt-5-mini", 200, 20))
    (folder / "nov" / "b.ndjson").write_bytes(stream("2026-11-02T09:00:00.000Z", "r3", "gpt-5", 300, 30, cached=256))
    with gzip.open(folder / "c.ndjson.gz", "wb") as f:
        f.write(stream("2026-11-03T23:30:00.000Z", "r4", "gpt-5", 400, 40))
    # A raw SSE capture: its day is its modification time.
    shutil.copy(REAL / "anthropic-messages-text.sse", folder / "capture.sse")
    os.utime(folder / "capture.sse", (1793869200, 1793869200))  # 2026-11-05T09:00:00Z
    (folder / "notes.md").write_text("not a recording, not read\n")
    return folder


def report(*args, input=b""):
    result = invoke("usage", "--format", "json", *args, input=input)
    return result, (orjson.loads(result.stdout) if result.stdout else None)


def test_folder_by_model_and_day(tmp_path):
    folder = make_folder(tmp_path)
    result, out = report("--by", "model", "--by", "day", "--timezone", "UTC", folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    rows = [(r["model"], r["day"], r["streams"], r["input_tokens"], r["cached_input_tokens"], r["output_tokens"],
             r["total_tokens"]) for r in out["rows"]]
    assert rows == [
        ("claude-sonnet-4-5-20250929", "2026-11-05", 1, 17, 0, 10, 27),
        ("gpt-5", "2026-11-01", 1, 100, 0, 10, 110),
        ("gpt-5", "2026-11-02", 1, 300, 256, 30, 330),
        ("gpt-5", "2026-11-03", 1, 400, 0, 40, 440),
        ("gpt-5-mini", "2026-11-01", 1, 200, 0, 20, 220),
    ]
    assert out["by"] == ["model", "day"]
    assert out["timezone"] == "UTC"
    assert out["totals"]["streams"] == 5
    assert out["totals"]["total_tokens"] == 1127


def test_days_are_local_days_in_the_time_zone(tmp_path):
    folder = make_folder(tmp_path)
    _, utc = report("--by", "day", "--timezone", "UTC", folder)
    _, paris = report("--by", "day", "--timezone", "Europe/Paris", folder)
    _, la = report("--by", "day", "--timezone", "America/Los_Angeles", folder)
    assert [r["day"] for r in utc["rows"]] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05"]
    # 2026-11-03T23:30Z is already the 4th in Paris.
    assert [(r["day"], r["streams"]) for r in paris["rows"]] == [
        ("2026-11-01", 2), ("2026-11-02", 1), ("2026-11-04", 1), ("2026-11-05", 1)]
    # In Los Angeles 2026-11-05T09:00Z is 01:00 on the 5th, and 2026-11-03T23:30Z is 15:30 on the 3rd.
    assert [(r["day"], r["streams"]) for r in la["rows"]] == [
        ("2026-11-01", 2), ("2026-11-02", 1), ("2026-11-03", 1), ("2026-11-05", 1)]
    # Midnight UTC on the 5th is still the 4th there.
    os.utime(folder / "capture.sse", (1793836800, 1793836800))
    _, la = report("--by", "day", "--timezone", "America/Los_Angeles", folder)
    assert [r["day"] for r in la["rows"]][-1] == "2026-11-04"


def test_since_and_until(tmp_path):
    folder = make_folder(tmp_path)
    _, out = report("--by", "day", "--timezone", "UTC", "--since", "2026-11-02", "--until", "2026-11-03", folder)
    assert [(r["day"], r["input_tokens"]) for r in out["rows"]] == [("2026-11-02", 300), ("2026-11-03", 400)]
    _, out = report("--by", "day", "--timezone", "UTC", "--since", "2026-11-01T12:00:00Z", "--until",
                    "2026-11-01T23:59:59Z", folder)
    assert [(r["day"], r["input_tokens"]) for r in out["rows"]] == [("2026-11-01", 200)]


def test_csv_ndjson_and_table(tmp_path):
    folder = make_folder(tmp_path)
    result = invoke("usage", "--by", "file", "--format", "csv", folder)
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert [(os.path.basename(r["file"]), r["streams"], r["input_tokens"], r["reported"], r["complete"]) for r in rows] == [
        ("c.ndjson.gz", "1", "400", "1", "1"), ("capture.sse", "1", "17", "1", "1"),
        ("a.ndjson", "2", "300", "2", "2"), ("b.ndjson", "1", "300", "1", "1")]

    result = invoke("usage", "--by", "stream", "--format", "ndjson", folder / "nov" / "a.ndjson")
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(r["stream"], r["response_id"], r["model"], r["ttft_ms"], r["output_tokens_per_s"]) for r in lines] == [
        (1, "r1", "gpt-5", 400.0, 50.0), (2, "r2", "gpt-5-mini", 400.0, 100.0)]
    assert lines[0]["started"] == "2026-11-01T09:00:00.000Z"

    result = invoke("usage", "--by", "day", "--format", "table", "--timezone", "UTC", folder)
    lines = result.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["day", "streams", "input"]
    assert lines[3].startswith("2026-11-02") and lines[3].endswith(" " + "█" * 22)  # 330 of 440 tokens: 22.5 of 30
    assert lines[4].endswith("█" * 30)  # the busiest day, 440 tokens
    assert lines[-1].split()[:3] == ["TOTAL", "5", "1,017"]


def test_default_format_is_json_off_a_terminal():
    result = invoke("usage", REAL / "openai-chat-text-usage.sse")
    assert orjson.loads(result.stdout)["totals"]["total_tokens"] == 113


def test_standard_input_raw_sse():
    data = (REAL / "deepseek-chat-reasoning.sse").read_bytes()
    result = invoke("usage", "--by", "stream", "--format", "ndjson", input=data)
    (row,) = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert (row["file"], row["model"], row["output_tokens"], row["reasoning_tokens"]) == (
        "<stdin>", "deepseek-reasoner", 212, 198)


PRICES = {"currency": "USD", "models": {
    "gpt-5": {"input": 1.25, "cached_input": 0.125, "output": 10},
    "claude-sonnet-4-5": {"input": 3, "cached_input": 0.3, "cache_write": 3.75, "output": 15},
}}


def test_prices_with_an_unpriced_model(tmp_path):
    folder = make_folder(tmp_path)
    prices = tmp_path / "prices.json"
    prices.write_bytes(orjson.dumps(PRICES))
    result, out = report("--by", "model", "--prices", prices, folder)
    assert result.returncode == 0, result.stderr
    rows = {r["model"]: r for r in out["rows"]}
    # gpt-5: (100*1.25 + 10*10) + ((300-256)*1.25 + 256*0.125 + 30*10) + (400*1.25 + 40*10) per million
    assert rows["gpt-5"]["cost"] == (225 + 387 + 900) / 1e6
    # claude-sonnet-4-5-20250929 is priced as claude-sonnet-4-5 (date suffix dropped): 17*3 + 10*15
    assert rows["claude-sonnet-4-5-20250929"]["cost"] == 201 / 1e6
    assert rows["gpt-5-mini"]["cost"] is None
    assert rows["gpt-5-mini"]["unpriced_models"] == ["gpt-5-mini"]
    assert out["unpriced_models"] == ["gpt-5-mini"]
    assert out["totals"]["cost"] == (1512 + 201) / 1e6
    assert out["prices"] == {"file": str(prices), "sha256": hashlib.sha256(prices.read_bytes()).hexdigest(),
                             "format": "sseq", "currency": "USD", "models": 2}

    table = invoke("usage", "--by", "model", "--prices", prices, "--format", "table", folder).stdout.decode()
    mini = next(line for line in table.splitlines() if line.startswith("gpt-5-mini"))
    assert "unpriced" in mini and "$0" not in mini
    assert "unpriced (no price in the table, not counted in cost): gpt-5-mini" in table


def test_litellm_price_table(tmp_path):
    litellm = {
        "sample_spec": {"max_tokens": "LEGACY parameter", "input_cost_per_token": 0, "output_cost_per_token": 0},
        "gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07,
                        "cache_read_input_token_cost": 7.5e-08, "litellm_provider": "openai"},
    }
    prices = tmp_path / "model_prices_and_context_window.json"
    prices.write_bytes(orjson.dumps(litellm))
    result, out = report("--prices", prices, REAL / "openai-chat-text-usage.sse", REAL / "vllm-chat-crusoe.sse")
    assert result.returncode == 0, result.stderr
    rows = {r["model"]: r for r in out["rows"]}
    assert rows["gpt-4o-mini-2024-07-18"]["cost"] == (87 * 0.15 + 26 * 0.6) / 1e6
    assert rows["meta-llama/Llama-3.3-70B-Instruct"]["cost"] is None
    assert out["prices"]["format"] == "litellm"


def test_bad_price_table_is_an_error(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text('{"gpt-5": 3}')
    result = invoke("usage", "--prices", prices, REAL / "openai-chat-text-usage.sse")
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().startswith(f"sseq usage: error: --prices {prices}: neither sseq's format")


def test_strict_exits_1_on_missing_usage_or_truncation():
    files = [REAL / "openai-chat-text-usage.sse", REAL / "azure-chat-content-filter-no-usage.sse",
             REAL / "codex-responses-fixture.sse"]
    relaxed = invoke("usage", *files)
    assert relaxed.returncode == 0
    # Only the codex capture's unfinished last block is said; nothing else.
    assert relaxed.stderr.decode() == cut_block_warning("usage")
    strict = invoke("usage", "--strict", *files)
    assert strict.returncode == 1
    assert orjson.loads(strict.stdout)["totals"]["streams"] == 3  # the report is still printed
    assert strict.stderr.decode() == cut_block_warning("usage") + (
        "sseq usage: --strict: 2 stream(s) missing usage, truncated or incomplete: "
        f"{files[1]} (missing, complete), {files[2]} (missing, truncated)\n")
    ok = invoke("usage", "--strict", files[0])
    assert (ok.returncode, ok.stderr) == (0, b"")


def test_bad_inputs_are_named_and_the_rest_counted(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(REAL / "openai-chat-text-usage.sse", folder / "1-good.sse")
    whole = gzip.compress((REAL / "openai-chat-text-usage.sse").read_bytes())
    (folder / "2-corrupt.sse.gz").write_bytes(whole[: len(whole) // 2])
    good = stream("2026-11-01T09:00:00.000Z", "r1", "gpt-5", 100, 10)
    (folder / "3-badline.ndjson").write_bytes(
        good + b"this is not a record\n" + stream("2026-11-01T10:00:00.000Z", "r2", "gpt-5", 5, 5))
    os.symlink(tmp_path / "gone.sse", folder / "4-dangling.sse")
    shutil.copy(REAL / "anthropic-messages-text.sse", folder / "5-good.sse")
    result = invoke("usage", "--by", "file", "--format", "json", folder, tmp_path / "missing.sse")
    assert result.returncode == 1
    err = result.stderr.decode().splitlines()
    assert err[0].startswith(f"sseq usage: error: {folder / '2-corrupt.sse.gz'}: corrupt or truncated gzip data")
    assert err[1].startswith(f"sseq usage: error: {folder / '3-badline.ndjson'}:6: not JSON")
    assert err[2] == f"sseq usage: error: {folder / '4-dangling.sse'}: no such file"
    assert err[3] == f"sseq usage: error: {tmp_path / 'missing.sse'}: no such file"
    assert len(err) == 4
    out = orjson.loads(result.stdout)
    counted = {os.path.basename(r["file"]): r["total_tokens"] for r in out["rows"]}
    assert counted.pop("2-corrupt.sse.gz", None) is None  # what it held before the damage has no usage
    # The stream before the bad line counts; the one after it is not read.
    assert counted == {"1-good.sse": 113, "3-badline.ndjson": 110, "5-good.sse": 27}


def test_skip_bad_counts_every_stream(tmp_path):
    path = tmp_path / "run.ndjson"
    path.write_bytes(stream("2026-11-01T09:00:00.000Z", "r1", "gpt-5", 100, 10) + b"garbage\n"
                     + stream("2026-11-01T10:00:00.000Z", "r2", "gpt-5", 5, 5))
    result = invoke("usage", "--skip-bad", path)
    assert result.returncode == 0
    assert orjson.loads(result.stdout)["totals"]["total_tokens"] == 120
    assert result.stderr.decode().startswith(f"sseq usage: skipped 1 bad line(s); first: {path}:6: not JSON")


def test_usage_errors_exit_2(tmp_path):
    for args, message in ((("--timezone", "Mars/Olympus"), "--timezone: unknown time zone 'Mars/Olympus'"),
                          (("--since", "yesterday"), "--since: 'yesterday' is not a date")):
        result = invoke("usage", *args, REAL / "openai-chat-text-usage.sse")
        assert result.returncode == 2
        assert result.stdout == b""
        assert message in result.stderr.decode()


def _run_with_terminal_stderr(*args):
    """Run sseq with standard error on a pseudo-terminal; (stdout, what the terminal showed)."""
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sseq", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, cwd=REAL.parent.parent.parent)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read()
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, out, shown.decode()


def test_progress_bar_on_a_terminal_only():
    status, out, shown = _run_with_terminal_stderr("usage", "--format", "json", REAL)
    assert status == 0
    assert orjson.loads(out)["totals"]["streams"] == 30
    assert "sseq usage: [" in shown and "30/30 files" in shown
    assert shown.endswith("\r\x1b[K")  # wiped at the end
    status, out, shown = _run_with_terminal_stderr("usage", "-q", "--format", "json", REAL)
    # -q: neither the bar nor the warning about the codex capture's cut last block.
    assert (status, shown) == (0, "")
    # One file: no bar.
    status, out, shown = _run_with_terminal_stderr("usage", "--format", "json", REAL / "gemini-sse-text.sse")
    assert (status, shown) == (0, "")


def test_start_up_imports_only_what_the_options_need():
    import subprocess
    import sys

    def imported(*args):
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "sseq", "usage", *map(str, args)],
                                capture_output=True, cwd=REAL.parent.parent.parent)
        assert result.returncode == 0
        return {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines() if "|" in line}

    plain = imported(REAL / "gemini-sse-text.sse")
    assert not plain & {"sqlite3", "zoneinfo", "csv", "tiktoken", "statistics", "requests"}
    assert "sqlite3" in imported("--ledger", ":memory:", REAL / "gemini-sse-text.sse")
    assert "zoneinfo" in imported("--timezone", "UTC", REAL / "gemini-sse-text.sse")
    assert "csv" in imported("--format", "csv", REAL / "gemini-sse-text.sse")
