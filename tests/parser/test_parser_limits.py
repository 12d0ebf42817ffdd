"""The size limit and the end of input: the same answer in any chunking,
comments outside the event, and an unfinished final block said aloud."""

from __future__ import annotations

import pytest
from helpers import REAL, run_sseq
from helpers.oracle import split_at
from hypothesis import given, settings
from hypothesis import strategies as st

from sseq.parser import Event, EventStreamParser, EventTooLarge

pieces = st.sampled_from([
    b": " + b"c" * 300 + b"\n",
    b"data: " + b"d" * 100 + b"\n",
    b"data: ok\n",
    b"event: " + b"e" * 120 + b"\n",
    b"id: " + b"i" * 50 + b"\n",
    b"retry: 10\n",
    b"x" * 90 + b"\n",
    b"\n",
    b"\r\n",
])
streams = st.lists(pieces, max_size=12).map(b"".join)


def outcome(chunks, limit, keep_comments=True):
    """Every item returned, and the line of the size error (None if none)."""
    parser = EventStreamParser(limit, keep_comments=keep_comments)
    items = []
    try:
        for chunk in chunks:
            items += parser.feed(chunk)
        items += parser.end()
    except EventTooLarge as exc:
        return items + exc.items, exc.line
    return items, None


@settings(max_examples=500, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
       st.integers(min_value=1, max_value=400), st.booleans())
def test_the_limit_gives_the_same_answer_in_any_chunking(data, cuts, limit, keep_comments):
    assert outcome(split_at(data, cuts), limit, keep_comments) == outcome([data], limit, keep_comments)


@pytest.mark.parametrize("cut", [1, 500, 2000, 3001, 3005])
def test_a_long_comment_does_not_count_toward_the_event(cut):
    data = b":" + b"c" * 3000 + b"\ndata: ok\n\n"
    items, error = outcome(split_at(data, [cut]), 1024, keep_comments=False)
    assert error is None
    assert items == [Event("message", b"ok", "", None, 3)]


def test_comment_then_event_near_the_limit_from_a_file_and_a_pipe(tmp_path):
    data = b":" + b"c" * 3000 + b"\ndata: ok\n\n"
    path = tmp_path / "c.sse"
    path.write_bytes(data)
    from_file = run_sseq("parse", "--max-event-size", "1K", path)
    from_pipe = run_sseq("parse", "--max-event-size", "1K", input=data)
    assert from_file.returncode == from_pipe.returncode == 0
    assert from_file.stdout == from_pipe.stdout == b'{"event":"message","data":"ok"}\n'


def test_data_past_the_limit_fails_the_same_from_a_file_and_a_pipe(tmp_path):
    data = b"data: first\n\n" + b"data: " + b"d" * 2000 + b"\n\n"
    path = tmp_path / "d.sse"
    path.write_bytes(data)
    for result in (run_sseq("parse", "--max-event-size", "1K", path),
                   run_sseq("parse", "--max-event-size", "1K", input=data)):
        assert result.returncode == 1
        assert result.stdout == b'{"event":"message","data":"first"}\n'
        assert b":3: event larger than 1024 bytes" in result.stderr


def test_end_says_whether_the_input_stopped_inside_a_block():
    for data, unfinished in [(b"data: a\n\n", False), (b"data: a\n", True), (b"data: a", True),
                             (b"retry: 5\n", True), (b": ping", False), (b"id: 1\n", False), (b"", False)]:
        parser = EventStreamParser()
        parser.feed(data)
        parser.end()
        assert parser.ended_in_block is unfinished, data


def test_dispatch_at_eof_reads_the_unfinished_block():
    parser = EventStreamParser()
    assert parser.feed(b"data: a\n\nevent: last\ndata: b") == [Event("message", b"a", "", None, 2)]
    assert parser.end(dispatch_incomplete=True) == [Event("last", b"b", "", None, 5)]  # (the blank line it lacked)


CODEX = REAL / "codex-responses-fixture.sse"


def test_parse_warns_of_the_discarded_block_and_dispatch_at_eof_keeps_it():
    strict = run_sseq("parse", CODEX)
    assert strict.returncode == 0
    assert b"ended inside an unfinished event block" in strict.stderr
    assert b"response.completed" not in strict.stdout
    lenient = run_sseq("parse", "--dispatch-at-eof", CODEX)
    assert lenient.returncode == 0 and lenient.stderr == b""
    assert lenient.stdout.startswith(strict.stdout)
    assert lenient.stdout[len(strict.stdout):].startswith(b'{"event":"response.completed"')
