"""The reading layer, for every command that reads: a BOM before records,
gzip known by its bytes, input that yields nothing said aloud, lines that
span many reads, and memory bounded by --max-event-size."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import time

import pytest
from helpers import REAL, SSEQ, run_sseq

from sseq.inputs import Source, iter_record_batches

SSE = REAL / "openai-chat-text-usage.sse"
BOM = b"\xef\xbb\xbf"

# Every command that reads records or raw SSE, with arguments that make its
# output depend on what it read.
READERS = [
    ("filter", "-x", "nothing"),
    ("replay",),
    ("text",),
    ("usage", "--format", "json"),
]


@pytest.fixture(scope="module")
def records():
    result = run_sseq("parse", "--all", SSE)
    assert result.returncode == 0
    return result.stdout


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_records_after_a_bom_read_as_records_from_files_and_pipes(command, records, tmp_path):
    expected = run_sseq(*command, input=records)
    assert expected.returncode == 0 and expected.stdout
    plain = tmp_path / "plain.ndjson"
    plain.write_bytes(records)
    with_bom = tmp_path / "bom.ndjson"
    with_bom.write_bytes(BOM + records)
    assert run_sseq(*command, with_bom).stdout == expected.stdout
    assert run_sseq(*command, input=BOM + records).stdout == expected.stdout
    # The same file concatenated after another (cat a.ndjson b.ndjson).
    both = run_sseq(*command, plain, with_bom) if command[0] != "usage" else None
    if both is not None:
        assert both.returncode == 0, both.stderr
        assert both.stdout == run_sseq(*command, plain, plain).stdout


def test_a_bom_arriving_a_byte_at_a_time_through_a_pipe(records):
    proc = subprocess.Popen(SSEQ + ["replay"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for byte in BOM:
        proc.stdin.write(bytes([byte]))
        proc.stdin.flush()
        time.sleep(0.05)
    out, err = proc.communicate(records, timeout=60)
    assert proc.returncode == 0, err
    assert out == run_sseq("replay", input=records).stdout


@pytest.mark.parametrize("command", [("parse",), *READERS], ids=lambda c: c[0])
def test_gzip_is_known_by_its_magic_bytes_from_any_name_and_stdin(command, records, tmp_path):
    data = records if command[0] == "replay" else SSE.read_bytes()
    expected = run_sseq(*command, input=data)
    assert expected.returncode == 0 and expected.stdout
    packed = gzip.compress(data)
    named = tmp_path / "capture.txt"  # no .gz in the name
    named.write_bytes(packed)
    assert run_sseq(*command, named).stdout == expected.stdout
    assert run_sseq(*command, input=packed).stdout == expected.stdout


@pytest.mark.parametrize("command", [("parse",), *READERS], ids=lambda c: c[0])
@pytest.mark.parametrize("data", [b"hello world\n", b": keep-alive\n\n: again\n\n", b"<html>Bad gateway</html>"],
                         ids=["text", "comments-only", "html"])
def test_input_that_yields_nothing_is_said_not_passed_over(command, data, tmp_path):
    path = tmp_path / "odd.sse"
    path.write_bytes(data)
    result = run_sseq(*command, path)
    assert f"sseq {command[0]}: {path}: no events or records in this input".encode() in result.stderr


@pytest.mark.parametrize("command", [("parse",), *READERS], ids=lambda c: c[0])
def test_blank_and_eventful_inputs_get_no_such_warning(command, records):
    for data in (b"", b"\n \n", records if command[0] == "replay" else SSE.read_bytes()):
        assert b"no events" not in run_sseq(*command, input=data).stderr


def test_usage_strict_fails_on_an_input_that_yields_nothing(tmp_path):
    path = tmp_path / "odd.sse"
    path.write_bytes(b"<html>Bad gateway</html>\n")
    result = run_sseq("usage", "--strict", path)
    assert result.returncode == 1
    assert b"no events or records" in result.stderr


class _Trickle(io.RawIOBase):
    """A pipe that hands over a few bytes per read."""

    def __init__(self, data: bytes, size: int):
        self.data, self.pos, self.size = data, 0, size

    def readable(self):
        return True

    def read1(self, n=-1):
        piece = self.data[self.pos : self.pos + self.size]
        self.pos += len(piece)
        return piece

    read = read1


@pytest.mark.timeout(120)
def test_a_record_line_over_many_reads_costs_linear_time():
    # 4 MB in 64-byte reads: 65,000 reads.  Re-joining the line on every read
    # would copy about 130 GB and never finish; pieces joined once take a blink.
    line = b'{"event":"message","data":"' + b"x" * 4_000_000 + b'"}\n'
    source = Source("<pipe>", _Trickle(line, 64))
    (record,) = [r for batch in iter_record_batches(source) for r in batch]
    assert len(record.data) == 4_000_000


def _peak_rss_mb(args, path) -> float:
    proc = subprocess.Popen(SSEQ + args + [str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.stderr.read()
    return usage.ru_maxrss / 1024


@pytest.mark.timeout(200)
def test_memory_for_one_event_of_millions_of_lines_is_a_small_multiple_of_it(tmp_path):
    small = tmp_path / "small.sse"
    small.write_bytes(b"data: xy\n\n")
    many = tmp_path / "many.sse"
    lines = 4_000_000  # 12 MB of data in one event
    many.write_bytes(b"data: xy\n" * lines + b"\n")
    base = _peak_rss_mb(["parse"], small)
    peak = _peak_rss_mb(["parse", "--max-event-size", "16M"], many)
    assert peak - base < 6 * 12, (base, peak)
