"""What fetch writes for a cassette: the request as sent, in sseq.open,
secrets redacted in the file and never altered on the wire; the host and
the --label pairs."""

from __future__ import annotations

import hashlib
import json
import socket

from helpers import run_sseq
from helpers.http_servers import event
from helpers.records import events_of, records

BEARER = "sk-proj-BEARERSECRET0123456789"
BODY_KEY = "bk-BODYKEYSECRET0123456789"
NESTED_KEY = "nk-NESTEDSECRET0123456789"
QUERY_KEY = "QUERYSECRET0123456789"


def _chat(server):
    @server.route("/v1/chat/completions")
    def chat(x):
        x.start()
        x.send(event('{"choices":[{"delta":{"content":"hi"}}]}'))
        x.send(event("[DONE]"))


def test_request_is_recorded_as_sent_with_secrets_redacted_only_in_the_file(drip_server, tmp_path):
    _chat(drip_server)
    body = json.dumps({"model": "gpt-4o", "stream": True, "api_key": BODY_KEY, "max_tokens": 5,
                       "messages": [{"role": "user", "content": "hi", "name": "me"}],
                       "extra": {"apiKey": NESTED_KEY, "kept": "yes"}}).encode()
    req = tmp_path / "req.json"
    req.write_bytes(body)
    out = tmp_path / "run.ndjson"
    url = drip_server.url("/v1/chat/completions") + f"?alt=sse&key={QUERY_KEY}&b=x%20y"
    result = run_sseq("fetch", url, "-H", f"Authorization: Bearer {BEARER}", "-H", "X-Team: blue",
                      "--json", "-d", f"@{req}", "-o", out)
    assert result.returncode == 0, result.stderr

    # The wire: the server got every secret, and the body byte for byte.
    received = drip_server.requests_to("/v1/chat/completions")[0]
    assert received.headers["authorization"] == f"Bearer {BEARER}"
    assert received.body == body
    assert received.query["key"] == QUERY_KEY

    # The file: no secret anywhere, the request described as sent.
    written = out.read_bytes()
    for secret in (BEARER, BODY_KEY, NESTED_KEY, QUERY_KEY):
        assert secret.encode() not in written + result.stderr
    opened = records(written)[0]["data"]
    sent = opened["request"]
    assert sent["method"] == "POST"
    assert sent["path"] == "/v1/chat/completions"
    assert sent["query"] == "alt=sse&key=[redacted]&b=x%20y"  # raw, only the secret replaced
    assert sent["headers"]["authorization"] == "[redacted]"
    assert sent["headers"]["x-team"] == "blue"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["accept"] == "text/event-stream, application/json"
    assert all(name == name.lower() for name in sent["headers"])
    assert sent["json"] == {"model": "gpt-4o", "stream": True, "api_key": "[redacted]", "max_tokens": 5,
                            "messages": [{"role": "user", "content": "hi", "name": "me"}],
                            "extra": {"apiKey": "[redacted]", "kept": "yes"}}
    assert "text" not in sent
    assert sent["bytes"] == len(body) and sent["sha256"] == hashlib.sha256(body).hexdigest()
    assert sent["model"] == "gpt-4o"
    assert "sequence" not in sent
    assert opened["host"] == socket.gethostname()
    assert opened["labels"] == {}
    assert [r["data"] for r in events_of(records(written))][-1] == "[DONE]"


def test_a_body_that_is_not_json_is_kept_as_text_and_no_body_has_neither(drip_server):
    _chat(drip_server)
    result = run_sseq("fetch", drip_server.url("/v1/chat/completions"), "-d", "plain words")
    sent = records(result.stdout)[0]["data"]["request"]
    assert sent["text"] == "plain words" and "json" not in sent and sent["bytes"] == 11
    assert sent["model"] is None

    result = run_sseq("fetch", drip_server.url("/v1/chat/completions"))
    sent = records(result.stdout)[0]["data"]["request"]
    assert sent["method"] == "GET" and "text" not in sent and "json" not in sent
    assert sent["bytes"] == 0 and sent["sha256"] == hashlib.sha256(b"").hexdigest()


def test_a_form_body_has_its_secret_fields_redacted(drip_server):
    _chat(drip_server)
    result = run_sseq("fetch", drip_server.url("/v1/chat/completions"), "-d", f"a=1&api_key={BODY_KEY}",
                      "-H", "Content-Type: application/x-www-form-urlencoded")
    assert BODY_KEY.encode() not in result.stdout
    assert records(result.stdout)[0]["data"]["request"]["text"] == "a=1&api_key=[redacted]"
    assert drip_server.requests_to("/v1/chat/completions")[0].body == f"a=1&api_key={BODY_KEY}".encode()


def test_labels_are_written_into_the_open_record(drip_server):
    _chat(drip_server)
    result = run_sseq("fetch", drip_server.url("/v1/chat/completions"), "--label", "team=search",
                      "--label", "job=nightly=1", "--label", "empty=")
    assert result.returncode == 0, result.stderr
    assert records(result.stdout)[0]["data"]["labels"] == {"team": "search", "job": "nightly=1", "empty": ""}


def test_bad_labels_are_usage_errors(drip_server):
    for args, said in ((["--label", "team"], b"--label 'team': expected KEY=VALUE"),
                       (["--label", "=x"], b"--label '=x': expected KEY=VALUE"),
                       (["--label", "a=1", "--label", "a=2"], b"--label a is given twice")):
        result = run_sseq("fetch", drip_server.url("/v1/chat/completions"), *args)
        assert result.returncode == 2
        assert result.stdout == b""
        assert said in result.stderr
    assert drip_server.log == []  # nothing was sent
