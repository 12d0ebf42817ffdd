"""The parser's fast path (whole common blocks scanned at once) against the
standard's reference transcription, with inputs built from whole blocks,
LF, CRLF and lone CR line ends, split anywhere; and the bytes ``sseq parse``
writes for them."""

from __future__ import annotations

import orjson
import pytest
from helpers.oracle import parse_chunks, reference_parse
from hypothesis import given, settings
from hypothesis import strategies as st

from sseq.parser import Event, EventStreamParser, EventTooLarge
from sseq.records import encode_items, format_record, record_from_item

pieces = st.sampled_from(
    [
        b"event: delta\ndata: {\"a\":1}\n\n",
        b"event: delta\r\ndata: {\"a\":1}\r\n\r\n",
        b"data: [DONE]\n\n",
        b"data:{\"b\":[1,2]}\r\n\r\n",
        b"event:\ndata: x\n\n",
        b"event:  two\ndata:  y\n\n",
        b"data: {\"c\":\n\n",
        b"id: 7\n",
        b"retry: 10\n",
        b": ping\n",
        b"event: a\n",
        b"data: z\n",
        b"\n",
        b"\r\n",
        b"\r",
        b"\xef\xbb\xbf",
        b"\xff",
    ]
)
streams = st.lists(pieces, max_size=30).map(b"".join)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted(set(c for c in cuts if 0 < c < len(data)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@settings(max_examples=400, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=600), max_size=6))
def test_fast_path_matches_reference_in_any_chunking(data, cuts):
    assert parse_chunks(split(data, cuts)) == reference_parse(data)


def parse_general(chunks, **kw):
    """The standard's line-by-line rules alone (the block scanner off)."""
    parser = EventStreamParser(fast=False, **kw)
    items = []
    for chunk in chunks:
        items += parser.feed(chunk)
    return items + parser.end()


def parse_fast(chunks, **kw):
    parser = EventStreamParser(**kw)
    items = []
    for chunk in chunks:
        items += parser.feed(chunk)
    return items + parser.end()


@settings(max_examples=400, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=600), max_size=6), st.sampled_from([4, 8, 9, 20, 64, 1 << 20]))
def test_fast_path_equals_general_path_items_lines_and_limit(data, cuts, limit):
    # Same items (types, data, ids, retries, line numbers), and the same
    # size error at the same line with the same items before it.
    def run(parse):
        try:
            return parse(split(data, cuts), max_event_size=limit), None
        except EventTooLarge as exc:
            return exc.items, exc.line

    assert run(parse_fast) == run(parse_general)


@settings(max_examples=200, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=600), max_size=6))
def test_parse_writes_the_same_bytes_in_any_chunking(data, cuts):
    # What sseq parse does (compact events, encode_items) against Records.
    whole = EventStreamParser()
    expected = b"".join(format_record(record_from_item(i)) for i in whole.feed(data) + whole.end())
    parser = EventStreamParser(compact=True)
    got = []
    for chunk in split(data, cuts):
        got += encode_items(parser.feed(chunk))
    got += encode_items(parser.end())
    assert b"".join(got) == expected


def test_block_event_shape():
    data = b"event: delta\r\ndata: {\"a\":1}\r\n\r\n"
    (item,) = EventStreamParser().feed(data)
    assert item == Event("delta", b'{"a":1}', "", None, 3)
    (compact,) = EventStreamParser(compact=True).feed(data)
    assert compact == ("delta", b'{"a":1}', "", 3)
    assert b"".join(encode_items([item])) == b"".join(encode_items([compact])) == b'{"event":"delta","data":{"a":1}}\n'


def test_event_type_cache_is_bounded():
    # An upstream sending ever new event types cannot grow the scanner's cache.
    from sseq import blockscan

    parser = EventStreamParser()
    items = parser.feed(b"".join(b"event: t%d\ndata: x\n\n" % i for i in range(5000)))
    assert [i.type for i in items[-2:]] == ["t4998", "t4999"]
    assert len(blockscan._NAMES) <= blockscan._MAX_NAMES


def test_big_event_over_many_reads_keeps_its_bytes():
    payload = orjson.dumps({"blob": "x" * 3_000_000})
    data = b"data: " + payload + b"\r\n\r\n"
    parser = EventStreamParser()
    items = []
    for i in range(0, len(data), 65536):
        items += parser.feed(data[i : i + 65536])
    (event,) = items
    assert event.data_bytes == payload
    assert event.line == 2


@pytest.mark.parametrize("data", [b'data: 123\nevent:\ndata: {"a":1}\n\n', b'data: 123\nevent: x\ndata:{"a":1}\n\n'])
def test_a_block_met_while_another_is_pending_is_sized_as_it_came(data):
    # The scan hands such a block on line by line: its lines as they were
    # written (with or without the space after the colon), not rebuilt, so
    # the size limit is reached at the same line as by the standard's rules.
    def run(parse):
        try:
            return parse([data], max_event_size=4), None
        except EventTooLarge as exc:
            return exc.items, exc.line

    assert run(parse_fast) == run(parse_general)
