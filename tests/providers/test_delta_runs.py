"""Runs of text deltas (sseq.inputs.RecordRun), taken whole by the compiled
core, against reading the same records one by one: the same text, the same
usage rows (digests and checkpoints included), for real streams and for
generated ones full of what must break a run (another part, an escape, a
field sseq does not write, spacing, a bad line), as records and as raw SSE.
"""

from __future__ import annotations

import io
import json
import os

import pytest
from helpers.inprocess import invoke
from helpers.paths import REAL_FILES
from hypothesis import given, settings
from hypothesis import strategies as st

from sseq.errors import BadInput
from sseq.inputs import Source, iter_record_batches, open_source
from sseq.runs import RecordRun
from sseq.providers import FAMILIES, RUN_SHAPES
from sseq.text import TextAssembler
from sseq.usage.streams import iter_file_usages

PURE_RUN = os.environ.get("SSEQ_PURE_PYTHON", "") not in ("", "0")
pytestmark = pytest.mark.skipif(PURE_RUN, reason="the pure Python run: no runs to compare")


class Trickle(io.RawIOBase):
    """A file read a few hundred bytes at a time, as a pipe may hand it over."""

    def __init__(self, data: bytes, step: int):
        self.data, self.at, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        piece = self.data[self.at:self.at + min(self.step, size if size > 0 else self.step)]
        self.at += len(piece)
        return piece


def text_of(path, runs: bool, reasoning: bool = False, step: int | None = None) -> tuple[str, int]:
    """What ``sseq text`` writes for a file (read ``step`` bytes at a time,
    or whole), and how many runs it took."""
    assembler = TextAssembler(reasoning)
    out, taken = [], 0
    source = open_source(str(path))
    if step is not None:
        source.stream.close()
        source = Source(source.name, Trickle(path.read_bytes(), step))
    try:
        for batch in iter_record_batches(source, runs=RUN_SHAPES if runs else ()):
            for item in batch:
                if type(item) is RecordRun:
                    taken += 1
                    # A run's last record is the one its records end with.
                    assert item.last() == item.records()[-1]
                    out.append(assembler.feed_run(item))
                else:
                    out.append(assembler.feed(item))
    except BadInput as exc:
        out.append(f"<{exc}>")
    finally:
        source.close()
    return "".join(out) + assembler.finish(), taken


def usages_of(path, runs: bool) -> list:
    rows = []
    try:
        for usage in iter_file_usages(str(path), runs=runs):
            rows.append(usage)
    except BadInput as exc:
        rows.append(str(exc))
    return rows


def test_every_family_shape_is_in_the_table_the_core_gets():
    shapes = [shape for family in FAMILIES for shape in family.delta_shapes]
    assert len(shapes) == len(RUN_SHAPES) >= 4
    assert {shape.event for shape in shapes} >= {"response.output_text.delta", "response.reasoning_summary_text.delta"}


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_streams_read_the_same_with_runs(path, tmp_path):
    assert text_of(path, True) == (text_of(path, False)[0], text_of(path, True)[1])
    assert text_of(path, True, True)[0] == text_of(path, False, True)[0]
    assert usages_of(path, True) == usages_of(path, False)
    # The same stream as records, as sseq parse writes them.
    records = tmp_path / (path.stem + ".ndjson")
    records.write_bytes(invoke("parse", str(path)).stdout)
    assert text_of(records, True)[0] == text_of(records, False)[0]
    assert text_of(records, True, step=333)[0] == text_of(records, False)[0]
    assert usages_of(records, True) == usages_of(records, False)


@pytest.mark.parametrize("unnamed", [False, True], ids=["named", "message-typed"])
def test_a_long_responses_stream_is_taken_in_runs(tmp_path, unnamed):
    # The case runs are for: hundreds of deltas of one part.
    path = tmp_path / "long.ndjson"
    path.write_bytes(b"".join(responses_stream([("d%d " % i, 0, 0) for i in range(500)], unnamed=unnamed)))
    text, taken = text_of(path, True)
    assert text == "".join("d%d " % i for i in range(500)) + "\n"
    assert 1 <= taken <= 3
    assert usages_of(path, True) == usages_of(path, False)


def record(event: str, data: dict, t: float | None = None, id: str | None = None, spaced: bool = False) -> bytes:
    fields = {"event": event}
    if id is not None:
        fields["id"] = id
    if t is not None:
        fields["t"] = t
    fields["data"] = data
    if spaced:
        return json.dumps(fields).encode() + b"\n"
    line = b'{"event":' + json.dumps(event).encode()
    if id:
        line += b',"id":' + json.dumps(id).encode()
    if t is not None:
        line += b',"t":%.3f' % t
    return line + b',"data":' + json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode() + b"}\n"


def responses_stream(deltas, t=None, spaced=(), ids=False, extra=(), bad_at=None, ascii=False,
                     unnamed=False) -> list[bytes]:
    """Records of one Responses stream: ``deltas`` are (text, output_index,
    content_index); ``spaced``/``extra`` name deltas written otherwise or
    with a key no shape allows; ``unnamed``: every event a ``message`` typed
    by its data, as OpenRouter sends them."""
    created = {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-x", "usage": None}}
    lines = [record("response.created", created, 0.0 if t is not None else None)]
    for n, (text, output, content) in enumerate(deltas):
        data = {"type": "response.output_text.delta", "sequence_number": n, "item_id": "msg_%d" % output,
                "output_index": output, "content_index": content, "delta": text}
        if n in extra:
            data["response"] = {"model": "sneaky"}
        when = None if t is None else round(0.001 * (n + 1) * t, 3)
        line = record("message" if unnamed else "response.output_text.delta", data, when, "e%d" % n if ids else None,
                      n in spaced)
        if ascii:
            line = line.replace(b'"delta":' + json.dumps(text, ensure_ascii=False).encode(),
                                b'"delta":' + json.dumps(text).encode())
        lines.append(line)
        if bad_at == n:
            lines.append(b'{"event":"response.output_text.delta","data":{"delta":"x"\n')
    done = {"type": "response.completed", "response": {"id": "resp_1", "model": "gpt-x", "output": [],
                                                        "usage": {"input_tokens": 3, "output_tokens": len(deltas),
                                                                  "total_tokens": 3 + len(deltas)}}}
    lines.append(record("response.completed", done, None if t is None else 9.0))
    return lines


texts = st.sampled_from(["a", " b", "é", "東京", "🙂", "line\n", 'q"uote', "back\\slash", "\t", "\u2028", "x" * 40])
deltas = st.lists(st.tuples(texts, st.integers(0, 1), st.integers(0, 1)), max_size=80)


@settings(max_examples=150, deadline=None)
@given(deltas, st.sampled_from([None, 1.0, 7.5]), st.sets(st.integers(0, 79), max_size=3), st.booleans(),
       st.sets(st.integers(0, 79), max_size=2), st.one_of(st.none(), st.integers(0, 79)), st.booleans(),
       st.integers(1, 3), st.booleans())
def test_generated_streams_read_the_same_with_runs(tmp_path_factory, deltas, t, spaced, ids, extra, bad_at, ascii,
                                                    streams, unnamed):
    folder = tmp_path_factory.mktemp("runs")
    body = b"".join(b"".join(responses_stream(deltas, t, spaced, ids, extra, bad_at, ascii, unnamed))
                    for _ in range(streams))
    records = folder / "stream.ndjson"
    records.write_bytes(body)
    assert text_of(records, True)[0] == text_of(records, False)[0]
    assert text_of(records, True, step=97)[0] == text_of(records, False)[0]
    assert text_of(records, True, True)[0] == text_of(records, False, True)[0]
    assert usages_of(records, True) == usages_of(records, False)
