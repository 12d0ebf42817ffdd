"""The parser's fast path: whole common blocks taken in one regex scan.

Most of a real stream is the same block again and again: an optional
``event:`` line, one ``data:`` line and the blank line that dispatches it.
:func:`scan_blocks` finds those with one ``findall`` over the complete lines
of a read; every other line goes through the
parser's own line-by-line rules (:meth:`EventStreamParser.process_line`), as
does a common block met while another block is pending or one that may reach
the size limit.  So the standard keeps the last word, and the scan only saves
the per-line work where the answer is known.  It makes its events as plain
tuples, the cheapest object there is (see the parser's ``compact``).  Its contract is
tests/parser/test_parser_fastpath.py: the same items as the parser with
``fast=False``, and as a transcription of the standard, in any chunking.
"""

from __future__ import annotations

import re

__all__ = ["scan_blocks"]

# A token is either a whole common block (groups: the event line when there
# is one, the type, the data line, the data) or any other single line (last
# group).  The lines themselves are kept so that a block the scan cannot
# take whole is handed on exactly as it came (its size counted to the byte).  Every position at the start of a line matches one of the two, so
# the tokens cover the lines without gaps.  The second pattern is for reads
# whose every CR is part of a CRLF (the parser has made lone CRs LFs): common
# blocks then use CRLF throughout, and a CR left at the end of another line
# is the CR of its CRLF.  (Without DOTALL, "." is any byte but LF.)
_TOKENS_LF = re.compile(rb"(?:(event: ?(.*))\n)?(data: ?(.*))\n\n|(.*)\n").findall
_TOKENS_CRLF = re.compile(rb"(?:(event: ?(.*))\r\n)?(data: ?(.*))\r\n\r\n|(.*)\n").findall

# Decoded event types.  Bounded, so that an upstream sending ever new types
# cannot grow it (past the bound a type is decoded each time).
_NAMES: dict[bytes, str] = {b"": "message"}
_MAX_NAMES = 1024


def scan_blocks(parser, chunk: bytes, start: int, end: int, crlf: bool, out: list) -> None:
    """Parse the complete lines ``chunk[start:end]`` (ending in LF, or in
    CRLF when ``crlf``) into ``out``, as ``parser.process_line`` would; a
    block taken whole comes as the compact tuple ``(type, data_bytes, id,
    line)``, which the parser makes an Event unless its caller wants it so."""
    line_no = parser.line
    last_id = parser.last_event_id
    names = _NAMES
    limit = parser.max_event_size
    small = end - start < limit  # then no line here can reach the limit
    append = out.append
    clean = not parser.block_pending
    for event_line, kind, data_line, value, other in (_TOKENS_CRLF if crlf else _TOKENS_LF)(chunk, start, end):
        if data_line:
            if clean and (small or (len(value) < limit and len(kind) < limit)):
                name = names.get(kind)
                if name is None:
                    name = kind.decode("utf-8", "replace")
                    if len(names) < _MAX_NAMES:
                        names[kind] = name
                line_no += 3 if event_line else 2
                append((name, value, last_id, line_no))
                continue
            lines = [event_line, data_line, b""] if event_line else [data_line, b""]
        elif crlf and other[-1:] == b"\r":
            lines = [other[:-1]]
        else:
            lines = [other]
        parser.line = line_no
        for line in lines:
            parser.process_line(line, out)
        line_no = parser.line
        last_id = parser.last_event_id
        clean = not parser.block_pending
    parser.line = line_no


def scan_encoded(parser, chunk: bytes, start: int, end: int, crlf: bool, out: list) -> None:
    """:func:`scan_blocks` for a parser with an ``encoder``: each run of
    common blocks is handed to the encoder whole and comes back as output
    bytes; a line it declines (any other field, a comment, a block whose
    type or data the Python rules must decide) goes through
    ``parser.process_line``, up to the end of its block."""
    encode = parser.encoder
    limit = parser.max_event_size if end - start >= parser.max_event_size else 0
    process_line = parser.process_line
    find = chunk.find
    pos = start
    while pos < end:
        if not parser.block_pending:
            encoded, pos, lines = encode(chunk, pos, end, crlf, parser.last_event_id, limit)
            if lines:
                out.append(encoded)
                parser.line += lines
            if pos >= end:
                break
        nl = find(b"\n", pos, end)
        line = chunk[pos:nl]
        if crlf and line[-1:] == b"\r":
            line = line[:-1]
        process_line(line, out)
        pos = nl + 1
