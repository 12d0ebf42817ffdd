"""The proxy's relay against a real dripping upstream: what is forwarded,
what the client gets (the upstream's bytes, live), and what happens when
either side goes away."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
import time

import pytest
from helpers.http_servers import DripServer, event
from helpers.proxying import only_recording, wait_for_recordings
from helpers.serving import read_to_end, split_chunked

from sseq.proxy.server import ProxyServer

CHAT_USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def chat_chunk(text: str | None = None, usage=None, finish=None) -> bytes:
    choices = [] if text is None and finish is None else [
        {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}]
    return event(json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o-mini",
                             "choices": choices, "usage": usage}))


def chat_stream() -> bytes:
    return (chat_chunk("Hel") + chat_chunk("lo") + chat_chunk(finish="stop") + chat_chunk(usage=CHAT_USAGE)
            + event("[DONE]"))


def post(url: str, path: str, body: bytes = b'{"model":"gpt-4o-mini","stream":true}', headers=None,
         method: str = "POST"):
    """(status, headers, body, complete?) through a plain HTTP client."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        try:
            data, complete = response.read(), True
        except http.client.IncompleteRead as exc:
            data, complete = exc.partial, False
        return response.status, response.headers, data, complete
    finally:
        conn.close()


def wait_log(proxy: ProxyServer, count: int = 1, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while len(proxy.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(proxy.log)


@pytest.fixture
def upstream():
    with DripServer() as server:
        yield server


def test_any_method_path_and_query_reach_the_upstream_with_the_headers_as_sent(upstream, tmp_path):
    @upstream.route("/base/v1/things")
    def things(x):
        x.json({"ok": True, "method": x.method, "query": x.query}, headers=[("x-request-id", "req_1")])

    with ProxyServer(upstream.url("/base"), record=str(tmp_path)) as proxy:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            status, headers, body, _ = post(proxy.url, "/v1/things?a=1&b=two", method=method,
                                            headers={"Authorization": "Bearer sk-live-123456789",
                                                     "X-Custom": "kept", "Connection": "close, X-Hop",
                                                     "X-Hop": "dropped"})
            assert status == 200 and json.loads(body)["method"] == method
            assert json.loads(body)["query"] == {"a": "1", "b": "two"}
            assert headers["x-request-id"] == "req_1"
    seen = upstream.requests_to("/base/v1/things")
    assert [x.method for x in seen] == ["GET", "POST", "PUT", "DELETE", "PATCH"]
    for x in seen:
        # Secrets are forwarded untouched; hop-by-hop headers are this hop's.
        assert x.headers["authorization"] == "Bearer sk-live-123456789"
        assert x.headers["x-custom"] == "kept"
        assert "x-hop" not in x.headers
        assert x.headers["host"] == f"127.0.0.1:{upstream.port}"
    assert x.body == b'{"model":"gpt-4o-mini","stream":true}'


def test_the_client_gets_the_upstreams_bytes_split_mid_line_and_the_recording_its_events(upstream, tmp_path):
    wire = b": keep-alive\n\n" + chat_stream()
    cuts = [3, 17, 40, 41, 42, 100, 101, len(wire) - 3]

    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send_split(wire, cuts, pause=0.005)

    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        status, headers, body, complete = post(proxy.url, "/v1/chat/completions")
        log = wait_log(proxy)
    assert (status, complete, body) == (200, True, wire)
    assert headers["content-type"] == "text/event-stream"
    records = only_recording(tmp_path)
    assert [r["event"] for r in records] == ["sseq.open"] + ["message"] * 5 + ["sseq.close"]
    assert records[-2]["data"] == "[DONE]"
    assert all(type(r["t"]) is float for r in records)
    close = records[-1]["data"]
    assert (close["reason"], close["events"], close["bytes"], close["status"]) == ("eof", 5, len(wire), 200)
    entry = log[0]
    assert (entry.status, entry.model, entry.input_tokens, entry.output_tokens) == (200, "gpt-4o-mini", 11, 7)
    assert entry.recording.endswith(".ndjson")


def test_gzip_answers_reach_the_client_compressed_as_sent_and_are_recorded_decoded(upstream, tmp_path):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start(gzip=True)
        for piece in (chat_chunk("Hel"), chat_chunk("lo"), event("[DONE]")):
            x.send(piece)
            time.sleep(0.01)

    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        with socket.create_connection(proxy.url.removeprefix("http://").split(":"), timeout=10) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                         b"Content-Length: 2\r\n\r\n{}")
            raw = read_to_end(sock)
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head and b"Transfer-Encoding: chunked" in head
    chunks, complete = split_chunked(payload)
    assert complete and len(chunks) >= 3  # one chunk per upstream piece, not one buffered blob
    assert gzip.decompress(b"".join(chunks)) == chat_chunk("Hel") + chat_chunk("lo") + event("[DONE]")
    records = only_recording(tmp_path)
    assert records[0]["data"]["request"]["headers"]["accept-encoding"] == "gzip"
    assert [r["data"]["choices"][0]["delta"]["content"] for r in records[1:3]] == ["Hel", "lo"]


def test_the_first_event_reaches_the_client_within_milliseconds_of_the_upstream_sending_it(upstream):
    sent_at: list[float] = []
    gate = threading.Event()

    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        time.sleep(0.3)
        sent_at.append(time.monotonic())
        x.send(chat_chunk("first"))
        x.wait_for(gate)
        x.send(event("[DONE]"))

    with ProxyServer(upstream.url(), quiet=True) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/v1/chat/completions", body=b"{}")
        response = conn.getresponse()
        first = response.read1()
        arrived = time.monotonic()
        gate.set()
        rest = response.read()
        conn.close()
    assert first == chat_chunk("first")
    assert arrived - sent_at[0] < 0.05, f"the event took {arrived - sent_at[0]:.3f} s through the proxy"
    assert rest == event("[DONE]")


def test_keepalives_reach_the_client_during_three_seconds_of_upstream_silence_and_stay_out_of_the_recording(
        upstream, tmp_path):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.stall(1.6)  # before the first event, as a thinking model does
        x.send(chat_chunk("a"))
        x.stall(3.0)
        x.send(chat_chunk("b") + event("[DONE]"))

    with ProxyServer(upstream.url(), record=str(tmp_path), keepalive=0.5) as proxy:
        started = time.monotonic()
        status, _, body, complete = post(proxy.url, "/v1/chat/completions")
    assert status == 200 and complete
    assert time.monotonic() - started >= 4.5
    first, _, after = body.partition(chat_chunk("a"))
    assert first.count(b": ping\n\n") >= 2 and set(first.split(b": ping\n\n")) == {b""}
    middle, _, tail = after.partition(chat_chunk("b"))
    assert middle.count(b": ping\n\n") >= 5 and set(middle.split(b": ping\n\n")) == {b""}
    assert tail == event("[DONE]")
    records = only_recording(tmp_path)
    assert [r["event"] for r in records] == ["sseq.open", "message", "message", "message", "sseq.close"]
    assert not any("ping" in json.dumps(r) for r in records[1:])


def test_a_keepalive_never_lands_inside_an_event(upstream):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        whole = chat_chunk("split")
        x.send(whole[:20])
        x.stall(1.2)
        x.send(whole[20:] + event("[DONE]"))

    with ProxyServer(upstream.url(), keepalive=0.2, quiet=True) as proxy:
        status, _, body, _ = post(proxy.url, "/v1/chat/completions")
    assert body == chat_chunk("split") + event("[DONE]")


def test_the_client_leaving_mid_stream_does_not_cut_the_recording_short(upstream, tmp_path):
    gate = threading.Event()

    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send(chat_chunk("Hel"))
        x.wait_for(gate)
        time.sleep(0.2)
        for piece in (chat_chunk("lo"), chat_chunk(finish="stop"), chat_chunk(usage=CHAT_USAGE), event("[DONE]")):
            x.send(piece)
            time.sleep(0.05)

    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        seen = b""
        while b"Hel" not in seen:
            seen += sock.recv(65536)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset: the client is gone
        gate.set()
        log = wait_log(proxy)
    records = wait_for_recordings(tmp_path, 1)
    (recording,) = records.values()
    close = recording[-1]["data"]
    assert close["reason"] == "eof" and close["events"] == 5
    assert close["client_left"] > 0
    assert recording[-3]["data"]["usage"] == CHAT_USAGE
    assert log[0].client_left and log[0].output_tokens == 7


@pytest.mark.parametrize("how", ["drop", "reset"])
def test_an_upstream_that_goes_away_gives_the_client_a_broken_body_and_the_recording_says_why(upstream, tmp_path, how):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send(chat_chunk("Hel"))
        time.sleep(0.05)
        x.send(b"data: {\"half")
        time.sleep(0.05)
        x.drop(reset=how == "reset")

    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        status, _, body, complete = post(proxy.url, "/v1/chat/completions")
        wait_log(proxy)
    assert status == 200 and not complete
    assert body.startswith(chat_chunk("Hel"))
    close = only_recording(tmp_path)[-1]["data"]
    assert close["reason"] == "network-error" and close["events"] == 1
    assert "broke" in close["error"] and close["unfinished_block"] is True


def test_an_upstream_that_stalls_past_the_idle_timeout_is_cut_and_the_recording_says_so(upstream, tmp_path):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send(chat_chunk("Hel"))
        x.stall(5)

    with ProxyServer(upstream.url(), record=str(tmp_path), idle_timeout=0.5) as proxy:
        started = time.monotonic()
        status, _, body, complete = post(proxy.url, "/v1/chat/completions")
    assert status == 200 and not complete and time.monotonic() - started < 3
    close = only_recording(tmp_path)[-1]["data"]
    assert close["reason"] == "idle-timeout" and "0.5 s" in close["error"]


def test_max_time_bounds_an_exchange_also_with_keepalives(upstream, tmp_path):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        for _ in range(40):
            x.send(chat_chunk("tick"))
            x.stall(0.1)

    with ProxyServer(upstream.url(), record=str(tmp_path), max_time=1.0, keepalive=0.3) as proxy:
        started = time.monotonic()
        status, _, _, complete = post(proxy.url, "/v1/chat/completions")
    assert not complete and time.monotonic() - started < 2.5
    assert only_recording(tmp_path)[-1]["data"]["reason"] == "max-time"


@pytest.mark.parametrize("connection", [(), (("Connection", "close"),)], ids=["keep-alive", "close"])
def test_max_time_cuts_a_stream_that_stalls_near_its_end_on_time(upstream, tmp_path, connection):
    # (An answer with Connection: close has its socket held by the body's
    # reader alone: each read's wait is still cut to what max-time leaves.)
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start(headers=connection)
        for _ in range(8):
            x.send(chat_chunk("tick"))
            x.stall(0.1)
        x.stall(5)

    with ProxyServer(upstream.url(), record=str(tmp_path), max_time=1.0) as proxy:
        started = time.monotonic()
        status, _, _, complete = post(proxy.url, "/v1/chat/completions")
    assert not complete and time.monotonic() - started < 1.6
    assert only_recording(tmp_path)[-1]["data"]["reason"] == "max-time"


def test_an_upstream_that_refuses_connections_gives_502_with_json_saying_so(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    with ProxyServer(f"http://127.0.0.1:{dead_port}", record=str(tmp_path)) as proxy:
        status, headers, body, _ = post(proxy.url, "/v1/chat/completions")
        log = wait_log(proxy)
    assert status == 502 and headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert "connection refused" in error["message"] and error["code"] == "network-error"
    assert "connection refused" in log[0].describe()
    records = only_recording(tmp_path)
    assert records[-1]["data"]["reason"] == "network-error" and "refused" in records[-1]["data"]["error"]


def test_an_upstream_host_that_does_not_resolve_gives_502(tmp_path):
    with ProxyServer("http://no-such-host.invalid", quiet=True) as proxy:
        status, _, body, _ = post(proxy.url, "/v1/x")
    assert status == 502 and "cannot resolve host no-such-host.invalid" in json.loads(body)["error"]["message"]


def test_an_upstream_that_never_answers_gives_504_not_a_hang(upstream, tmp_path):
    @upstream.route("/slow")
    def slow(x):
        x.stall(5)

    with ProxyServer(upstream.url(), quiet=True, idle_timeout=0.5) as proxy:
        started = time.monotonic()
        status, _, body, _ = post(proxy.url, "/slow")
    assert status == 504 and time.monotonic() - started < 3
    assert "no answer within 0.5 s" in json.loads(body)["error"]["message"]


def test_a_tls_upstream_with_an_untrusted_certificate_gives_502_naming_tls(tmp_path):
    from helpers.http_servers import make_certificate

    with DripServer(tls=make_certificate(tmp_path)) as server:
        with ProxyServer(server.url(), quiet=True) as proxy:
            status, _, body, _ = post(proxy.url, "/echo")
    assert status == 502 and "TLS error" in json.loads(body)["error"]["message"]


def test_a_body_over_the_limit_is_413_and_garbage_is_400_while_another_client_streams_on(upstream, tmp_path):
    gate = threading.Event()

    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send(chat_chunk("Hel"))
        x.wait_for(gate)
        x.send(chat_chunk("lo") + event("[DONE]"))

    with ProxyServer(upstream.url(), record=str(tmp_path), max_body_bytes=1000) as proxy:
        results = {}
        streaming = threading.Thread(target=lambda: results.update(stream=post(proxy.url, "/v1/chat/completions")))
        streaming.start()
        time.sleep(0.2)
        status, _, body, _ = post(proxy.url, "/v1/chat/completions", body=b"x" * 5000)
        assert status == 413
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"\x16\x03\x01 garbage that is not HTTP\r\n\r\n")
            assert read_to_end(sock).startswith(b"HTTP/1.1 400 Bad request")
        gate.set()
        streaming.join(10)
    assert results["stream"][3] and results["stream"][2] == chat_chunk("Hel") + chat_chunk("lo") + event("[DONE]")
    assert len(upstream.requests_to("/v1/chat/completions")) == 1  # the refused requests never left


def test_a_non_stream_answer_and_an_error_are_passed_on_and_recorded_with_status_headers_and_body(upstream, tmp_path):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        if b"fail" in x.body:
            x.json({"error": {"message": "Rate limit reached", "type": "requests"}}, status=429,
                   headers=[("Retry-After", "7"), ("x-request-id", "req_429")])
        else:
            x.json({"id": "chatcmpl-9", "choices": [{"message": {"content": "Hi"}}]})

    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        ok = post(proxy.url, "/v1/chat/completions", body=b'{"model":"m"}')
        limited = post(proxy.url, "/v1/chat/completions", body=b'{"model":"m","fail":1}')
        wait_log(proxy, 2)
    assert ok[0] == 200 and json.loads(ok[2])["id"] == "chatcmpl-9"
    assert limited[0] == 429 and limited[1]["retry-after"] == "7"
    assert json.loads(limited[2])["error"]["message"] == "Rate limit reached"
    recorded = wait_for_recordings(tmp_path, 2)
    by_status = {r[0]["data"]["status"]: r for r in recorded.values()}
    assert by_status[200][-1]["data"]["reason"] == "eof"
    assert json.loads(by_status[200][-1]["data"]["body"])["id"] == "chatcmpl-9"
    error = by_status[429]
    assert len(error) == 2 and error[0]["data"]["headers"]["retry-after"] == "7"
    assert error[0]["data"]["headers"]["x-request-id"] == "req_429"
    assert error[-1]["data"]["reason"] == "http-error"
    assert json.loads(error[-1]["data"]["body"])["error"]["message"] == "Rate limit reached"


def test_an_http_1_0_client_gets_the_body_unchunked_ended_by_the_close(upstream):
    @upstream.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send(chat_chunk("Hel") + event("[DONE]"))

    with ProxyServer(upstream.url(), quiet=True) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}")
            raw = read_to_end(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"chunked" not in head and body == chat_chunk("Hel") + event("[DONE]")


def test_a_204_answer_has_no_body_and_keeps_its_headers(upstream, tmp_path):
    @upstream.route("/v1/files/a")
    def delete(x):
        x.handler.send_response(204)
        x.handler.send_header("x-deleted", "yes")
        x.handler.end_headers()
        x.started = x.finished = True

    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        started = time.monotonic()
        status, headers, body, complete = post(proxy.url, "/v1/files/a", method="DELETE", body=None)
        took = time.monotonic() - started
    assert (status, headers["x-deleted"], body, complete) == (204, "yes", b"", True) and took < 2
    (records,) = wait_for_recordings(tmp_path, 1).values()
    assert records[-1]["data"]["reason"] == "eof" and records[0]["data"]["status"] == 204
