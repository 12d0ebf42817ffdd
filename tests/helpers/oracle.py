"""The parser's test oracle: a direct transcription of the standard, and
ways to feed the real parser in pieces."""

from __future__ import annotations

from sseq.parser import Comment, Event, EventStreamParser


def summarise(items):
    out = []
    for item in items:
        if type(item) is Event:
            out.append(("event", item.type, item.data, item.id, item.retry))
        elif type(item) is Comment:
            out.append(("comment", item.text))
        else:
            out.append(("retry", item.retry, item.id))
    return out


def parse_chunks(chunks, **kw):
    parser = EventStreamParser(**kw)
    items = []
    for chunk in chunks:
        items += parser.feed(chunk)
    return summarise(items + parser.end())


def split_at(data: bytes, cuts) -> list[bytes]:
    """``data`` cut at each position in ``cuts`` (those past its end ignored)."""
    bounds = [0] + sorted(set(c for c in cuts if c <= len(data))) + [len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def reference_parse(data: bytes):
    """A direct, slow transcription of the standard, for the properties."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\r":
            lines.append("".join(current))
            current = []
            if i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
        elif ch == "\n":
            lines.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out, data_buf, type_buf, last_id, retry = [], "", "", "", None
    for line in lines:
        if line == "":
            if data_buf == "":
                if retry is not None:
                    out.append(("retry", retry, last_id))
                data_buf, type_buf, retry = "", "", None
                continue
            if data_buf.endswith("\n"):
                data_buf = data_buf[:-1]
            out.append(("event", type_buf or "message", data_buf, last_id, retry))
            data_buf, type_buf, retry = "", "", None
            continue
        if line.startswith(":"):
            out.append(("comment", line[1:]))
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            type_buf = value
        elif name == "data":
            data_buf += value + "\n"
        elif name == "id":
            if "\x00" not in value:
                last_id = value
        elif name == "retry":
            if value and all(c in "0123456789" for c in value):
                retry = int(value)
    return out
