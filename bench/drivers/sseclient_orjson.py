"""sseclient-py + orjson: SSE on stdin to NDJSON records on stdout.

The same job as ``sseq parse``: each event becomes
``{"event":...,"id":...,"data":...}`` with JSON payloads parsed and written
through orjson, other payloads as strings.  Input is handed over in 1 MiB
reads, as an HTTP client would; output is flushed once per read's worth.
"""

import sys

import orjson
from sseclient import SSEClient


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
    for event in SSEClient(chunks(sys.stdin.buffer)).events():
        data = event.data
        if data[:1] in ("{", "["):
            try:
                data = loads(data)
            except orjson.JSONDecodeError:
                pass
        record = {"event": event.event}
        if event.id:
            record["id"] = event.id
        record["data"] = data
        out.write(dumps(record) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
