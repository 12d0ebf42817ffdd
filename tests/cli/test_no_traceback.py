"""Issue 12 #13, class by class (in-process): inputs and options that once
ended in a Python traceback now end in one prefixed line and the status
they deserve, with what was written before them kept."""

from __future__ import annotations

import orjson
import pytest
from helpers import REAL, invoke
from helpers.records import records

CHAT = REAL / "openai-chat-text-usage.sse"


# Waits worked out from a record's t and --speed that no clock can wait.

@pytest.mark.parametrize("speed,t", [("1e-300", 1.0), ("1", 1e300), ("5e-324", 0.5)])
def test_replay_wait_beyond_any_clock_is_bad_input(tmp_path, speed, t):
    path = tmp_path / "timed.ndjson"
    path.write_bytes(b'{"event":"a","t":0.0,"data":"1"}\n' + orjson.dumps({"event": "a", "t": t, "data": "2"}) + b"\n")
    result = invoke("replay", "--speed", speed, path)
    assert result.status == 1
    assert result.stdout == b"event: a\ndata: 1\n\n"  # what came before is kept
    line = result.stderr.decode()
    assert line.startswith(f"sseq replay: error: {path}:2: t = ") and "longer than this machine can wait" in line
    assert line.count("\n") == 1


# Numbers that are not finite where an option needs a number.

@pytest.mark.parametrize("args", [
    ["parse", "--max-event-size", "inf"], ["parse", "--max-event-size", "1e400"], ["parse", "--max-event-size", "nan"],
    ["parse", "--max-event-size", "99999999999G"], ["text", "--max-event-size", "-inf"],
    ["replay", "--speed", "nan"], ["replay", "--speed", "inf"],
    ["fetch", "--idle-timeout", "inf", "http://127.0.0.1:1/"], ["fetch", "--max-time", "nan", "http://127.0.0.1:1/"],
    ["serve", "--keepalive", "inf", str(CHAT)], ["serve", "--speed", "nan", str(CHAT)],
])
def test_non_finite_numbers_are_usage_errors(args):
    result = invoke(*args)
    assert result.status == 2
    assert result.stderr.decode().startswith(f"sseq {args[0]}: error: Invalid value for '{args[1]}'")
    assert result.stderr.count(b"\n") == 1


def test_the_largest_size_is_accepted():
    assert invoke("parse", "--max-event-size", "8589934591G", CHAT).status == 0


# Dates at the calendar's ends: the bound is infinite, nothing overflows.

@pytest.mark.parametrize("args", [
    ["--until", "9999-12-31"], ["--since", "0001-01-01"], ["--until", "99991231"],
    ["--since", "0001-01-01", "--timezone", "Etc/GMT-14"], ["--until", "9999-12-31", "--timezone", "Etc/GMT+12"],
    ["--until", "9999-12-31T23:59:59-23:59"],
])
def test_usage_dates_at_the_calendars_ends_count_everything(args, tmp_path):
    path = tmp_path / "run.ndjson"
    path.write_bytes(b'{"event":"sseq.open","data":{"url":"https://api.openai.com/v1/chat/completions",'
                     b'"started":"2026-12-01T10:00:00Z"}}\n' + invoke("parse", CHAT).stdout)
    result = invoke("usage", "--format", "json", *args, path)
    assert (result.status, result.stderr) == (0, b"")
    assert orjson.loads(result.stdout)["totals"]["streams"] == 1


# Integers beyond 64 bits: what SQLite, orjson and the jq bindings cannot hold.

def _chat_usage(count: int) -> bytes:
    usage = f'{{"prompt_tokens":{count},"completion_tokens":1,"total_tokens":{count}}}'
    return f'data: {{"id":"c1","model":"m","choices":[],"usage":{usage}}}\n\ndata: [DONE]\n\n'.encode()


@pytest.mark.parametrize("count", [2**63, 2**64 + 5, 10**30])
@pytest.mark.parametrize("options", [[], ["--ledger", "{tmp}/ledger.db"], ["--format", "ndjson", "--by", "stream"],
                                     ["--format", "table"], ["--estimate"]])
def test_usage_token_count_beyond_64_bits_is_bad_input(tmp_path, count, options):
    big = tmp_path / "big.sse"
    big.write_bytes(_chat_usage(count))
    args = [o.replace("{tmp}", str(tmp_path)) for o in options]
    result = invoke("usage", *args, big, CHAT)
    assert result.status == 1
    assert result.stderr.decode().startswith(
        f"sseq usage: error: {big}: stream 1: input_tokens is beyond any token count (over 2^63-1)\n")
    assert b"openai" in result.stdout or b"gpt" in result.stdout  # the good file is still counted


def test_largest_64_bit_count_is_still_counted(tmp_path):
    path = tmp_path / "edge.sse"
    path.write_bytes(_chat_usage(2**63 - 1))
    result = invoke("usage", "--format", "json", "--ledger", tmp_path / "l.db", path)
    assert result.status == 0, result.stderr
    assert orjson.loads(result.stdout)["totals"]["input_tokens"] == 2**63 - 1


@pytest.mark.parametrize("n", [2**64 + 5, 10**30, -(2**64)])
def test_filter_jq_on_integers_beyond_64_bits(tmp_path, n):
    path = tmp_path / "n.ndjson"
    path.write_bytes(b'{"event":"a","data":{"n":%d}}\n' % n)
    result = invoke("filter", "--jq", ".data.n", path)
    assert (result.status, result.stderr) == (0, b"")
    assert float(result.stdout) == pytest.approx(float(n))  # jq's numbers are doubles
    kept = invoke("filter", "--where", ".data.n != 0", path)
    assert records(kept.stdout) == [{"event": "a", "data": {"n": n}}]
    whole = invoke("filter", "--jq", ".data", path)
    assert whole.status == 0 and whole.stdout.startswith(b'{"n":')
