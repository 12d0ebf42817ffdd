"""The compiled core (sseq/_speedups.c) against the pure Python it stands in
for: the same verdict on every payload, the same bytes for every stream in
any chunking, the same size error at the same line.

These tests need the core built, as ``make`` builds it on a machine with a C
compiler; with SSEQ_PURE_PYTHON set (the suite's second, pure run) there is
nothing to compare, and the pure path is what every other test checks.
"""

from __future__ import annotations

import json
import os
from unittest import mock

import orjson
import pytest
from helpers.paths import REAL_FILES
from hypothesis import given, settings
from hypothesis import strategies as st

from sseq import records, speedups
from sseq.parser import EventStreamParser, EventTooLarge
from sseq.records import BlockEncoder, encode_items, loads_json

PURE_RUN = os.environ.get("SSEQ_PURE_PYTHON", "") not in ("", "0")
pytestmark = pytest.mark.skipif(PURE_RUN, reason="the pure Python run: no compiled core to compare")


def test_the_core_is_built_where_the_tests_run():
    # make installs with a C compiler at hand: a missing core is a broken
    # build, not a reason to skip the comparisons below.
    assert speedups.compiled is not None
    assert speedups.core_name() == "compiled"


# -- json_check ------------------------------------------------------------------


def orjson_verdict(payload: bytes) -> int:
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return 0
    return 1


ATOMS = [b"{", b"}", b"[", b"]", b",", b":", b'"', b'"a"', b'"\\u00e9"', b'"\\ud83d\\ude00"', b'"\\ud800"',
         b'"\\udc00"', b"1", b"-0", b"01", b"1.5", b"1e5", b"1E+99", b"1e400", b"-1.0e-7", b"1.", b".5", b"-",
         b"true", b"fals", b"null", b"nul", b" ", b"\n", b"\r", b"\t", b"\\", b"\xc3\xa9", b"\xed\xa0\x80",
         b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xff", b"\x00", b"\x1f",
         b'"x\ty"', b'"\\/"', b'"\\x"', b'"\\u12"', b"\xef\xbf\xbf", b"\xf0\x9f\x98\x80", b'"\xf0\x9f\x98"']
json_like = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=12).map(b"".join)


@settings(max_examples=3000, deadline=None)
@given(json_like, st.booleans())
def test_json_check_agrees_with_orjson_wherever_it_answers(payload, wrap):
    if wrap:
        payload = b"[" + payload + b"]"
    verdict = speedups.compiled.json_check(payload)
    if verdict == -1:
        # Unsure: orjson's own answer decides, with the standard library's
        # for what orjson refuses but JSON allows.
        return
    assert verdict == orjson_verdict(payload), payload


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30))
def test_json_check_takes_every_json_value(value):
    # Valid JSON is never called invalid; "unsure" only near the largest
    # double, where the core leaves overflow to orjson.
    for payload in (orjson.dumps(value), json.dumps(value).encode(), json.dumps(value, indent=1).encode()):
        verdict = speedups.compiled.json_check(payload)
        assert verdict == 1 or (verdict == -1 and b"e+30" in payload), payload


@pytest.mark.parametrize("payload, verdict", [
    (b'{"a":"\\ud800"}', -1),  # a lone surrogate: orjson refuses, JSON allows
    (b"[1e400]", -1),  # orjson refuses infinity
    (b"[1e+100, 1e-400, 0.5e300]", 1),
    (b"[" * 1001 + b"]" * 1001, -1),  # near orjson's depth limit
    (b"[" * 999 + b"]" * 999, 1),
    (b'{"a":1} ', 1),
    (b'{"a":1}\x00', 0),
    (b'{"a":1,}', 0),
    (b'{"a":NaN}', 0),
    (b'["\xed\xa0\x80"]', 0),  # a UTF-8-encoded surrogate
])
def test_json_check_edges(payload, verdict):
    assert speedups.compiled.json_check(payload) == verdict
    if verdict != -1:
        assert orjson_verdict(payload) == verdict
    else:
        # Python then decides, and the standard library reads what orjson refuses where JSON allows it.
        if payload.startswith(b'{"a":"\\ud'):
            assert loads_json(payload) == {"a": "\ud800"}


def test_json_check_agrees_on_every_real_payload():
    checked = 0
    for path in REAL_FILES:
        for line in path.read_bytes().splitlines():
            if line.startswith(b"data:"):
                payload = line[5:].removeprefix(b" ")
                assert speedups.compiled.json_check(payload) == orjson_verdict(payload), (path.name, payload[:80])
                checked += 1
    assert checked > 1000


# -- encode_blocks ----------------------------------------------------------------

LINES = [
    b"event: response.output_text.delta", b"event: delta", b"event:", b"event:  two", b"event: sseq.open",
    b"event: caf\xc3\xa9", b"event: \xff", b'event: a"b\\c\x01', b"event",
    b'data: {"a":1}', b'data:{"b":[1,2]}', b'data: {"c":', b"data: [DONE]", b"data: x", b"data:", b"data",
    b'data:  {"a":1}', b'data: \t{"a":1}', b'data: {"s":"\\ud800"}', b"data: [1e400]", b'data: {"u":"\xc3\xa9"}',
    b'data: {"bad":"\xff"}', b"data: \xff\xfe", b'data: tab\there "quote" \\ back \x1f \x7f', b"data: 123",
    b'data: "str"', b'data: {"a":1} trailing', b"data: sseq", b"id: 7", b"id: 8\x00", b"id: caf\xc3\xa9",
    b"id", b"retry: 10", b"retry: x", b": ping", b":", b"other: field", b"", b"", b"",
]
ENDS = [b"\n", b"\r\n", b"\r"]


@st.composite
def streams(draw):
    ending = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    lines = draw(st.lists(st.sampled_from(LINES), max_size=40))
    out = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    for line in lines:
        end = {"lf": b"\n", "crlf": b"\r\n"}.get(ending) or draw(st.sampled_from(ENDS))
        out += line + end
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted(set(c for c in cuts if 0 < c < len(data)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def write(chunks, compiled: bool, raw_data=False, t=None, limit=1 << 20, include_all=True):
    """What ``sseq parse`` writes for these reads, and the line of a size
    error (None when there was none): with the compiled core, or as if it
    were not built (the records module's switch off)."""
    if compiled:
        return _write(chunks, True, raw_data, t, limit, include_all)
    with mock.patch.object(records, "compiled", None):
        return _write(chunks, False, raw_data, t, limit, include_all)


def _write(chunks, compiled: bool, raw_data, t, limit, include_all):
    encoder = BlockEncoder(raw_data) if compiled else None
    if encoder is not None:
        encoder.t = t
    parser = EventStreamParser(limit, keep_comments=include_all, compact=True, encoder=encoder)
    out = []
    try:
        for chunk in chunks:
            out += encode_items(parser.feed(chunk), t, raw_data, include_all)
        out += encode_items(parser.end(), t, raw_data, include_all)
    except EventTooLarge as exc:
        out += encode_items(exc.items, t, raw_data, include_all)
        return b"".join(out), exc.line
    return b"".join(out), None


@settings(max_examples=1500, deadline=None)
@given(streams(), st.lists(st.integers(min_value=0, max_value=400), max_size=5), st.booleans(),
       st.sampled_from([None, 0.0, 1.5, 12.3456]), st.booleans())
def test_encoded_blocks_are_the_bytes_python_writes(data, cuts, raw_data, t, include_all):
    chunks = split(data, cuts)
    assert write(chunks, True, raw_data, t, include_all=include_all) == write(chunks, False, raw_data, t,
                                                                                include_all=include_all)


@settings(max_examples=600, deadline=None)
@given(streams(), st.lists(st.integers(min_value=0, max_value=400), max_size=5), st.sampled_from([4, 9, 16, 40]))
def test_the_size_limit_is_met_at_the_same_line_with_the_same_records_before(data, cuts, limit):
    chunks = split(data, cuts)
    assert write(chunks, True, limit=limit) == write(chunks, False, limit=limit)


def test_every_real_stream_is_the_same_bytes_in_big_and_tiny_reads():
    for path in REAL_FILES:
        data = path.read_bytes()
        whole = write([data], False)
        assert write([data], True) == whole, path.name
        assert write([data[i:i + 7] for i in range(0, len(data), 7)], True) == whole, path.name


# -- record_types ----------------------------------------------------------------

RECORD_PARTS = [b'{"event":"a","data":1}', b'{"event":"message","data":{"type":"t.x","v":[1,{"type":"no"}]}}',
                b'{"event":"message","data":{"type":5}}', b'{"event":"message","data":{"type":"a","type":"b"}}',
                b'{"data":{"type":"q"},"event":"message"}', b'{"event":"message","data":"s"}',
                b'{"event":"caf\xc3\xa9","data":null}', b'{"event":"e\\u0041","data":1}', b'{"event":"x"}',
                b'{"event":1,"data":1}', b'{"event":"a","data":1,"id":"7"}', b'{"event":"a","event":"b","data":1}',
                b'{"event":"a","data":1', b'{"event":"a","data":[1,]}', b' {"event" : "a" , "data" : 1 } ',
                b'{"event":"a","data":"\xff"}', b'[1]', b'', b'   ', b'{"event":"a","data":1}x',
                b'\xef\xbb\xbf{"event":"a","data":1}', b'{"ev\\u0065nt":"a","data":1}']


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(RECORD_PARTS), min_size=1, max_size=12), st.integers(0, 3))
def test_record_types_is_parse_record_types_or_declines(lines, start):
    from sseq.records import RecordError, parse_record_types

    events, kinds, stop = speedups.compiled.record_types(lines, start)
    assert start <= stop or (start > len(lines) and stop == start)
    assert len(events) == len(kinds) == max(0, stop - start)
    for line, event, kind in zip(lines[start:stop], events, kinds, strict=True):
        assert parse_record_types(line) == (event, kind)
    if stop < len(lines) and stop >= start:
        # What it declined, Python reads: a record it could not take plainly, or a bad line.
        try:
            parse_record_types(lines[stop])
        except RecordError:
            pass
