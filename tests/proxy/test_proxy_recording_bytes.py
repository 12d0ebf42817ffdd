"""What `--record` writes does not depend on how it is written: the
compiled core or pure Python, with usage counted (a Record per event) or
without (`-q`: the parser's items encoded straight to lines), the cassette
holds the same bytes, and each event is in the file as soon as the read that
completed it arrived."""

from __future__ import annotations

import http.client
import re
import threading
import time

import pytest
from helpers.http_servers import DripServer, event
from helpers.paths import REAL_FILES
from helpers.proxying import only_recording, proxying, wait_for_recordings

from sseq.proxy.server import ProxyServer

# Blocks the fast paths decline, between common ones: comments, ids, retry,
# several data lines, CRLF, plain text, a lone surrogate, unknown fields, a
# cut inside the last block.
ODD = (b': hello\n\nevent: delta\ndata: {"a":1}\n\nid: 7\ndata: {"b":2}\n\ndata: {"c":\ndata: 3}\n\n'
       b"retry: 10\n\nretry: 5\ndata: x\n\nevent: caf\xc3\xa9\r\ndata: [DONE]\r\n\r\ndata:  {\"d\":4}\n\n"
       b'data: {"s":"\\ud800"}\n\nfield: x\ndata: \xff\n\ndata: 12\n\nid\ndata: {"e":[1e400]}\n\n'
       b"data: {\"f\":\n")
STREAMS = {path.stem: path.read_bytes() for path in REAL_FILES} | {"odd": ODD, "odd-twice": ODD[:-9] * 2}
_T = re.compile(rb',"t":[0-9.]+')
_CLOCK = re.compile(rb'"(started|date)":"[^"]*"')


def post(url: str, path: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, body=b'{"model":"m","stream":true}', headers={"Content-Type": "application/json"})
        return conn.getresponse().read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def upstream():
    with DripServer() as server:
        for name, wire in STREAMS.items():
            def answer(x, wire=wire):
                x.start()
                # Reads cut anywhere, lines and blocks split across them.
                x.send_split(wire, list(range(97, len(wire), 4093)), pause=0.001)

            server.route(f"/{name}")(answer)
        yield server


def cassette(upstream, folder, monkeypatch, pure: bool, *args: str) -> dict[str, bytes]:
    """Each stream through `sseq proxy --record FOLDER ARGS`, its recording's
    bytes with the times (t, started, the Date header) left out."""
    if pure:
        monkeypatch.setenv("SSEQ_PURE_PYTHON", "1")
    else:
        monkeypatch.delenv("SSEQ_PURE_PYTHON", raising=False)
    with proxying(upstream.url(), "--record", folder, *args) as proxy:
        for name, wire in STREAMS.items():
            assert post(proxy.url, f"/{name}") == wire
        wait_for_recordings(folder, len(STREAMS))
    files = {path.name.rsplit("-", 2)[0].removeprefix("POST-"): path.read_bytes() for path in folder.glob("*.ndjson")}
    assert sorted(files) == sorted(STREAMS)
    return {name: _CLOCK.sub(b"", _T.sub(b"", data)) for name, data in files.items()}


def test_a_cassette_is_the_same_bytes_with_the_compiled_core_in_pure_python_and_with_usage_counted(
        upstream, tmp_path, monkeypatch):
    compiled = cassette(upstream, tmp_path / "compiled", monkeypatch, False, "-q")
    pure = cassette(upstream, tmp_path / "pure", monkeypatch, True, "-q")
    counted = cassette(upstream, tmp_path / "counted", monkeypatch, False)
    for name in STREAMS:
        assert compiled[name] == pure[name], name
        assert compiled[name] == counted[name], name
    assert compiled["odd"].count(b"\n") == 2 + 10  # open, close and ten events (no comment, no retry-only block)
    assert b'"data": {"d":4}}' in compiled["odd"] and b'"events":10' in compiled["odd"]


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "usage"])
def test_each_event_is_in_the_recording_while_the_stream_goes_on(tmp_path, quiet):
    gate = threading.Event()
    first = b"".join(event('{"n":%d}' % i) for i in range(3))
    with DripServer() as upstream:
        @upstream.route("/v1/chat/completions")
        def chat(x):
            x.start()
            x.send(first + b'data: {"n":3')  # three events and the start of a fourth
            x.wait_for(gate)
            x.send(b"}\n\n")

        with ProxyServer(upstream.url(), record=str(tmp_path), quiet=quiet) as proxy:
            done = threading.Thread(target=post, args=(proxy.url, "/v1/chat/completions"))
            done.start()
            try:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    files = list(tmp_path.glob("*.ndjson"))
                    if files and files[0].read_bytes().count(b"\n") >= 4:
                        break
                    time.sleep(0.01)
                records = only_recording(tmp_path)
                assert [r["data"] for r in records[1:]] == [{"n": 0}, {"n": 1}, {"n": 2}]
            finally:
                gate.set()
                done.join(10)
    records = wait_for_recordings(tmp_path, 1)
    (records,) = records.values()
    assert [r["data"] for r in records[1:-1]] == [{"n": i} for i in range(4)]
    assert records[-1]["data"]["events"] == 4
