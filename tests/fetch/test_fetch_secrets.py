"""No secret reaches stdout, stderr, the -o recording or the --raw file,
even when the server echoes the credentials back in its headers and its
error body."""

from __future__ import annotations

import json

import pytest
from helpers import run_sseq
from helpers.http_servers import event

from sseq.redact import (
    is_secret_header,
    redact_headers,
    redact_url,
    secret_values,
)

AUTH = "sk-proj-AUTHSECRET0123456789"
API_KEY = "ak-APIKEYSECRET0123456789"
GOOG = "AIzaGOOGSECRET0123456789"
COOKIE = "COOKIESECRET0123456789"
QUERY_KEY = "QUERYKEYSECRET0123456789"
SECRETS = [AUTH, API_KEY, GOOG, COOKIE, QUERY_KEY]


def _echoing_server(server):
    @server.route("/v1beta/models/gemini-test:streamGenerateContent")
    def stream(x):
        got = x.headers
        reflected = [
            ("Set-Cookie", f"session={COOKIE}; HttpOnly"),
            ("X-Echo-Authorization", got.get("authorization", "")),
            ("X-Api-Key-Echo", got.get("x-api-key", "")),
            ("X-Debug", f"caller key {got.get('x-goog-api-key', '')}"),  # an innocent name, a secret value
            ("x-ratelimit-remaining-tokens", "42"),
        ]
        if x.query.get("fail"):
            x.json({"error": {"code": 401, "message": f"API key not valid: {got.get('x-goog-api-key')} "
                                                      f"(query key {x.query.get('key')})"}},
                   status=401, headers=reflected)
            return
        x.start(headers=reflected)
        x.send(event('{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}'))


@pytest.mark.parametrize("fail", [False, True], ids=["stream", "error"])
def test_no_secret_in_any_output(drip_server, tmp_path, fail):
    _echoing_server(drip_server)
    url = drip_server.url("/v1beta/models/gemini-test:streamGenerateContent") + f"?alt=sse&key={QUERY_KEY}"
    if fail:
        url += "&fail=1"
    header_file = tmp_path / "headers"
    header_file.write_text(f"x-goog-api-key: {GOOG}\n")
    out, raw = tmp_path / "run.ndjson", tmp_path / "raw.sse"
    result = run_sseq("fetch", url, "-H", f"Authorization: Bearer {AUTH}", "-H", f"x-api-key: {API_KEY}",
                      "-H", f"@{header_file}", "-H", f"Cookie: session={COOKIE}", "--json", "-d", '{"contents":[]}',
                      "-o", out, "--raw", raw)
    assert result.returncode == (3 if fail else 0), result.stderr
    # The server did get them (otherwise this test would prove nothing).
    received = drip_server.log[0]
    assert received.headers["authorization"] == f"Bearer {AUTH}" and received.headers["x-goog-api-key"] == GOOG
    everything = result.stdout + result.stderr + out.read_bytes() + raw.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in everything, secret
    recs = [json.loads(line) for line in out.read_bytes().splitlines()]
    opened = recs[0]["data"]
    assert opened["headers"]["set-cookie"] == "[redacted]"
    assert opened["headers"]["x-echo-authorization"] == "[redacted]"
    assert opened["headers"]["x-api-key-echo"] == "[redacted]"
    assert opened["headers"]["x-debug"] == "caller key [redacted]"
    assert opened["headers"]["x-ratelimit-remaining-tokens"] == "42"
    assert "key=%5Bredacted%5D" in opened["url"] or "key=[redacted]" in opened["url"]
    assert opened["request"]["model"] == "gemini-test"
    if fail:
        assert result.stderr == (b"sseq fetch: error: HTTP 401 Unauthorized: API key not valid: [redacted] "
                                 b"(query key [redacted])\n")
        assert "[redacted]" in recs[-1]["data"]["body"]
    else:
        assert recs[-1]["data"]["reason"] == "eof"


@pytest.mark.parametrize("name", ["Authorization", "proxy-authorization", "Cookie", "Set-Cookie", "x-api-key",
                                  "X-Goog-Api-Key", "api-key", "x-auth-token", "OpenAI-Secret", "x-amz-security-token"])
def test_secret_header_names(name):
    assert is_secret_header(name)


@pytest.mark.parametrize("name", ["content-type", "x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-limit",
                                  "x-ratelimit-limit-tokens", "retry-after", "keep-alive", "openai-processing-ms"])
def test_not_secret_header_names(name):
    assert not is_secret_header(name)


def test_redaction_helpers():
    assert redact_headers([("X-Api-Key", "k"), ("Content-Type", "text/event-stream")]) == {
        "x-api-key": "[redacted]", "content-type": "text/event-stream"}
    assert redact_url("https://u:pw@h.example/p?alt=sse&key=abc") == "https://u:[redacted]@h.example/p?alt=sse&key=[redacted]"
    assert redact_url("https://h.example/p?a=1") == "https://h.example/p?a=1"
    values = secret_values([("Authorization", "Bearer sk-12345678"), ("Accept", "x")], "http://h/?api_key=qwertyui")
    assert set(values) == {"Bearer sk-12345678", "sk-12345678", "qwertyui"}
