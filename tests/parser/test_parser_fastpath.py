"""The parser's fast path (whole common blocks scanned at once) against the
standard's reference transcription, with inputs built from whole blocks,
LF, CRLF and lone CR line ends, split anywhere; and the bytes ``sseq parse``
writes for them."""

from __future__ import annotations

import orjson
from helpers.sse import parse_chunks, reference_parse
from hypothesis import given, settings
from hypothesis import strategies as st

from sseq.parser import EventStreamParser
from sseq.records import encode_item, encode_items

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


@settings(max_examples=200, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=600), max_size=6))
def test_compact_events_encode_like_events(data, cuts):
    whole = EventStreamParser()
    expected = b"".join(encode_item(i) for i in whole.feed(data) + whole.end())
    parser = EventStreamParser()
    got = []
    for chunk in split(data, cuts):
        got += encode_items(parser.feed_compact(chunk))
    got += encode_items(parser.end())
    assert b"".join(got) == expected


def test_compact_event_shape():
    parser = EventStreamParser()
    (item,) = parser.feed_compact(b"event: delta\r\ndata: {\"a\":1}\r\n\r\n")
    assert item == ("delta", b'{"a":1}', "", 3)
    assert b"".join(encode_items([item])) == b'{"event":"delta","data":{"a":1}}\n'


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
