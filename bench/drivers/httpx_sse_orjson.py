"""httpx-sse + orjson: SSE on stdin to NDJSON records on stdout.

The bytes on stdin become the body of an ``httpx.Response`` (streamed in
1 MiB reads, as from a socket) and go through httpx-sse's public
``EventSource.iter_sse()``; each event is written as sseq would write it,
through orjson.
"""

import sys

import httpx
import orjson
from httpx_sse import EventSource


def chunks(stream):
    read = stream.read1
    while True:
        chunk = read(1 << 20)
        if not chunk:
            return
        yield chunk


def main() -> None:
    out = sys.stdout.buffer
    dumps, loads = orjson.dumps, orjson.loads
    response = httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=chunks(sys.stdin.buffer))
    for event in EventSource(response).iter_sse():
        data = event.data
        if not data and not event.event:
            continue  # httpx-sse also yields id/retry-only blocks; sseq does not
        if data[:1] in ("{", "["):
            try:
                data = loads(data)
            except orjson.JSONDecodeError:
                pass
        record = {"event": event.event or "message"}
        if event.id:
            record["id"] = event.id
        record["data"] = data
        out.write(dumps(record) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
