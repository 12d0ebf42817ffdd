"""The library under the commands, as the README shows it."""

from __future__ import annotations

import gzip

from helpers import REAL

import sseq


def test_parse_bytes_iter_file_records_and_text(tmp_path):
    wire = (REAL / "anthropic-messages-text.sse").read_bytes()
    records = sseq.parse_bytes(wire)
    assert records[0].event == "message_start"
    assert "".join(sseq.iter_text(records)) == "- Captain\n- Scoop"

    out = tmp_path / "run.ndjson"
    with open(out, "wb") as f:
        sseq.write_records(records, f)
    assert sseq.read_records(str(out)) == records

    packed = tmp_path / "run.sse.gz"
    packed.write_bytes(gzip.compress(wire))
    assert list(sseq.iter_file_records(str(packed))) == records


def test_record_type_looks_inside_message_events():
    (completed,) = [r for r in sseq.read_records(str(REAL / "openrouter-responses-no-event-field.sse"))
                    if r.type == "response.completed"]
    assert completed.event == "message"


def test_sans_io_parser_from_python():
    parser = sseq.EventStreamParser()
    items = parser.feed(b"id: 1\ndata: hi\n\n: c\n") + parser.end()
    assert items[0] == sseq.Event("message", b"hi", "1", None, 3)
    assert items[0].data == "hi"
    assert items[1] == sseq.Comment(" c", 4)
