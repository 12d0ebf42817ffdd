"""What `--record` writes: one cassette recording per exchange, named so a
person can find it, secrets in no file, and clients at once kept apart."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers.http_servers import DripServer, event
from helpers.proxying import recordings, wait_for_recordings

from sseq.proxy.server import ProxyServer
from sseq.usage.streams import iter_file_usages

KEY = "sk-proj-Secret0123456789abcdef"
GOOGLE_KEY = "AIzaSyThisIsNotARealKey0123"


def request(url, method, path, body: bytes | None, headers=None):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def upstream():
    with DripServer() as server:
        @server.route("/v1/chat/completions")
        def chat(x):
            n = json.loads(x.body or b"{}").get("n", 0)
            x.start(headers=[("Set-Cookie", f"session={KEY}"), ("x-request-id", f"req_{n}")])
            for i in range(5):
                x.send(event(json.dumps({"id": f"chatcmpl-{n}", "choices": [{"index": 0, "delta": {"content": f"{n}.{i}"}}]})))
            x.send(event(json.dumps({"id": f"chatcmpl-{n}", "choices": [], "usage": {
                "prompt_tokens": n, "completion_tokens": 5, "total_tokens": n + 5}})))
            x.send(event("[DONE]"))

        @server.route("/v1beta/models/gemini-2.5-flash:streamGenerateContent")
        def gemini(x):
            x.start()
            x.send(event(json.dumps({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
                                     "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}})))

        yield server


def test_a_recording_holds_the_request_as_sent_the_host_the_labels_and_the_answer(upstream, tmp_path):
    with ProxyServer(upstream.url(), record=str(tmp_path), labels={"team": "search"}) as proxy:
        status, _ = request(proxy.url, "POST", "/v1/chat/completions", b'{"model": "gpt-4o", "n": 1}',
                            {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    assert status == 200
    records = wait_for_recordings(tmp_path, 1)
    (name, recording), = records.items()
    assert name == "POST-v1-chat-completions-" + __import__("hashlib").sha256(b'{"model": "gpt-4o", "n": 1}').hexdigest()[:8] + "-0.ndjson"
    opened = recording[0]["data"]
    assert opened["url"] == upstream.url("/v1/chat/completions") and opened["status"] == 200
    assert opened["headers"]["x-request-id"] == "req_1" and opened["headers"]["set-cookie"] == "[redacted]"
    assert opened["host"] and opened["labels"] == {"team": "search"}
    req = opened["request"]
    assert (req["method"], req["path"], req["query"], req["model"], req["sequence"]) == (
        "POST", "/v1/chat/completions", "", "gpt-4o", 0)
    assert req["json"] == {"model": "gpt-4o", "n": 1} and req["bytes"] == 27
    assert req["headers"]["authorization"] == "[redacted]"
    (usage,) = iter_file_usages(str(tmp_path / name))
    assert (usage.input_tokens, usage.output_tokens, usage.verdict) == (1, 5, "complete")


def test_secrets_are_in_no_file_and_reach_the_upstream_untouched(upstream, tmp_path):
    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        request(proxy.url, "POST", "/v1/chat/completions",
                json.dumps({"model": "m", "api_key": KEY, "metadata": {"apiKey": KEY, "note": f"key {KEY}"}}).encode(),
                {"Authorization": f"Bearer {KEY}", "X-Api-Key": KEY, "Cookie": f"session={KEY}"})
        request(proxy.url, "POST", f"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key={GOOGLE_KEY}",
                b'{"contents": []}', {"x-goog-api-key": GOOGLE_KEY})
    found = wait_for_recordings(tmp_path, 2)
    assert len(found) == 2
    for path in tmp_path.iterdir():
        text = path.read_text()
        assert KEY not in text and GOOGLE_KEY not in text, path.name
        assert "[redacted]" in text
    chat = upstream.requests_to("/v1/chat/completions")[0]
    assert chat.headers["authorization"] == f"Bearer {KEY}" and json.loads(chat.body)["api_key"] == KEY
    gemini = upstream.requests_to("/v1beta/models/gemini-2.5-flash:streamGenerateContent")[0]
    assert gemini.query["key"] == GOOGLE_KEY
    gemini_name = next(n for n in found if n.startswith("POST-v1beta"))
    assert gemini_name.startswith("POST-v1beta-models-gemini-2.5-flash_streamGenerateContent_alt=sse_key=redacted-")
    assert found[gemini_name][0]["data"]["request"]["query"] == "alt=sse&key=[redacted]"


def test_identical_requests_get_numbered_files_in_order(upstream, tmp_path):
    with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
        for _ in range(3):
            request(proxy.url, "POST", "/v1/chat/completions", b'{"n": 2}')
        request(proxy.url, "GET", "/v1/chat/completions", None)
    names = sorted(wait_for_recordings(tmp_path, 4))
    digest = __import__("hashlib").sha256(b'{"n": 2}').hexdigest()[:8]
    empty = __import__("hashlib").sha256(b"").hexdigest()[:8]
    assert names == [f"GET-v1-chat-completions-{empty}-0.ndjson"] + [
        f"POST-v1-chat-completions-{digest}-{n}.ndjson" for n in range(3)]
    assert [recordings(tmp_path)[n][0]["data"]["request"]["sequence"] for n in names[1:]] == [0, 1, 2]


def test_fifty_streaming_clients_at_once_each_get_their_own_complete_recording(tmp_path):
    gate = threading.Barrier(50, timeout=30)

    with DripServer() as upstream:
        @upstream.route("/v1/chat/completions")
        def chat(x):
            n = json.loads(x.body)["n"]
            x.start()
            x.send(event(json.dumps({"id": f"c{n}", "choices": [{"index": 0, "delta": {"content": "start"}}]})))
            try:
                gate.wait()  # every stream is open at the same time
            except threading.BrokenBarrierError:
                pass
            for i in range(20):
                x.send(event(json.dumps({"id": f"c{n}", "choices": [{"index": 0, "delta": {"content": f"{n}:{i} "}}]})))
            x.send(event(json.dumps({"id": f"c{n}", "choices": [], "usage": {
                "prompt_tokens": n, "completion_tokens": 20, "total_tokens": n + 20}})))
            x.send(event("[DONE]"))

        with ProxyServer(upstream.url(), record=str(tmp_path)) as proxy:
            with ThreadPoolExecutor(50) as pool:
                answers = list(pool.map(lambda n: request(proxy.url, "POST", "/v1/chat/completions",
                                                          json.dumps({"n": n}).encode()), range(50)))
    for n, (status, body) in enumerate(answers):
        assert status == 200
        datas = [json.loads(line[6:]) for line in body.split(b"\n") if line.startswith(b"data: {")]
        assert [d["choices"][0]["delta"]["content"] for d in datas if d["choices"]][1:] == [f"{n}:{i} " for i in range(20)]
    found = wait_for_recordings(tmp_path, 50)
    assert len(found) == 50
    seen = set()
    for name, records in found.items():
        n = records[0]["data"]["request"]["json"]["n"]
        seen.add(n)
        texts = [r["data"]["choices"][0]["delta"]["content"] for r in records[1:-1]
                 if type(r["data"]) is dict and r["data"]["choices"]]
        assert texts == ["start"] + [f"{n}:{i} " for i in range(20)], name
        assert records[-1]["data"]["reason"] == "eof" and records[-1]["data"]["events"] == 23
        assert records[-3]["data"]["usage"]["prompt_tokens"] == n
    assert seen == set(range(50))


def test_without_record_nothing_is_written(upstream, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with ProxyServer(upstream.url()) as proxy:
        status, _ = request(proxy.url, "POST", "/v1/chat/completions", b'{"n": 3}')
    assert status == 200 and list(tmp_path.iterdir()) == []


def test_an_event_over_the_size_limit_is_relayed_whole_and_the_recording_says_it_stopped(tmp_path):
    big = event(json.dumps({"text": "x" * 5000}))
    with DripServer() as upstream:
        @upstream.route("/v1/chat/completions")
        def chat(x):
            x.start()
            x.send(event('{"n": 1}'))
            x.send(big)
            x.send(event("[DONE]"))

        with ProxyServer(upstream.url(), record=str(tmp_path), max_event_size=1000) as proxy:
            status, body = request(proxy.url, "POST", "/v1/chat/completions", b"{}")
    assert status == 200 and body == event('{"n": 1}') + big + event("[DONE]")
    (records,) = wait_for_recordings(tmp_path, 1).values()
    assert [r["event"] for r in records] == ["sseq.open", "message", "sseq.close"]
    assert "over 1000 bytes" in records[-1]["data"]["error"] and records[-1]["data"]["reason"] == "eof"
