"""The sans-IO parser against the WHATWG event-stream rules.

Every case runs whole, one byte at a time, and split at every position:
the output must not depend on how the input was chunked.
"""

from __future__ import annotations

import pytest
from helpers.oracle import parse_chunks, reference_parse, split_at, summarise
from hypothesis import given, settings
from hypothesis import strategies as st

from sseq.parser import EventStreamParser, EventTooLarge


def all_chunkings(data: bytes):
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield [data[:cut], data[cut:]]


def assert_parses(data: bytes, expected):
    for chunks in all_chunkings(data):
        assert parse_chunks(chunks) == expected, f"chunked as {chunks!r}"


def ev(data, type="message", id="", retry=None):
    return ("event", type, data, id, retry)


# (name, input bytes, expected items).  Drawn from the WHATWG HTML standard's
# event-stream interpretation section and its examples.
CASES = [
    ("simple", b"data: hello\n\n", [ev("hello")]),
    ("no space after colon", b"data:hello\n\n", [ev("hello")]),
    ("only one space removed", b"data:  two\n\n", [ev(" two")]),
    ("tab is kept", b"data:\tx\n\n", [ev("\tx")]),
    ("multi line data", b"data: a\ndata: b\n\n", [ev("a\nb")]),
    ("spec example 1", b"data: YHOO\ndata: +2\ndata: 10\n\n", [ev("YHOO\n+2\n10")]),
    ("empty data field", b"data\n\n", [ev("")]),
    ("empty data with colon", b"data:\n\n", [ev("")]),
    ("two empty data lines", b"data\ndata\n\n", [ev("\n")]),
    ("data trailing blank data", b"data: a\ndata\n\n", [ev("a\n")]),
    ("no data no event", b"event: x\n\n", []),
    ("event type", b"event: add\ndata: 73857293\n\n", [ev("73857293", "add")]),
    ("empty event type is message", b"event:\ndata: x\n\n", [ev("x")]),
    ("event type resets per block", b"event: a\ndata: 1\n\ndata: 2\n\n", [ev("1", "a"), ev("2")]),
    ("event type reset by blank even without data", b"event: a\n\ndata: 2\n\n", [ev("2")]),
    ("event field without colon", b"event\ndata: x\n\n", [ev("x")]),
    ("last event type wins", b"event: a\nevent: b\ndata: x\n\n", [ev("x", "b")]),
    ("event type keeps spaces", b"event:  spaced \ndata: x\n\n", [ev("x", " spaced ")]),
    ("id", b"id: 1\ndata: a\n\n", [ev("a", id="1")]),
    ("id persists", b"id: 1\ndata: a\n\ndata: b\n\n", [ev("a", id="1"), ev("b", id="1")]),
    ("empty id resets", b"id: 1\ndata: a\n\nid\ndata: b\n\n", [ev("a", id="1"), ev("b")]),
    ("empty id with colon resets", b"id: 1\ndata: a\n\nid:\ndata: b\n\n", [ev("a", id="1"), ev("b")]),
    ("id with NUL ignored", b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", [ev("a", id="1"), ev("b", id="1")]),
    ("id-only block sets buffer", b"id: 7\n\ndata: b\n\n", [ev("b", id="7")]),
    ("id after data in block", b"data: a\nid: 9\n\n", [ev("a", id="9")]),
    ("id in incomplete block still set", b"id: 5\n", []),
    ("id keeps inner spaces", b"id:  x y\ndata: a\n\n", [ev("a", id=" x y")]),
    ("retry valid", b"retry: 1000\ndata: a\n\n", [ev("a", retry=1000)]),
    ("retry only block", b"retry: 1000\n\n", [("retry", 1000, "")]),
    ("retry non digits ignored", b"retry: 10a\ndata: a\n\n", [ev("a")]),
    ("retry negative ignored", b"retry: -1\ndata: a\n\n", [ev("a")]),
    ("retry with space inside ignored", b"retry: 1 0\ndata: a\n\n", [ev("a")]),
    ("retry empty ignored", b"retry:\ndata: a\n\n", [ev("a")]),
    ("retry float ignored", b"retry: 1.5\ndata: a\n\n", [ev("a")]),
    ("retry non-ascii digits ignored", "retry: \u0661\u0662\ndata: a\n\n".encode(), [ev("a")]),
    ("retry two spaces ignored", b"retry:  100\ndata: a\n\n", [ev("a")]),
    ("retry zero", b"retry: 0\ndata: a\n\n", [ev("a", retry=0)]),
    ("retry big", b"retry: 99999999999999999999\n\n", [("retry", 99999999999999999999, "")]),
    ("last retry wins", b"retry: 1\nretry: 2\ndata: a\n\n", [ev("a", retry=2)]),
    ("comment", b": hello\n\n", [("comment", " hello")]),
    ("comment no space", b":ping\n", [("comment", "ping")]),
    ("empty comment", b":\n", [("comment", "")]),
    ("comment inside block", b"data: a\n: c\ndata: b\n\n", [("comment", " c"), ev("a\nb")]),
    ("unknown field ignored", b"foo: bar\ndata: a\n\n", [ev("a")]),
    ("unknown field alone dispatches nothing", b"foo: bar\n\n", []),
    ("field names are case sensitive", b"Data: a\nDATA: b\n\n", []),
    ("field name with space", b"data : a\n\n", []),
    ("colon in value", b"data: a:b\n\n", [ev("a:b")]),
    ("value is the rest of line", b"data:: x\n\n", [ev(": x")]),
    ("crlf", b"data: a\r\n\r\n", [ev("a")]),
    ("cr", b"data: a\r\rdata: b\r\r", [ev("a"), ev("b")]),
    ("mixed endings", b"data: a\r\ndata: b\ndata: c\r\r\n", [ev("a\nb\nc")]),
    ("cr then lf are two endings when apart", b"data: a\r\r\n", [ev("a")]),
    ("lf cr is two line ends", b"data: a\n\rdata: b\n\n", [ev("a"), ev("b")]),
    ("incomplete final block discarded", b"data: a\n\ndata: b\n", [ev("a")]),
    ("unterminated final line discarded", b"data: a\n\ndata: b", [ev("a")]),
    ("final cr counts as line end", b"data: a\r\r", [ev("a")]),
    ("no trailing blank line at eof", b"data: a", []),
    ("bom stripped", b"\xef\xbb\xbfdata: a\n\n", [ev("a")]),
    ("only one bom stripped", b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", [ev("b")]),
    ("bom in the middle is data", b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [ev("a")]),
    ("bom inside value kept", b"data: \xef\xbb\xbfx\n\n", [ev("\ufeffx")]),
    ("partial bom is not a bom", b"\xef\xbbdata: a\n\ndata: b\n\n", [ev("b")]),
    ("invalid utf8 replaced", b"data: \xff\xfe\n\n", [ev("\ufffd\ufffd")]),
    ("truncated utf8 replaced", b"data: \xe2\x82\n\n", [ev("\ufffd")]),
    ("utf8 multibyte", "data: caf\u00e9 \u2603 \U0001f600\n\n".encode(), [ev("caf\u00e9 \u2603 \U0001f600")]),
    ("invalid utf8 in event type", b"event: \xff\ndata: a\n\n", [ev("a", "\ufffd")]),
    ("NUL in data kept", b"data: a\x00b\n\n", [ev("a\x00b")]),
    ("many blank lines", b"\n\n\n\ndata: a\n\n\n\n", [ev("a")]),
    ("leading space line is a field named empty", b" data: a\n\n", []),
    ("data then empty event", b"data: a\nevent\n\n", [ev("a")]),
    ("spec example comment+data", b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
     [("comment", " test stream"), ev("first event", id="1"), ev("second event"), ev(" third event")]),
    ("spec example two events", b"data\n\ndata\ndata\n\ndata:", [ev(""), ev("\n")]),
    ("spec example space", b"data:test\n\ndata: test\n\n", [ev("test"), ev("test")]),
    ("event named message", b"event: message\ndata: a\n\n", [ev("a")]),
    ("json payload untouched", b'data: {"a": 1}\n\n', [ev('{"a": 1}')]),
    ("retry and id only block", b"id: 3\nretry: 5\n\ndata: x\n\n", [("retry", 5, "3"), ev("x", id="3")]),
    ("done marker", b"data: [DONE]\n\n", [ev("[DONE]")]),
]


@pytest.mark.parametrize("name,data,expected", CASES, ids=[c[0] for c in CASES])
def test_case_in_every_chunking(name, data, expected):
    assert_parses(data, expected)


def test_event_carries_dispatching_line_number():
    parser = EventStreamParser()
    items = parser.feed(b"data: a\n\n: c\ndata: b\n\n") + parser.end()
    assert [i.line for i in items] == [2, 3, 5]


def test_last_event_id_visible_for_reconnecting_clients():
    parser = EventStreamParser()
    parser.feed(b"id: 41\ndata: a\n\nid: 42\n")
    assert parser.last_event_id == "42"


def test_event_over_limit_is_loud_and_keeps_earlier_events():
    parser = EventStreamParser(max_event_size=10)
    with pytest.raises(EventTooLarge) as info:
        parser.feed(b"data: ok\n\ndata: 0123456789abcdef\n\n")
    assert summarise(info.value.items) == [ev("ok")]
    assert info.value.line == 3


def test_event_over_limit_on_one_unterminated_line():
    parser = EventStreamParser(max_event_size=100)
    parser.feed(b"data: ")
    with pytest.raises(EventTooLarge):
        for _ in range(100):
            parser.feed(b"x" * 10)


def test_event_at_the_limit_is_accepted():
    parser = EventStreamParser(max_event_size=11)
    assert summarise(parser.feed(b"data: 0123456789\n\n")) == [ev("0123456789")]


def test_large_event_in_small_chunks_is_linear():
    # 8 MB in 1 KB pieces: quadratic joining would take minutes.
    parser = EventStreamParser()
    parser.feed(b"data: ")
    piece = b"x" * 1024
    for _ in range(8192):
        assert parser.feed(piece) == []
    (event,) = parser.feed(b"\n\n")
    assert len(event.data_bytes) == 8 * 1024 * 1024


def test_feed_after_end_is_a_programming_error():
    parser = EventStreamParser()
    parser.end()
    with pytest.raises(RuntimeError):
        parser.feed(b"data: a\n\n")


sse_alphabet = st.sampled_from(
    [b"data", b"event", b"id", b"retry", b":", b" ", b"\n", b"\r", b"\r\n", b"x", b"1", b"\xef\xbb\xbf", b"\xff", b"\x00", b"\xc3", b"\xa9"]
)
sse_bytes = st.lists(sse_alphabet, max_size=60).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(sse_bytes, st.lists(st.integers(min_value=0, max_value=80), max_size=8))
def test_property_matches_reference_in_any_chunking(data, cuts):
    assert parse_chunks(split_at(data, cuts)) == reference_parse(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=17))
def test_property_never_raises_on_arbitrary_bytes(data, size):
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert parse_chunks(chunks) == reference_parse(data)


block_alphabet = st.sampled_from(
    [b"event: a\n", b"event:b\r\n", b"event: \n", b"data: {\"x\":1}\n", b"data:y\r\n", b"data\n", b"id: 7\n",
     b"id\r\n", b"retry: 5\n", b": c\n", b"\n", b"\r\n", b"\r", b"data: z", b"\xef\xbb\xbf", b"x\r", b"data: \xe2\x82"]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(block_alphabet, max_size=40).map(b"".join), st.lists(st.integers(min_value=0, max_value=300), max_size=6))
def test_property_whole_blocks_match_reference_in_any_chunking(data, cuts):
    """Whole lines and blocks, the shapes the fast path takes, mixed with
    CRLF, lone CRs and pending state."""
    assert parse_chunks(split_at(data, cuts)) == reference_parse(data)
