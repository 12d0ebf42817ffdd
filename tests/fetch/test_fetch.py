"""sseq fetch against a real server on 127.0.0.1 that drips bytes the way
real servers do.  Each test runs the command line as a user does and
asserts stdout, stderr and the exit status apart."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import threading
import time

from helpers import ROOT, SSEQ, run_sseq
from helpers.http_servers import event
from helpers.records import events_of, records


def fetch(*args, **kwargs):
    return run_sseq("fetch", *args, **kwargs)


TEXT = ["héllo wörld", "日本語のテキスト", "emoji 🎉🚀 end", "plain"]


def test_chunk_boundaries_mid_line_and_mid_utf8_change_nothing(drip_server, tmp_path):
    wire = b"".join(
        event(json.dumps({"text": t}, ensure_ascii=False), event="delta", id=str(n)) for n, t in enumerate(TEXT, 1)
    ) + event("[DONE]")
    wire = wire.replace(b"\n", b"\r\n", 3)  # CRLF too, split between reads below

    @drip_server.route("/drip")
    def drip(x):
        x.start()
        x.drip(wire, size=1, pause=0.0005)  # every byte its own chunk: mid-line, mid-character, mid-CRLF

    raw = tmp_path / "wire.sse"
    result = fetch(drip_server.url("/drip"), "--raw", raw)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    recs = records(result.stdout)
    assert recs[0]["event"] == "sseq.open" and recs[-1]["event"] == "sseq.close"
    assert [r["data"] for r in events_of(recs)] == [{"text": t} for t in TEXT] + ["[DONE]"]
    assert [r.get("id") for r in events_of(recs)] == ["1", "2", "3", "4", "4"]
    assert recs[-1]["data"] == {"reason": "eof", "events": 5, "bytes": len(wire), "error": None, "status": 200}
    assert raw.read_bytes() == wire


def test_data_bytes_are_kept_exactly(drip_server):
    payload = b'{"b": 1,   "a":"\\u00e9"}'

    @drip_server.route("/exact")
    def exact(x):
        x.start()
        x.send_split(b"data: " + payload + b"\n\n", [9, 17])

    result = fetch(drip_server.url("/exact"))
    line = result.stdout.splitlines()[1]
    assert line.endswith(b',"data":' + payload + b"}")


def test_keepalive_comments_only_with_all(drip_server):
    @drip_server.route("/ka")
    def keepalive(x):
        x.start()
        x.send(b": PING\n\n")
        x.send(b"retry: 1500\n\n")
        x.send(event("one"))
        x.send(b": PING\n\n")

    plain = fetch(drip_server.url("/ka"))
    assert [r["event"] for r in records(plain.stdout)] == ["sseq.open", "message", "sseq.close"]
    full = fetch(drip_server.url("/ka"), "--all")
    recs = records(full.stdout)
    assert [r["event"] for r in recs] == ["sseq.open", "sseq.comment", "sseq.retry", "message", "sseq.comment", "sseq.close"]
    assert recs[1]["data"] == " PING" and recs[2]["retry"] == 1500
    assert recs[-1]["data"]["events"] == 1
    assert plain.returncode == full.returncode == 0


def test_keepalives_count_as_traffic_for_the_idle_timeout(drip_server):
    @drip_server.route("/slow")
    def slow(x):
        x.start()
        for _ in range(8):
            x.send(b": keep-alive\n\n")
            time.sleep(0.15)
        x.send(event("finally"))

    result = fetch(drip_server.url("/slow"), "--idle-timeout", "0.6")
    assert result.returncode == 0, result.stderr
    assert [r["data"] for r in events_of(records(result.stdout))] == ["finally"]


def test_identity_is_asked_for_and_gzip_only_when_the_user_asks(drip_server):
    @drip_server.route("/enc")
    def enc(x):
        x.start()
        x.send(event(x.headers.get("accept-encoding", "")))

    plain = fetch(drip_server.url("/enc"))
    assert [r["data"] for r in events_of(records(plain.stdout))] == ["identity"]
    asked = fetch(drip_server.url("/enc"), "-H", "Accept-Encoding: gzip")
    assert [r["data"] for r in events_of(records(asked.stdout))] == ["gzip"]
    assert records(asked.stdout)[0]["data"]["request"]["headers"]["accept-encoding"] == "gzip"


def test_gzip_content_encoding_is_decoded(drip_server, tmp_path):
    wire = event('{"n":1}', id="1") + event("déjà vu", id="2")

    @drip_server.route("/gz")
    def gz(x):
        assert x.headers["accept-encoding"] == "gzip, deflate"
        x.start(gzip=True)
        x.drip(wire, size=7, pause=0.001)

    raw = tmp_path / "raw.sse"
    result = fetch(drip_server.url("/gz"), "--raw", raw, "-H", "Accept-Encoding: gzip, deflate")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    assert recs[0]["data"]["headers"]["content-encoding"] == "gzip"
    assert [r["data"] for r in events_of(recs)] == [{"n": 1}, "déjà vu"]
    assert raw.read_bytes() == wire  # after content decoding
    assert recs[-1]["data"]["bytes"] == len(wire)


def test_open_record_describes_the_exchange(drip_server, tmp_path):
    body = b'{"model": "gpt-test", "stream": true}'

    @drip_server.route("/v1/responses")
    def responses(x):
        x.start(headers=[("x-ratelimit-remaining-tokens", "9990"), ("anthropic-ratelimit-tokens-limit", "8000"),
                         ("retry-after", "0"), ("X-Request-Id", "req_1")])
        x.send(event('{"type":"response.completed"}', event="response.completed"))

    req = tmp_path / "req.json"
    req.write_bytes(body)
    result = fetch(drip_server.url("/v1/responses"), "--json", "-d", f"@{req}")
    assert result.returncode == 0, result.stderr
    opened = records(result.stdout)[0]
    assert opened["t"] == 0.0
    data = opened["data"]
    assert data["method"] == "POST" and data["status"] == 200 and data["http_version"] == "HTTP/1.1"
    assert data["url"] == drip_server.url("/v1/responses")
    sent = data["request"]
    assert {k: sent[k] for k in ("method", "path", "query", "json", "bytes", "sha256", "model")} == {
        "method": "POST", "path": "/v1/responses", "query": "", "json": {"model": "gpt-test", "stream": True},
        "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), "model": "gpt-test"}
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["content-length"] == str(len(body))
    assert data["labels"] == {} and data["host"] == socket.gethostname()
    headers = data["headers"]
    assert headers["x-ratelimit-remaining-tokens"] == "9990"
    assert headers["anthropic-ratelimit-tokens-limit"] == "8000"
    assert headers["retry-after"] == "0" and headers["x-request-id"] == "req_1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["started"])
    received = drip_server.requests_to("/v1/responses")[0]
    assert received.body == body
    assert received.headers["content-type"] == "application/json"
    assert "text/event-stream" in received.headers["accept"]


def test_jq_body_edits_the_request_and_headers_come_from_a_file(drip_server, tmp_path):
    req = tmp_path / "req.json"
    req.write_text('{"model": "a", "input": "hi"}')
    header_file = tmp_path / "headers"
    header_file.write_text("# my headers\nX-Team: blue\n\nX-Trace: 7\n")
    result = fetch(drip_server.url("/echo"), "-d", f"@{req}", "--jq-body", '.model = "b" | .stream = true',
                   "-H", f"@{header_file}", "-H", "X-Extra: 1")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    echo = events_of(recs)[0]["data"]
    assert echo["method"] == "POST"
    assert json.loads(echo["body"]) == {"model": "b", "input": "hi", "stream": True}
    assert echo["headers"]["x-team"] == "blue" and echo["headers"]["x-trace"] == "7" and echo["headers"]["x-extra"] == "1"
    assert echo["headers"]["content-type"] == "application/json"
    assert recs[0]["data"]["request"]["model"] == "b"


def test_body_from_stdin_and_method(drip_server):
    result = fetch(drip_server.url("/echo"), "-X", "PUT", "-d", "@-", input=b"from stdin")
    echo = events_of(records(result.stdout))[0]["data"]
    assert echo["method"] == "PUT" and echo["body"] == "from stdin"
    assert records(result.stdout)[0]["data"]["request"]["model"] is None


def test_http_500_gives_the_providers_message_and_exit_3(drip_server):
    @drip_server.route("/boom")
    def boom(x):
        x.json({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}},
               status=500)

    result = fetch(drip_server.url("/boom"))
    assert result.returncode == 3
    assert result.stderr == (
        b"sseq fetch: error: HTTP 500 Internal Server Error: The server had an error while processing your request.\n"
    )
    recs = records(result.stdout)
    assert [r["event"] for r in recs] == ["sseq.open", "sseq.close"]
    assert recs[0]["data"]["status"] == 500
    close = recs[1]["data"]
    assert close["reason"] == "http-error" and close["status"] == 500
    assert json.loads(close["body"])["error"]["type"] == "server_error"


def test_429_is_retried_after_retry_after(drip_server):
    times = []

    @drip_server.route("/limited")
    def limited(x):
        times.append(time.monotonic())
        if len(times) == 1:
            x.json({"error": {"message": "Rate limit reached", "type": "rate_limit"}}, status=429,
                   headers=[("Retry-After", "1")])
            return
        x.start()
        x.send(event("ok"))

    result = fetch(drip_server.url("/limited"), "--retry", "2")
    assert result.returncode == 0, result.stderr
    assert len(times) == 2 and times[1] - times[0] >= 0.95
    recs = records(result.stdout)
    assert [r["event"] for r in recs] == ["sseq.open", "message", "sseq.close"]
    assert recs[0]["data"]["status"] == 200
    assert b"HTTP 429" in result.stderr and b"retrying in 1 s (Retry-After)" in result.stderr

    quiet = fetch(drip_server.url("/limited"), "--retry", "2", "-q")
    assert quiet.returncode == 0 and quiet.stderr == b""


def test_429_without_retry_is_an_http_error(drip_server):
    @drip_server.route("/limited")
    def limited(x):
        x.json({"error": {"message": "Rate limit reached for requests"}}, status=429, headers=[("Retry-After", "20")])

    result = fetch(drip_server.url("/limited"))
    assert result.returncode == 3
    assert result.stderr == b"sseq fetch: error: HTTP 429 Too Many Requests: Rate limit reached for requests\n"
    assert records(result.stdout)[0]["data"]["headers"]["retry-after"] == "20"


def test_5xx_is_retried_with_backoff_then_gives_up(drip_server):
    @drip_server.route("/down")
    def down(x):
        x.json({"error": {"message": "overloaded", "type": "overloaded_error"}}, status=529)

    start = time.monotonic()
    result = fetch(drip_server.url("/down"), "--retry", "2")
    assert result.returncode == 3
    assert len(drip_server.requests_to("/down")) == 3
    assert time.monotonic() - start >= 1.5  # 0.5 s, then 1 s
    assert result.stderr.count(b"retrying in") == 2
    assert result.stderr.endswith(b"sseq fetch: error: HTTP 529: overloaded\n")
    assert [r["event"] for r in records(result.stdout)] == ["sseq.open", "sseq.close"]


def test_json_answer_instead_of_a_stream(drip_server):
    @drip_server.route("/v1/chat/completions")
    def completions(x):
        x.json({"id": "chatcmpl-1", "object": "chat.completion", "choices": []})

    result = fetch(drip_server.url("/v1/chat/completions"), "--json", "-d", '{"model":"m"}')
    assert result.returncode == 1
    assert b"answered with JSON" in result.stderr and b'"stream": true' in result.stderr
    assert len(result.stderr.splitlines()) == 1
    recs = records(result.stdout)
    assert [r["event"] for r in recs] == ["sseq.open", "sseq.close"]
    assert json.loads(recs[1]["data"]["body"])["object"] == "chat.completion"


def test_in_band_error_inside_a_200(drip_server):
    @drip_server.route("/inband")
    def inband(x):
        x.start()
        x.send(event('{"type":"message_start"}', event="message_start"))
        x.send(event('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', event="error"))

    result = fetch(drip_server.url("/inband"))
    assert result.returncode == 3
    assert result.stderr == b"sseq fetch: error: the stream reported an error: Overloaded\n"
    recs = records(result.stdout)
    assert [r["event"] for r in recs] == ["sseq.open", "message_start", "error", "sseq.close"]
    assert recs[-1]["data"]["error"] == "the stream reported an error: Overloaded"


def test_connection_refused_is_one_line_and_exit_4():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/x")
    assert result.returncode == 4
    assert result.stdout == b""
    assert result.stderr == f"sseq fetch: error: connection refused by 127.0.0.1:{port}\n".encode()


def test_dns_failure_is_one_line_and_exit_4():
    result = fetch("http://no-such-host.invalid/x", "--connect-timeout", "5")
    assert result.returncode == 4
    assert result.stdout == b""
    assert result.stderr == b"sseq fetch: error: cannot resolve host no-such-host.invalid\n"


def test_no_answer_within_the_idle_timeout(drip_server):
    @drip_server.route("/mute")
    def mute(x):
        x.stall(10)

    start = time.monotonic()
    result = fetch(drip_server.url("/mute"), "--idle-timeout", "0.5")
    assert time.monotonic() - start < 5
    assert result.returncode == 4
    assert result.stdout == b""
    assert result.stderr == f"sseq fetch: error: 127.0.0.1:{drip_server.port} sent no answer within 0.5 s\n".encode()


def test_idle_timeout_keeps_every_event_before_it(drip_server):
    @drip_server.route("/stall")
    def stall(x):
        x.start()
        x.send(event("one", id="1"))
        x.send(event("two", id="2") + b"data: half of thr")
        x.stall(10)

    start = time.monotonic()
    result = fetch(drip_server.url("/stall"), "--idle-timeout", "0.5")
    assert time.monotonic() - start < 5
    assert result.returncode == 4
    assert result.stderr == b"sseq fetch: error: no data for 0.5 s (--idle-timeout)\n"
    recs = records(result.stdout)
    assert [r["data"] for r in events_of(recs)] == ["one", "two"]
    assert recs[-1]["event"] == "sseq.close"
    assert recs[-1]["data"]["reason"] == "idle-timeout" and recs[-1]["data"]["events"] == 2


def test_max_time_bounds_a_stream_that_never_ends(drip_server):
    @drip_server.route("/forever")
    def forever(x):
        x.start()
        for n in range(1000):
            x.send(event(str(n)))
            time.sleep(0.05)

    start = time.monotonic()
    result = fetch(drip_server.url("/forever"), "--max-time", "0.6")
    took = time.monotonic() - start
    assert took < 5
    assert result.returncode == 4
    assert result.stderr == b"sseq fetch: error: --max-time 0.6 s reached\n"
    recs = records(result.stdout)
    assert len(events_of(recs)) >= 3
    assert recs[-1]["data"]["reason"] == "max-time"
    assert 0.5 <= recs[-1]["t"] <= 1.5


def test_until_done_stops_at_the_terminal_marker(drip_server):
    @drip_server.route("/chat")
    def chat(x):
        x.start()
        x.send(event('{"choices":[{"delta":{"content":"Hi"}}]}'))
        x.send(event("[DONE]"))
        x.stall(20)  # a server that keeps the connection open

    start = time.monotonic()
    result = fetch(drip_server.url("/chat"), "--until-done")
    assert time.monotonic() - start < 5
    assert result.returncode == 0 and result.stderr == b""
    recs = records(result.stdout)
    assert [r["data"] for r in events_of(recs)][-1] == "[DONE]"
    assert recs[-1]["data"]["reason"] == "done"


def test_until_done_warns_when_the_stream_ends_before_the_marker(drip_server):
    @drip_server.route("/short")
    def short(x):
        x.start()
        x.send(event('{"choices":[{"delta":{"content":"Hi"}}]}'))

    result = fetch(drip_server.url("/short"), "--until-done")
    assert result.returncode == 0
    assert result.stderr == b"sseq fetch: the stream ended before its terminal marker\n"
    assert records(result.stdout)[-1]["data"]["reason"] == "eof"


def test_redirect_to_another_host_drops_every_secret(drip_server):
    target = drip_server.url("/echo", host="localhost")
    secrets = ["Authorization: Bearer sk-test-0123456789", "x-api-key: key-0123456789", "x-goog-api-key: goog-0123456789",
               "Cookie: session=cookie-0123456789", "X-Auth-Token: tok-0123456789"]
    args = [a for h in secrets for a in ("-H", h)]
    result = fetch(drip_server.url("/redirect") + f"?to={target}", *args, "-H", "X-Plain: visible")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    assert recs[0]["data"]["final_url"] == target
    received = events_of(recs)[0]["data"]["headers"]
    assert received["host"] == f"localhost:{drip_server.port}"
    assert received["x-plain"] == "visible"
    for name in ("authorization", "x-api-key", "x-goog-api-key", "cookie", "x-auth-token"):
        assert name not in received
    assert b"0123456789" not in result.stdout + result.stderr


def test_redirect_on_the_same_host_keeps_the_key(drip_server):
    target = drip_server.url("/echo")
    result = fetch(drip_server.url("/redirect") + f"?to={target}", "-H", "x-api-key: key-0123456789")
    received = events_of(records(result.stdout))[0]["data"]["headers"]
    assert received["x-api-key"] == "key-0123456789"


def _gated_route(server, chunked=True):
    gate = threading.Event()
    waited = []

    @server.route("/gated")
    def gated(x):
        x.start(chunked=chunked)
        x.send(event("first"))
        waited.append(x.wait_for(gate, timeout=10))
        x.send(event("second"))

    return gate, waited


def _read_record(stream) -> dict:
    line = stream.readline()
    assert line, "fetch ended early"
    return json.loads(line)


def test_each_record_is_written_as_soon_as_it_arrives(drip_server):
    for chunked in (True, False):  # chunked, and a body that ends when the connection closes
        gate, waited = _gated_route(drip_server, chunked)
        proc = subprocess.Popen(SSEQ + ["fetch", drip_server.url("/gated")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=ROOT)
        try:
            assert _read_record(proc.stdout)["event"] == "sseq.open"
            assert _read_record(proc.stdout)["data"] == "first"
            assert not gate.is_set() and waited == []  # the server has not sent the second event yet
            gate.set()
            assert _read_record(proc.stdout)["data"] == "second"
            out = proc.stdout.read()  # not communicate(): it would miss what readline() buffered
            err = proc.stderr.read()
            proc.wait(timeout=10)
        finally:
            proc.kill()
        assert waited == [True]
        assert proc.returncode == 0 and err == b""
        assert json.loads(out)["data"]["reason"] == "eof"


def test_output_file_and_a_full_disk(drip_server, tmp_path):
    @drip_server.route("/s")
    def s(x):
        x.start()
        x.send(event("one"))

    out = tmp_path / "run.ndjson"
    result = fetch(drip_server.url("/s"), "-o", out)
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b""
    assert [r["event"] for r in records(out.read_bytes())] == ["sseq.open", "message", "sseq.close"]

    full = fetch(drip_server.url("/s"), "-o", "/dev/full")
    assert full.returncode == 1
    assert full.stderr == b"sseq fetch: error: cannot write to /dev/full: No space left on device\n"
    assert full.stdout == b""


def test_raw_data_keeps_json_as_a_string(drip_server):
    @drip_server.route("/s")
    def s(x):
        x.start()
        x.send(event('{"a": 1}'))

    result = fetch(drip_server.url("/s"), "--raw-data")
    assert events_of(records(result.stdout))[0]["data"] == '{"a": 1}'


def test_usage_errors_exit_2_and_never_repeat_a_header_value():
    bad_url = fetch("ftp://example.com/")
    assert bad_url.returncode == 2
    assert bad_url.stderr == b"sseq fetch: error: 'ftp://example.com/': the URL must start with http:// or https://\n"
    bad_header = fetch("http://127.0.0.1:9/", "-H", "Authorization Bearer sk-secret-value")
    assert bad_header.returncode == 2
    assert b"sk-secret-value" not in bad_header.stderr
    assert bad_header.stderr == b"sseq fetch: error: -H: not a header (expected 'Name: value')\n"
    bad_jq = fetch("http://127.0.0.1:9/", "-d", "{}", "--jq-body", ".[")
    assert bad_jq.returncode == 2 and bad_jq.stderr.startswith(b"sseq fetch: error: --jq-body: ")
    not_json = fetch("http://127.0.0.1:9/", "-d", "plain", "--jq-body", ".")
    assert not_json.returncode == 2 and b"not JSON" in not_json.stderr
    missing = fetch("http://127.0.0.1:9/", "-d", "@/no/such/file")
    assert missing.returncode == 1 and missing.stderr == b"sseq fetch: error: /no/such/file: no such file\n"


def _stderr_on_a_terminal(args) -> tuple[int, bytes, bytes]:
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(SSEQ + ["fetch", *args], stdout=subprocess.PIPE, stderr=slave, cwd=ROOT)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out = proc.stdout.read()
    proc.wait(timeout=10)
    return proc.returncode, out, seen


def test_progress_on_stderr_only_when_it_is_a_terminal(drip_server):
    @drip_server.route("/p")
    def p(x):
        x.start()
        for n in range(3):
            x.send(event(str(n)))
            time.sleep(0.15)

    status, out, tty = _stderr_on_a_terminal([drip_server.url("/p")])
    assert status == 0 and len(records(out)) == 5
    assert re.search(rb"sseq fetch: \d events, \d+ B, \d+\.\d s, first event after \d\.\d\d s", tty), tty
    assert tty.endswith(b"\r\x1b[K")  # the line is cleared at the end
    status, out, tty = _stderr_on_a_terminal([drip_server.url("/p"), "-q"])
    assert status == 0 and tty == b""
    piped = fetch(drip_server.url("/p"))
    assert piped.returncode == 0 and piped.stderr == b""


def test_raw_file_on_a_full_disk(drip_server):
    @drip_server.route("/s")
    def s(x):
        x.start()
        x.send(event("one"))

    result = fetch(drip_server.url("/s"), "--raw", "/dev/full")
    assert result.returncode == 1
    assert result.stderr == b"sseq fetch: error: cannot write to /dev/full: No space left on device\n"


def test_an_event_over_the_size_limit_is_an_error_after_the_events_before_it(drip_server):
    @drip_server.route("/big")
    def big(x):
        x.start()
        x.send(event("small"))
        x.send(b"data: " + b"x" * 5000 + b"\n\n")
        x.send(event("after"))

    result = fetch(drip_server.url("/big"), "--max-event-size", "1K")
    assert result.returncode == 1
    assert b"event larger than 1024 bytes" in result.stderr and len(result.stderr.splitlines()) == 1
    recs = records(result.stdout)
    assert [r["data"] for r in events_of(recs)] == ["small"]
    assert recs[-1]["event"] == "sseq.close" and recs[-1]["data"]["events"] == 1


def test_header_forms_and_last_event_id(drip_server):
    result = fetch(drip_server.url("/echo"), "-H", "Accept-Encoding:", "-H", "X-Empty;", "-H", "User-Agent: mine/1",
                   "--last-event-id", "41")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    got = events_of(recs)[0]["data"]["headers"]
    assert got["x-empty"] == "" and got["user-agent"] == "mine/1" and got["last-event-id"] == "41"
    assert "gzip" not in got.get("accept-encoding", "")
    assert events_of(recs)[0]["id"] == "41"  # the stream goes on from the id it resumed


def test_https_with_a_trusted_and_an_untrusted_certificate(tmp_path):
    import os

    from helpers.http_servers import DripServer, make_certificate

    cert, key = make_certificate(tmp_path)
    with DripServer(tls=(cert, key)) as server:
        @server.route("/s")
        def s(x):
            x.start()
            x.send(event("secure", id="1"))
            x.stall(10)

        untrusted = fetch(server.url("/s"))
        assert untrusted.returncode == 4 and untrusted.stdout == b""
        assert untrusted.stderr.startswith(f"sseq fetch: error: TLS error with 127.0.0.1:{server.port}: ".encode())
        assert b"certificate verify failed" in untrusted.stderr and len(untrusted.stderr.splitlines()) == 1

        env = dict(os.environ, REQUESTS_CA_BUNDLE=cert)
        trusted = fetch(server.url("/s"), "--idle-timeout", "0.5", env=env)
        assert trusted.returncode == 4, trusted.stderr
        assert trusted.stderr == b"sseq fetch: error: no data for 0.5 s (--idle-timeout)\n"
        recs = records(trusted.stdout)
        assert [r["data"] for r in events_of(recs)] == ["secure"]
        assert recs[-1]["data"]["reason"] == "idle-timeout"


def test_a_page_instead_of_a_stream(drip_server):
    @drip_server.route("/portal")
    def portal(x):
        x.start(content_type="text/html; charset=utf-8")
        x.send(b"<html><body>Please log in\n")
        x.send(b"</body></html>")  # no line end: a page, not a block left unfinished

    @drip_server.route("/mislabelled")
    def mislabelled(x):
        x.start(content_type="text/plain")
        x.send(event("still SSE"))

    page = fetch(drip_server.url("/portal"))
    assert page.returncode == 1
    assert page.stderr == b"sseq fetch: error: expected an event stream, the server answered with text/html and no events\n"
    close = records(page.stdout)[-1]["data"]
    assert close["reason"] == "eof" and "unfinished_block" not in close
    assert close["body"] == "<html><body>Please log in\n</body></html>"  # the answer, for a cassette to replay
    plain = fetch(drip_server.url("/mislabelled"))
    assert plain.returncode == 0 and plain.stderr == b""
    assert [r["data"] for r in events_of(records(plain.stdout))] == ["still SSE"]
    assert "body" not in records(plain.stdout)[-1]["data"]
