"""The proxy as a gateway: request edits the upstream sees (--jq-body,
--include-usage), the extra usage chunk kept from the client, usage rows
into the ledger as streams finish, and the log line per request."""

from __future__ import annotations

import http.client
import json
import sqlite3
import time

import pytest
from helpers.http_servers import DripServer, event
from helpers.inprocess import invoke
from helpers.proxying import only_recording

from sseq.errors import UsageProblem
from sseq.proxy.server import ProxyServer

USAGE = {"prompt_tokens": 21, "completion_tokens": 3, "total_tokens": 24}


def chunk(text=None, usage=None, with_usage_field=False, finish=None, id="chatcmpl-7") -> bytes:
    choices = [] if text is None and finish is None else [
        {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}]
    value = {"id": id, "object": "chat.completion.chunk", "model": "gpt-4o-mini-2024-07-18",
             "choices": choices}
    if with_usage_field or usage is not None:
        value["usage"] = usage
    return event(json.dumps(value))


@pytest.fixture
def upstream():
    """A Chat upstream that behaves as OpenAI's does: the usage chunk only
    when the request asks for it."""
    with DripServer() as server:
        @server.route("/v1/chat/completions")
        def chat(x):
            asked = json.loads(x.body).get("stream_options", {}).get("include_usage") is True
            id = f"chatcmpl-{len(server.log)}"
            x.start()
            for piece in (chunk("One", with_usage_field=asked, id=id), chunk(" two", with_usage_field=asked, id=id),
                          chunk(finish="stop", with_usage_field=asked, id=id)):
                x.send(piece)
            if asked:
                x.send(chunk(usage=USAGE, id=id))
            x.send(event("[DONE]"))

        yield server


def post(url, path, body: dict):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_log(proxy, count=1, timeout=10):
    deadline = time.monotonic() + timeout
    while len(proxy.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(proxy.log)


def test_jq_body_removes_overrides_and_maps_fields_before_the_upstream_sees_them(upstream, tmp_path):
    expression = 'del(.service_tier, .safety_identifier) | .temperature = 0 | .model |= ({"gpt-4o": "gpt-4o-mini"}[.] // .)'
    with ProxyServer(upstream.url(), record=str(tmp_path), jq_body=expression) as proxy:
        status, _ = post(proxy.url, "/v1/chat/completions",
                         {"model": "gpt-4o", "stream": True, "service_tier": "priority", "safety_identifier": "u1",
                          "temperature": 0.9, "messages": []})
    assert status == 200
    sent = json.loads(upstream.requests_to("/v1/chat/completions")[0].body)
    assert sent == {"model": "gpt-4o-mini", "stream": True, "temperature": 0, "messages": []}
    request = only_recording(tmp_path)[0]["data"]["request"]
    assert request["json"] == sent and request["model"] == "gpt-4o-mini"


def test_jq_body_leaves_a_body_that_is_not_json_alone_and_refuses_a_bad_expression(upstream):
    with ProxyServer(upstream.url(), jq_body=".x = 1", quiet=True) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/echo", body=b"plain words")
        echoed = conn.getresponse().read()
        conn.close()
    assert json.loads(echoed.split(b"data: ", 1)[1])["body"] == "plain words"
    with pytest.raises(UsageProblem, match="--jq-body"):
        ProxyServer(upstream.url(), jq_body=".x = ")


def test_include_usage_asks_for_the_usage_chunk_keeps_it_from_the_client_and_records_it(upstream, tmp_path):
    ledger = tmp_path / "ledger.db"
    with ProxyServer(upstream.url(), record=str(tmp_path / "cas"), include_usage=True, ledger=str(ledger)) as proxy:
        status, body = post(proxy.url, "/v1/chat/completions", {"model": "gpt-4o-mini", "stream": True})
        log = wait_log(proxy)
    assert status == 200
    sent = json.loads(upstream.requests_to("/v1/chat/completions")[0].body)
    assert sent["stream_options"] == {"include_usage": True}
    # The client gets every chunk but the one it did not ask for.
    datas = [line[6:] for line in body.split(b"\n") if line.startswith(b"data: ")]
    assert datas[-1] == b"[DONE]" and len(datas) == 4
    assert all(json.loads(d)["choices"] for d in datas[:-1])
    assert b'"prompt_tokens"' not in body
    records = only_recording(tmp_path / "cas")
    assert [r["data"].get("usage") for r in records[1:-2]][-1] == USAGE
    assert (log[0].input_tokens, log[0].output_tokens) == (21, 3)
    proxy.stop()
    rows = sqlite3.connect(ledger).execute(
        "SELECT model, input_tokens, output_tokens, usage_source, verdict FROM streams").fetchall()
    assert rows == [("gpt-4o-mini-2024-07-18", 21, 3, "reported", "complete")]


def test_include_usage_leaves_a_client_that_asked_for_usage_alone(upstream):
    with ProxyServer(upstream.url(), include_usage=True, quiet=True) as proxy:
        _, body = post(proxy.url, "/v1/chat/completions",
                       {"model": "m", "stream": True, "stream_options": {"include_usage": True}})
    assert b'"prompt_tokens": 21' in body  # it asked: it gets the chunk


def test_without_include_usage_a_stream_without_usage_is_estimated_with_estimate(upstream, tmp_path):
    ledger = tmp_path / "ledger.db"
    with ProxyServer(upstream.url(), ledger=str(ledger), estimate=True, quiet=True) as proxy:
        post(proxy.url, "/v1/chat/completions", {"model": "gpt-4o-mini", "stream": True})
        post(proxy.url, "/v1/chat/completions", {"model": "gpt-4o-mini", "stream": True,
                                                 "stream_options": {"include_usage": True}})
        deadline = time.monotonic() + 10
        while len(proxy.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    rows = sqlite3.connect(ledger).execute("SELECT usage_source, output_tokens FROM streams ORDER BY rowid").fetchall()
    assert [source for source, _ in rows] == ["estimated", "reported"]
    assert rows[0][1] > 0


def test_the_log_line_says_method_path_status_model_tokens_ttfb_duration_and_file(upstream, tmp_path):
    lines = []
    with ProxyServer(upstream.url(), record=str(tmp_path), include_usage=True, on_exchange=lambda e: lines.append(
            e.describe())) as proxy:
        post(proxy.url, "/v1/chat/completions", {"model": "gpt-4o-mini", "stream": True})
        wait_log(proxy)
    (line,) = lines
    name = next(tmp_path.glob("*.ndjson")).name
    assert line.startswith("POST /v1/chat/completions 200 gpt-4o-mini-2024-07-18 in=21 out=3 ttfb=")
    assert "ms " in line and line.endswith(f"-> {tmp_path / name}")


def test_the_ledger_row_of_a_long_stream_is_what_sseq_usage_finds_in_its_recording(tmp_path):
    # Hundreds of text deltas arriving together: the proxy's usage tap takes
    # them in runs (the compiled core), and must count what `sseq usage`
    # counts reading the recording afterwards, digest and checkpoints too.
    def responses_event(kind: str, data: dict) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

    with DripServer() as server:
        @server.route("/v1/responses")
        def responses(x):
            x.start()
            x.send(responses_event("response.created", {"response": {"id": "resp_9", "model": "gpt-5-mini"}}))
            deltas = b"".join(responses_event("response.output_text.delta", {
                "sequence_number": n, "item_id": "msg_1", "output_index": 0, "content_index": 0,
                "delta": f"word{n} "}) for n in range(400))
            x.send(deltas[:len(deltas) // 2])
            x.send(deltas[len(deltas) // 2:])
            x.send(responses_event("response.completed", {"response": {
                "id": "resp_9", "model": "gpt-5-mini", "output": [],
                "usage": {"input_tokens": 12, "output_tokens": 400, "total_tokens": 412}}}))

        ledger = tmp_path / "proxy.db"
        with ProxyServer(server.url(), record=str(tmp_path / "cas"), ledger=str(ledger)) as proxy:
            status, body = post(proxy.url, "/v1/responses", {"model": "gpt-5-mini", "stream": True})
            wait_log(proxy)
        assert status == 200 and body.count(b"response.output_text.delta") == 800
    recording = next((tmp_path / "cas").rglob("*.ndjson"))
    again = tmp_path / "usage.db"
    assert invoke("usage", "--ledger", str(again), str(recording)).returncode == 0
    columns = ("digest", "checkpoints", "events", "model", "input_tokens", "output_tokens", "verdict", "ttft_ms",
               "output_tokens_per_s")
    query = f"SELECT {', '.join(columns)} FROM streams"
    proxied = sqlite3.connect(ledger).execute(query).fetchall()
    assert proxied == sqlite3.connect(again).execute(query).fetchall()
    assert proxied[0][2] == 402 and proxied[0][5] == 400
