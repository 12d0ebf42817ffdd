"""The floor: orjson validating each event's JSON payload, writing nothing.

What any SSE-to-records tool must at least do -- find each ``data:`` line
and parse its JSON -- with nothing else: no event types, no ids, no
records written.  ``sseq parse`` is measured against this.  Input comes in
1 MiB reads, as an HTTP client would hand it over; a line cut by a read is
joined with the rest of it.
"""

import re
import sys

import orjson

# A data line's JSON value.  "." is any byte but LF, so a CRLF's CR stays
# at the end of the value, where JSON allows it as whitespace.  Each line is
# looked for after the LF before it (a literal prefix, which the regex
# engine finds faster than "^" in MULTILINE mode).
_DATA = re.compile(rb"\ndata: ?([\[{].*)").findall


def main() -> None:
    read = sys.stdin.buffer.read1
    loads, Error = orjson.loads, orjson.JSONDecodeError
    tail = b"\n"  # the LF "before" the first line
    while True:
        chunk = read(1 << 20)
        if not chunk:
            break
        chunk = tail + chunk
        end = chunk.rfind(b"\n")
        tail = chunk[end:]  # from the LF that ends the last whole line
        for payload in _DATA(chunk, 0, end):
            try:
                loads(payload)
            except Error:
                pass


if __name__ == "__main__":
    main()
