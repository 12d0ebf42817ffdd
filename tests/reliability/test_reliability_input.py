"""Bad input loses nothing: truncated and corrupt gzip, mutated recordings,
arbitrary bytes."""

from __future__ import annotations

import gzip
import random

import orjson
import pytest
from helpers import REAL, REAL_FILES, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sseq.parser import EventStreamParser
from sseq.records import encode_item, parse_record_line

BIG = REAL / "openai-responses-reasoning-summary.sse"


@pytest.mark.parametrize("command", ["parse", "filter", "text"])
def test_truncated_gzip_keeps_what_came_before_the_cut(command, tmp_path):
    packed = gzip.compress(BIG.read_bytes())
    path = tmp_path / "cut.sse.gz"
    path.write_bytes(packed[: len(packed) * 6 // 10])
    result = invoke(command, path)
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"sseq {command}: error: {path}: corrupt or truncated gzip data")
    whole = invoke(command, BIG).stdout
    if command == "text":  # the answer comes last in this stream, after the reasoning
        assert result.stdout and whole.startswith(result.stdout.rstrip(b"\n"))
    else:
        assert len(result.stdout) > len(whole) // 3
        assert whole.startswith(result.stdout.rsplit(b"\n", 1)[0])


def test_concatenated_gzip_members_are_one_input(tmp_path):
    one = gzip.compress((REAL / "anthropic-messages-text.sse").read_bytes())
    path = tmp_path / "two.sse.gz"
    path.write_bytes(one + one)
    result = invoke("parse", path)
    assert result.returncode == 0
    assert result.stdout == invoke("parse", REAL / "anthropic-messages-text.sse").stdout * 2


def test_gzip_is_known_by_its_bytes_not_its_name(tmp_path):
    # A plain file named .gz is read as it is (as `zcat -f` would).
    path = tmp_path / "plain.sse.gz"
    path.write_bytes(b"data: not compressed\n\n")
    result = invoke("parse", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b'{"event":"message","data":"not compressed"}\n'


def _mutate(data: bytes, seed: int, edits: int) -> bytes:
    rng = random.Random(seed)
    buf = bytearray(data)
    for _ in range(edits):
        op = rng.randrange(4)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice([b"\r", b"\n", b"\r\n", b":", b"data:", b"\xef\xbb\xbf", b"\xff", b"\x00", b"{"])
        elif op == 2:
            del buf[pos : pos + rng.randrange(1, 40)]
        else:
            buf[pos:pos] = buf[rng.randrange(len(buf) + 1) :][: rng.randrange(1, 80)]
    return bytes(buf)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL_FILES), st.integers(0, 2**32), st.integers(1, 30), st.integers(1, 4096))
def test_fuzz_mutated_recordings_never_raise(path, seed, edits, chunk):
    """Mutated real recordings, fed in arbitrary chunk sizes: the parser and
    the record codec never raise, and what they write reads back."""
    data = _mutate(path.read_bytes(), seed, edits)
    parser = EventStreamParser()
    items = []
    for i in range(0, len(data), chunk):
        items += parser.feed(data[i : i + chunk])
    items += parser.end()
    for item in items:
        line = encode_item(item, 0.5)
        assert parse_record_line(line.rstrip(b"\n")).event is not None


def test_mutated_recordings_through_every_reading_command(tmp_path):
    for n, path in enumerate(REAL_FILES[:10]):
        data = _mutate(path.read_bytes(), n, 25)
        for command in ("parse", "text", "filter", "replay"):
            result = invoke(command, input=data)
            assert result.returncode == 0, (path.name, command, result.stderr)
            assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["filter", "text", "replay"])
def test_mutated_record_files_fail_cleanly(command, tmp_path):
    records = invoke("parse", BIG).stdout
    lines = records.splitlines(keepends=True)
    lines[40] = lines[40][:25] + b"\n"  # a record cut short
    path = tmp_path / "cut.ndjson"
    path.write_bytes(b"".join(lines))
    result = invoke(command, path)
    assert result.returncode == 1
    assert f"{path}:41: not JSON".encode() in result.stderr
    assert b"Traceback" not in result.stderr
    if command == "filter":
        assert [orjson.loads(x) for x in result.stdout.splitlines()] == [orjson.loads(x) for x in lines[:40]]
