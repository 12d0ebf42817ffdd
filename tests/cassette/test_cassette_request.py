"""describe_request: the request of sseq.open, as fetch and proxy write it."""

from __future__ import annotations

import hashlib

import pytest

from sseq.cassette.request import describe_request
from sseq.redact import Scrubber, is_secret_key, redact_json


def test_a_server_side_target_and_a_gemini_model_in_the_path():
    body = b'{"contents": [], "key": "K"}'
    info = describe_request("post", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=abc",
                            [("Content-Type", "application/json"), ("X-Goog-Api-Key", "abc")], body, sequence=2)
    assert info == {
        "method": "POST", "path": "/v1beta/models/gemini-2.5-flash:streamGenerateContent", "query": "alt=sse&key=[redacted]",
        "headers": {"content-type": "application/json", "x-goog-api-key": "[redacted]"},
        "json": {"contents": [], "key": "[redacted]"},
        "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), "model": "gemini-2.5-flash", "sequence": 2,
    }


def test_json_of_any_kind_and_text_fallbacks():
    assert describe_request("POST", "http://h/x", {}, b"[1, 2]")["json"] == [1, 2]
    assert describe_request("POST", "http://h/x", {}, b'"s"')["json"] == "s"
    big = b'{"n": 123456789012345678901234567890}'  # sseq could not write it back as a number: kept as text
    assert describe_request("POST", "http://h/x", {}, big)["text"] == big.decode()
    assert describe_request("POST", "http://h/x", {}, b"\xff\xfe")["text"] == "\ufffd\ufffd"
    deep = b"[" * 5000 + b"]" * 5000
    assert "text" in describe_request("POST", "http://h/x", {}, deep)


def test_known_secret_values_are_scrubbed_from_body_strings():
    scrub = Scrubber(["sk-ABCDEFGH"])
    info = describe_request("POST", "http://h/x", {"Authorization": "Bearer sk-ABCDEFGH"},
                            b'{"note": "my key is sk-ABCDEFGH"}', scrub=scrub)
    assert info["json"] == {"note": "my key is [redacted]"}
    assert info["sha256"] == hashlib.sha256(b'{"note": "my key is sk-ABCDEFGH"}').hexdigest()


@pytest.mark.parametrize("name", ["api_key", "apiKey", "APIKey", "access_token", "refreshToken", "client_secret",
                                  "password", "x-goog-api-key", "auth", "key", "sessionToken"])
def test_secret_keys(name):
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["model", "stream", "messages", "x-ratelimit-remaining-tokens"])
def test_not_secret_keys(name):
    assert not is_secret_key(name)


def test_redact_json_leaves_its_input_and_non_strings_alone():
    value = {"api_key": "s", "max_tokens": 5, "items": [{"secret": "x"}], "nested": {"token": ["a"]}}
    assert redact_json(value) == {"api_key": "[redacted]", "max_tokens": 5, "items": [{"secret": "[redacted]"}],
                                  "nested": {"token": ["a"]}}
    assert value == {"api_key": "s", "max_tokens": 5, "items": [{"secret": "x"}], "nested": {"token": ["a"]}}


def test_headers_as_a_server_received_them():
    """http.server hands a proxy an HTTPMessage: repeated names, any case."""
    from email.parser import Parser
    from http.client import HTTPMessage

    message = Parser(_class=HTTPMessage).parsestr("Host: x\r\nX-Api-Key: k\r\nAccept: a\r\naccept: b\r\n\r\n")
    info = describe_request("GET", "/v1/models", message, None)
    assert info["headers"] == {"host": "x", "x-api-key": "[redacted]", "accept": "a, b"}
