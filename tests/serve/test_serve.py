"""sseq serve as a user runs it: a real process on 127.0.0.1, real HTTP
clients (http.client and raw sockets), stdout and stderr apart."""

from __future__ import annotations

import http.client
import math
import os
import re
import signal
import socket
import subprocess
import time

import orjson
import pytest
from helpers import REAL, REAL_FILES, ROOT, SSEQ, run_sseq
from helpers.serving import (
    Serving,
    events_only,
    fetch,
    raw_exchange,
    read_to_end,
    serving,
    split_chunked,
    wire_view,
)

from sseq.library import parse_bytes, read_records
from sseq.providers import maybe_error

# ---------------------------------------------------------------- helpers


HAND_MADE = (
    b'{"event":"sseq.open","t":0.0,"data":{"url":"http://upstream.test/v1","method":"POST","status":200}}\n'
    b'{"event":"sseq.comment","data":" PING"}\n'
    b'{"event":"message","data":"hello"}\n'
    b'{"event":"ping","data":{"n": 1}}\n'
    b'{"event":"sseq.retry","retry":1500,"data":""}\n'
    b'{"event":"message","data":"two\\nlines"}\n'
    b'{"event":"sseq.close","t":0.1,"data":{"reason":"eof","events":3}}\n'
)
# What serve sends by default: the recording as it was, no id added.
HAND_MADE_WIRE = (
    b": PING\n\n"
    b"data: hello\n\n"
    b'event: ping\ndata: {"n": 1}\n\n'
    b"retry: 1500\n\n"
    b"data: two\ndata: lines\n\n"
)
# With --ids: the events numbered, so that a client can resume.
NUMBERED_WIRE = (
    b": PING\n\n"
    b"id: 1\ndata: hello\n\n"
    b'id: 2\nevent: ping\ndata: {"n": 1}\n\n'
    b"retry: 1500\n\n"
    b"id: 3\ndata: two\ndata: lines\n\n"
)


@pytest.fixture
def hand_made(tmp_path):
    path = tmp_path / "hand.ndjson"
    path.write_bytes(HAND_MADE)
    return path


# ---------------------------------------------------------------- wire bytes


def test_exact_wire_bytes_and_headers_add_nothing(hand_made):
    with serving(hand_made) as server:
        status, headers, body, complete = fetch(server, "/anything/at/all")
        assert (status, complete) == (200, True)
        assert body == HAND_MADE_WIRE
        assert headers["Content-Type"] == "text/event-stream"
        assert headers["Cache-Control"] == "no-store"
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Transfer-Encoding"] == "chunked"
        # POST works the same (SDKs post their request body).
        status, _, body, _ = fetch(server, "/v1/chat/completions", "POST", {"Content-Type": "application/json"},
                                   b'{"model":"x","stream":true}')
        assert (status, body) == (200, HAND_MADE_WIRE)
        # Each request is logged by its own thread after its response ends:
        # the two lines may come in either order.
        server.wait_for("GET /anything/at/all")
        stderr = server.wait_for("POST /v1/chat/completions")
        assert "listening on http://127.0.0.1:" in stderr
        assert "GET /anything/at/all 200" in stderr and "3 events, complete" in stderr
        assert server.stop() == 130
        assert server.stdout == b""


def test_one_chunk_per_event_and_a_final_chunk(hand_made):
    with serving(hand_made) as server:
        reply = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, payload = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        chunks, final = split_chunked(payload)
        assert final
        assert chunks == [b": PING\n\n", b"data: hello\n\n", b'event: ping\ndata: {"n": 1}\n\n',
                          b"retry: 1500\n\n", b"data: two\ndata: lines\n\n"]
        # An HTTP/1.0 client gets the plain bytes, ended by the close.
        reply = raw_exchange(server, b"GET / HTTP/1.0\r\n\r\n")
        head, _, payload = reply.partition(b"\r\n\r\n")
        assert b"Transfer-Encoding" not in head
        assert payload == HAND_MADE_WIRE


def test_ids_numbers_the_events_and_no_ids_is_accepted_as_the_default(hand_made):
    with serving("--ids", hand_made) as numbered, serving("--no-ids", hand_made) as plain:
        assert fetch(numbered)[2] == NUMBERED_WIRE
        assert fetch(plain)[2] == HAND_MADE_WIRE


# Recordings whose bytes are not what a replay writes: CRLF line ends
# (Gemini), and a final block with no blank line after it (dropped by every
# SSE parser, so never replayed).
NOT_BYTE_IDENTICAL = {"gemini-sse-function-call", "gemini-sse-text", "gemini-sse-thinking", "gemini-sse-web-search",
                      "vertex-gemini-sse-flex", "codex-responses-fixture"}


def test_every_real_recording_round_trips():
    """One server, the 30 real recordings under /NAME: what a client receives
    parses back to the recording's records, data bytes included, and by
    default the bytes are the upstream's own; --ids numbers the events."""
    assert len(REAL_FILES) == 30
    with serving("--ids", *REAL_FILES) as numbered, serving(*REAL_FILES) as plain:
        for path in REAL_FILES:
            recorded = read_records(str(path), include_all=True)
            status, _, body, complete = fetch(plain, f"/{path.stem}")
            assert (status, complete) == (200, True), path.name
            assert wire_view(parse_bytes(body, include_all=True)) == wire_view(recorded), path.name
            assert body == run_sseq("replay", path).stdout, path.name
            if path.stem not in NOT_BYTE_IDENTICAL:
                assert body == path.read_bytes(), path.name

            status, _, body, complete = fetch(numbered, f"/{path.stem}/v1/chat/completions", "POST")
            assert (status, complete) == (200, True), path.name
            received = parse_bytes(body, include_all=True)
            events = events_only(received)
            assert [r.id for r in events] == [str(n) for n in range(1, len(events) + 1)], path.name
            assert [(e, d, raw, retry) for e, d, raw, _, retry in wire_view(received)] == \
                [(e, d, raw, retry) for e, d, raw, _, retry in wire_view(recorded)], path.name


def test_recorded_ids_are_kept_and_resumed_from(tmp_path):
    path = tmp_path / "ids.ndjson"
    path.write_bytes(b"".join(b'{"event":"tick","id":"ev-%d","data":{"n":%d}}\n' % (n, n) for n in range(1, 6)))
    with serving(path) as server:
        _, _, body, _ = fetch(server)
        assert [r.id for r in parse_bytes(body)] == ["ev-1", "ev-2", "ev-3", "ev-4", "ev-5"]
        _, _, body, _ = fetch(server, headers={"Last-Event-ID": "ev-3"})
        assert body == b'id: ev-4\nevent: tick\ndata: {"n":4}\n\nid: ev-5\nevent: tick\ndata: {"n":5}\n\n'


# ---------------------------------------------------------------- resumption and faults


def test_last_event_id_resumes_after_that_event(hand_made):
    with serving("--ids", hand_made) as server:
        status, _, body, _ = fetch(server, headers={"Last-Event-ID": "2"})
        assert status == 200
        assert body == b"retry: 1500\n\nid: 3\ndata: two\ndata: lines\n\n"
        # After the last event there is nothing left: 204 stops an EventSource.
        status, _, body, _ = fetch(server, headers={"Last-Event-ID": "3"})
        assert (status, body) == (204, b"")
        # An id this recording never sent: the whole stream.
        status, _, body, _ = fetch(server, headers={"Last-Event-ID": "no-such-id"})
        assert (status, body) == (200, NUMBERED_WIRE)


@pytest.mark.parametrize("rechunk", [None, "random"])
def test_drop_after_then_resume_loses_and_repeats_nothing(rechunk):
    path = REAL / "anthropic-messages-thinking.sse"
    recorded = events_only(read_records(str(path)))
    extra = ["--rechunk", "random"] if rechunk else []
    with serving("--ids", "--drop-after", 7, *extra, path) as server:
        received, connections, last_id = [], 0, None
        while True:
            status, _, body, complete = fetch(server, headers={"Last-Event-ID": last_id} if last_id else {})
            if status == 204:
                break
            assert status == 200
            connections += 1
            events = parse_bytes(body)
            assert len(events) <= 7
            received += events
            last_id = events[-1].id
            if complete:
                break
            assert len(events) == 7  # a drop comes after exactly N events
            assert connections < 100
    assert connections == math.ceil(len(recorded) / 7) == 17
    assert [r.id for r in received] == [str(n) for n in range(1, len(recorded) + 1)]
    assert [(r.event, r.data, r.raw) for r in received] == [(r.event, r.data, r.raw) for r in recorded]
    assert server.wait_for("7 events, dropped", 16).count("7 events, dropped") == 16


@pytest.mark.parametrize(
    "name, after, event, data",
    [
        ("anthropic-messages-text", 3, "error",
         {"type": "error", "error": {"type": "overloaded_error",
                                     "message": "sseq serve: error injected after 3 events (--error-after)"}}),
        ("openai-responses-text", 4, "error",
         {"type": "error", "code": "server_error", "message": "sseq serve: error injected after 4 events (--error-after)",
          "param": None, "sequence_number": 4}),
        ("openrouter-responses-no-event-field", 2, "message", None),
        ("openai-chat-text-usage", 5, "message",
         {"error": {"message": "sseq serve: error injected after 5 events (--error-after)", "type": "server_error",
                    "param": None, "code": "server_error"}}),
        ("gemini-sse-thinking", 1, "message",
         {"error": {"code": 500, "message": "sseq serve: error injected after 1 events (--error-after)",
                    "status": "INTERNAL"}}),
    ],
)
def test_error_after_sends_the_providers_own_error_event(name, after, event, data):
    path = REAL / f"{name}.sse"
    recorded = events_only(read_records(str(path)))
    with serving("--ids", "--error-after", after, path) as server:
        status, _, body, complete = fetch(server, "/", "POST")
    assert (status, complete) == (200, True)  # the stream ends cleanly, after the error
    received = parse_bytes(body)
    assert [(r.event, r.data) for r in received[:after]] == [(r.event, r.data) for r in recorded[:after]]
    assert len(received) == after + 1
    error = received[-1]
    assert error.event == event
    if data is not None:
        assert error.data == data
    else:
        assert error.data["type"] == "error" and "error injected" in error.data["message"]
    assert maybe_error(error) and "error injected" in maybe_error(error)
    assert error.id == str(after)  # it does not move the client's last event id


def test_rechunk_1_sends_one_byte_per_chunk(hand_made):
    with serving("--rechunk", "1", hand_made) as server:
        reply = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    chunks, final = split_chunked(reply.partition(b"\r\n\r\n")[2])
    assert final
    assert {len(c) for c in chunks} == {1}
    assert b"".join(chunks) == HAND_MADE_WIRE


def test_rechunk_random_splits_inside_events_and_seed_repeats_them():
    path = REAL / "openai-chat-text-usage.sse"
    with serving("--rechunk", "random", "--seed", 7, path) as server:
        first = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").partition(b"\r\n\r\n")[2]
        second = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").partition(b"\r\n\r\n")[2]
        _, _, plain, _ = fetch(server)
    chunks, final = split_chunked(first)
    assert final and b"".join(chunks) == plain
    assert split_chunked(second)[0] == chunks
    events = plain.count(b"\n\n")
    assert len(chunks) > events  # events were split
    assert sum(1 for c in chunks if not c.endswith(b"\n\n")) > events // 2


def test_speed_follows_recorded_time_and_keepalives_fill_the_gaps(tmp_path):
    path = tmp_path / "slow.ndjson"
    path.write_bytes(b'{"event":"message","t":0.0,"data":"a"}\n{"event":"message","t":0.5,"data":"b"}\n'
                     b'{"event":"message","t":1.0,"data":"c"}\n')
    with serving("--speed", 2, "--keepalive", 0.1, path) as server:
        conn = server.connect()
        started = time.monotonic()
        conn.request("GET", "/")
        response = conn.getresponse()
        arrivals = []
        buffer = b""
        while True:
            piece = response.read1(65536)
            if not piece:
                break
            buffer += piece
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                arrivals.append((round(time.monotonic() - started, 2), block))
        conn.close()
    data_blocks = [(t, b) for t, b in arrivals if b.find(b"data:") >= 0]
    assert [b.split(b"data: ")[1] for _, b in data_blocks] == [b"a", b"b", b"c"]
    # Twice the recorded speed: b at ~0.25 s, c at ~0.5 s.
    assert 0.23 <= data_blocks[1][0] < data_blocks[2][0]
    assert 0.48 <= data_blocks[2][0] < 0.95  # faster than real time (1 s)
    keepalives = [b for _, b in arrivals if b == b": keep-alive"]
    assert len(keepalives) >= 3


# ---------------------------------------------------------------- routes, CORS, limits


def test_routes_answer_exactly_and_everything_else_is_404(tmp_path):
    chat, resp = REAL / "openai-chat-text-usage.sse", REAL / "openai-responses-text.sse"
    with serving("--route", f"/v1/chat/completions={chat}", "--route", f"/v1/responses={resp}") as server:
        status, _, body, _ = fetch(server, "/v1/responses?stream=true", "POST")
        assert status == 200 and body.count(b"event: response.") == 9
        status, _, body, _ = fetch(server, "/v1/chat/completions/", "POST")
        assert status == 200 and body.rstrip().endswith(b"data: [DONE]")
        for path in ("/", "/v1/models", "/v1/responses/extra", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                     f"/{chat}"):
            status, headers, body, _ = fetch(server, path)
            assert status == 404, path
            assert b"routes: /v1/chat/completions, /v1/responses" in body
            assert b"root:" not in body
            assert headers["Access-Control-Allow-Origin"] == "*"  # a browser page can read the 404


def test_several_files_are_served_under_their_names():
    chat, anth = REAL / "openai-chat-text-usage.sse", REAL / "anthropic-messages-text.sse"
    with serving(chat, anth) as server:
        assert fetch(server, "/openai-chat-text-usage")[0] == 200
        _, _, body, _ = fetch(server, "/anthropic-messages-text/v1/messages", "POST")
        assert b"event: message_start" in body
        assert fetch(server, "/")[0] == 404
        assert fetch(server, "/openai-chat-text-usagex")[0] == 404
        stderr = server.wait_for("GET /openai-chat-text-usagex 404")
    assert "/openai-chat-text-usage/* -> " in stderr and "(status 200, 28 events, ids none, openai-chat)" in stderr
    assert "/anthropic-messages-text/* -> " in stderr and "(status 200, 10 events, ids none, anthropic)" in stderr


def test_one_file_answers_every_path_but_never_reads_others(hand_made):
    with serving(hand_made) as server:
        for path in ("/etc/passwd", "/../../../../etc/passwd", f"/{hand_made}"):
            status, _, body, _ = fetch(server, path)
            assert (status, body) == (200, HAND_MADE_WIRE)


def test_cors_preflight_and_allowed_origins(hand_made):
    with serving(hand_made) as server:
        status, headers, body, _ = fetch(server, "/v1/chat/completions", "OPTIONS", {
            "Origin": "https://page.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert (status, body) == (204, b"")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Access-Control-Allow-Methods"] == "POST"
        assert headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    with serving("--cors-origin", "https://page.example", hand_made) as server:
        _, headers, body, _ = fetch(server, headers={"Origin": "https://page.example"})
        assert headers["Access-Control-Allow-Origin"] == "https://page.example"
        assert headers["Vary"] == "Origin"
        _, headers, _, _ = fetch(server, headers={"Origin": "https://other.example"})
        assert "Access-Control-Allow-Origin" not in headers


def test_huge_header_is_refused_before_it_ends(hand_made):
    with serving(hand_made) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000)
            # The header is not finished, yet the whole answer comes.
            reply = read_to_end(sock)
        assert reply.startswith(b"HTTP/1.1 431 "), reply[:100]
        assert b"request headers over 65536 bytes" in reply
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(90))
        reply = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        assert reply.startswith(b"HTTP/1.1 431 ")
        # The server is still fine.
        assert fetch(server)[2] == HAND_MADE_WIRE
        assert " 431" in server.wait_for(" 431")


def test_huge_body_is_refused_without_reading_it(hand_made):
    with serving(hand_made) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n" + b"x" * 1000)
            reply = read_to_end(sock)
        assert reply.startswith(b"HTTP/1.1 413 ")
        chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"40000000\r\n"
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(chunked)
            assert read_to_end(sock).startswith(b"HTTP/1.1 413 ")
        # A body of a sensible size, in one piece or chunked, is read and answered.
        assert fetch(server, "/", "POST", {"Content-Type": "application/json"}, b"{" + b" " * 1_000_000 + b"}")[2] \
            == HAND_MADE_WIRE
        reply = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\n0\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 200 OK") and b"data: hello" in reply


# ---------------------------------------------------------------- the process


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_server_cleanly_mid_stream(tmp_path, sig):
    path = tmp_path / "long.ndjson"
    path.write_bytes(b"".join(b'{"event":"message","t":%d,"data":"tick %d"}\n' % (n, n) for n in range(60)))
    with serving("--speed", 1, path) as server:
        conn = server.connect()
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.read1(65536).startswith(b"data: tick 0\n\n")
        started = time.monotonic()
        status = server.stop(sig)
        assert time.monotonic() - started < 5
        # The client's stream ends (without the final chunk: it was cut).
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
    assert status == 130
    stderr = server.stderr
    assert "stopped after 1 requests" in stderr
    assert "Traceback" not in stderr
    assert server.stdout == b""


def test_a_client_that_leaves_is_logged_and_the_server_goes_on(tmp_path):
    path = tmp_path / "paced.ndjson"
    path.write_bytes(b"".join(b'{"event":"message","t":%.1f,"data":"tick %d"}\n' % (n / 10, n) for n in range(50)))
    with serving("--ids", "--speed", 1, path) as server:
        conn = server.connect()
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.read1(1000).startswith(b"id: 1\n")
        response.close()  # like `curl ... | head -1`
        conn.close()
        stderr = server.wait_for("client-gone")
        assert "GET / 200" in stderr and "client-gone" in stderr
        assert fetch(server, headers={"Last-Event-ID": "49"})[2] == b"id: 50\ndata: tick 49\n\n"
    assert "Traceback" not in server.stderr


def test_server_outlives_a_stderr_reader_that_left(hand_made):
    # `sseq serve FILE 2>&1 | grep -m1 listening`: the reader goes away.
    proc = subprocess.Popen(SSEQ + ["serve", str(hand_made)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        line = b""
        while b"listening on" not in line:
            line = proc.stderr.readline()
            assert line, "sseq serve ended before listening"
        url = re.search(rb"(http://\S+?)/?$", line.strip()).group(1).decode()
        proc.stderr.close()
        server = Serving(proc, url, [])
        for _ in range(3):  # each request's log line now fails to be written
            status, _, body, complete = fetch(server)
            assert (status, body, complete) == (200, HAND_MADE_WIRE, True)
        assert proc.poll() is None
    finally:
        proc.terminate()
        assert proc.wait(10) == 130


def test_usage_errors_say_what_to_do(tmp_path):
    result = run_sseq("serve")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == "sseq serve: error: nothing to serve: give a FILE or --route PATH=FILE"
    result = run_sseq("serve", "--route", "v1=x.ndjson")
    assert result.returncode == 2 and "expected PATH=FILE" in result.stderr.decode()
    result = run_sseq("serve", tmp_path / "missing.ndjson")
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"sseq serve: error: {tmp_path / 'missing.ndjson'}: no such file"
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b'{"event":"message","data":"ok"}\n{"event": oops\n')
    result = run_sseq("serve", bad)
    assert result.returncode == 1 and f"{bad}:2: not JSON" in result.stderr.decode()
    assert result.stdout == b""


def test_port_in_use_is_a_network_error(hand_made):
    with serving(hand_made) as server:
        result = run_sseq("serve", "--port", server.port, hand_made)
    assert result.returncode == 4
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr.decode()


def test_listens_on_loopback_unless_told_and_warns_otherwise(hand_made):
    with serving(hand_made) as server:
        assert server.host == "127.0.0.1"
        assert "warning" not in server.stderr
    with serving("--host", "0.0.0.0", hand_made) as server:
        assert "warning: listening on 0.0.0.0: reachable from other machines" in server.stderr
        status, _, body, _ = fetch(Serving(server.proc, f"http://127.0.0.1:{server.port}", []))
        assert (status, body) == (200, HAND_MADE_WIRE)


def test_quiet_prints_only_the_url(hand_made):
    with serving("-q", hand_made) as server:
        fetch(server)
        assert server.stop() == 130
        lines = server.lines
    assert len(lines) == 1 and lines[0].startswith("sseq serve: listening on http://127.0.0.1:")


def test_gzip_recording_is_served(tmp_path):
    import gzip

    path = tmp_path / "hand.ndjson.gz"
    path.write_bytes(gzip.compress(HAND_MADE))
    with serving(path) as server:
        assert fetch(server)[2] == HAND_MADE_WIRE


def test_route_file_changes_after_start_are_not_seen(hand_made):
    with serving(hand_made) as server:
        hand_made.write_bytes(b'{"event":"message","data":"changed"}\n')
        assert fetch(server)[2] == HAND_MADE_WIRE
        os.remove(hand_made)
        assert fetch(server)[2] == HAND_MADE_WIRE


def test_head_gets_headers_only(hand_made):
    with serving(hand_made) as server:
        reply = raw_exchange(server, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"text/event-stream" in head
    assert rest == b""


def test_records_json_bytes_go_out_as_recorded(tmp_path):
    # Key order and spacing of a recorded JSON payload survive serve.
    path = tmp_path / "spacing.ndjson"
    path.write_bytes(b'{"event":"message","data":{"b": 1,  "a" :[1,2]}}\n')
    with serving("--no-ids", path) as server:
        assert fetch(server)[2] == b'data: {"b": 1,  "a" :[1,2]}\n\n'
    assert orjson.loads(b'{"b": 1,  "a" :[1,2]}') == {"b": 1, "a": [1, 2]}
