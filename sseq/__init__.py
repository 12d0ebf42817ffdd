"""sseq: Server-Sent Events streams as NDJSON records.

The library under the command line::

    import sseq
    records = sseq.parse_bytes(b"event: ping\\ndata: {}\\n\\n")
    for record in sseq.iter_file_records("run.ndjson"):   # records or raw SSE
        ...
    sseq.write_records(records, open("out.ndjson", "wb"))
    print("".join(sseq.iter_text(records)))

Heavier parts are imported from their modules when needed:
``sseq.text``, ``sseq.usage``, ``sseq.fetch`` (fetch), ``sseq.serve``
(serve).
"""

from .parser import Comment, Event, EventStreamParser, EventTooLarge, RetryOnly
from .records import Record, format_record, parse_record_line
from .library import iter_file_records, iter_text, parse_bytes, read_records, write_records

__all__ = [
    "Comment",
    "Event",
    "EventStreamParser",
    "EventTooLarge",
    "Record",
    "RetryOnly",
    "format_record",
    "iter_file_records",
    "iter_text",
    "parse_bytes",
    "parse_record_line",
    "read_records",
    "write_records",
]
