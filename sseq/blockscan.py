"""The parser's fast path: whole common blocks taken in one regex scan.

Most of a real stream is the same block again and again: an optional
``event:`` line, one ``data:`` line and the blank line that dispatches it.
:func:`scan_blocks` finds those with one ``findall`` over the complete lines
of a read and makes their Events directly; every other line goes through the
parser's own line-by-line rules (:meth:`EventStreamParser.process_line`), as
does a common block met while another block is pending or one that may reach
the size limit.  So the standard keeps the last word, and the scan only saves
the per-line work where the answer is known.  Its contract is
tests/parser/test_parser_fastpath.py: the same items as the parser with
``fast=False``, and as a transcription of the standard, in any chunking.
"""

from __future__ import annotations

import re

from .parser import Event

__all__ = ["scan_blocks"]

# A token is either a whole common block (groups: "e" when the event line is
# there, the type, the data, the line end) or any other single line (last
# group).  Every position at the start of a line matches one of the two, so
# the tokens cover the lines without gaps.  The second pattern is for reads
# whose every CR is part of a CRLF (the parser has made lone CRs LFs): common
# blocks then use CRLF throughout, and a CR left at the end of another line
# is the CR of its CRLF.  (Without DOTALL, "." is any byte but LF.)
_TOKENS_LF = re.compile(rb"(?:(e)vent: ?(.*)\n)?data: ?(.*)(\n)\n|(.*)\n").findall
_TOKENS_CRLF = re.compile(rb"(?:(e)vent: ?(.*)\r\n)?data: ?(.*)(\r\n)\r\n|(.*)\n").findall

# Decoded event types.  Bounded, so that an upstream sending ever new types
# cannot grow it (past the bound a type is decoded each time).
_NAMES: dict[bytes, str] = {b"": "message"}
_MAX_NAMES = 1024
_new = tuple.__new__


def scan_blocks(parser, chunk: bytes, start: int, end: int, crlf: bool, out: list) -> None:
    """Parse the complete lines ``chunk[start:end]`` (ending in LF, or in
    CRLF when ``crlf``) into ``out``, as ``parser.process_line`` would."""
    line_no = parser.line
    last_id = parser.last_event_id
    names = _NAMES
    limit = parser.max_event_size
    small = end - start < limit  # then no line here can reach the limit
    append = out.append
    clean = not parser.block_pending
    for e, kind, value, block, other in (_TOKENS_CRLF if crlf else _TOKENS_LF)(chunk, start, end):
        if block:
            if clean and (small or (len(value) < limit and len(kind) < limit)):
                name = names.get(kind)
                if name is None:
                    name = kind.decode("utf-8", "replace")
                    if len(names) < _MAX_NAMES:
                        names[kind] = name
                line_no += 3 if e else 2
                append(_new(Event, (name, value, last_id, None, line_no)))
                continue
            lines = [b"event: " + kind, b"data: " + value, b""] if e else [b"data: " + value, b""]
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
