"""sseq.cassette.matching, sans IO: when two requests are the same for
replay, and what a miss says."""

from __future__ import annotations

import hashlib
import json

import pytest

from sseq.cassette.matching import Matcher
from sseq.errors import UsageProblem


def recorded(body=None, *, method="POST", path="/v1/chat/completions", query="", text=None, **extra):
    request = {"method": method, "path": path, "query": query, **extra}
    if body is not None:
        request["json"] = body
    if text is not None:
        request["text"] = text
    return request


def live(matcher, body: bytes | None, target="/v1/chat/completions", method="POST"):
    return matcher.key_for_request(method, target, body)


def test_json_bodies_match_as_values_whatever_their_key_order_and_spacing():
    m = Matcher()
    key = m.key_for_recorded(recorded({"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 1}))
    assert live(m, b'{ "n":1,\n "messages" : [ {"content":"hi","role":"user"} ], "model":"m" }') == key
    assert live(m, b'{"n":2,"messages":[{"content":"hi","role":"user"}],"model":"m"}') != key
    # Array order is meaning: not ignored.
    two = m.key_for_recorded(recorded({"a": [1, 2]}))
    assert live(m, b'{"a":[2,1]}') != two


def test_method_path_and_query_count_with_query_order_and_empty_segments_aside():
    m = Matcher()
    key = m.key_for_recorded(recorded({"x": 1}, path="/v1beta/models/g:stream", query="alt=sse&b=2"))
    assert live(m, b'{"x":1}', "//v1beta//models/g:stream?b=2&alt=sse") == key
    assert live(m, b'{"x":1}', "/v1beta/models/g:stream?alt=sse") != key
    assert live(m, b'{"x":1}', "/v1beta/models/g:stream?alt=sse&b=2", method="PUT") != key


def test_secrets_match_their_redacted_recording():
    m = Matcher()
    key = m.key_for_recorded(recorded({"model": "m", "api_key": "[redacted]", "nested": {"access_token": "[redacted]"},
                                       "max_tokens": 5}, query="key=%5Bredacted%5D"))
    body = {"model": "m", "api_key": "sk-live", "nested": {"access_token": "t-live"}, "max_tokens": 5}
    assert live(m, json.dumps(body).encode(), "/v1/chat/completions?key=AIza-live") == key
    # A non-secret field still counts, and so does a number under a secret-looking name.
    assert live(m, json.dumps(dict(body, max_tokens=6)).encode(), "/v1/chat/completions?key=x") != key


def test_a_signed_url_matches_its_recording_whatever_its_signature():
    # The recording redacts sig=/signature=/code= (an Azure SAS URL); matching blanks the same names.
    m = Matcher()
    key = m.key_for_recorded(recorded({"x": 1}, query="api-version=1&sig=%5Bredacted%5D"))
    assert live(m, b'{"x":1}', "/v1/chat/completions?api-version=1&sig=abc") == key
    assert live(m, b'{"x":1}', "/v1/chat/completions?api-version=2&sig=abc") != key


def test_ignored_paths_are_left_out_of_both_bodies():
    m = Matcher([".user", ".metadata", ".messages[].id"])
    key = m.key_for_recorded(recorded({"model": "m", "user": "a", "messages": [{"id": 1, "content": "hi"}]}))
    assert live(m, b'{"model":"m","user":"b","metadata":{"run":9},"messages":[{"id":2,"content":"hi"}]}') == key
    assert live(m, b'{"model":"m","messages":[{"content":"hi"}]}') == key
    assert live(m, b'{"model":"other","messages":[{"content":"hi"}]}') != key
    # A path that does not fit a body (an array here) leaves it as it is.
    assert live(m, b"[1,2]") == m.key_for_recorded(recorded([1, 2]))


@pytest.mark.parametrize("bad", ["user", ".a[", ""])
def test_a_bad_ignore_path_is_a_usage_problem(bad):
    with pytest.raises(UsageProblem, match="--ignore"):
        Matcher([bad])


def test_other_bodies_match_as_bytes_and_no_body_is_not_a_null_body():
    m = Matcher()
    form = m.key_for_recorded(recorded(text="a=1&b=2"))
    assert live(m, b"a=1&b=2") == form and live(m, b"b=2&a=1") != form
    by_digest = m.key_for_recorded(recorded(bytes=3, sha256=hashlib.sha256(b"\x00\x01\x02").hexdigest()))
    assert live(m, b"\x00\x01\x02") == by_digest
    empty = m.key_for_recorded(recorded(method="GET", path="/v1/models"))
    assert live(m, b"", "/v1/models", "GET") == empty
    assert live(m, b"null", "/v1/models", "GET") != empty


def test_match_path_compares_the_path_only():
    m = Matcher(match="path")
    key = m.key_for_recorded(recorded({"a": 1}, query="x=1"))
    assert live(m, b"anything", "/v1/chat/completions?y=2", method="GET") == key
    assert live(m, b"anything", "/v1/responses") != key
    with pytest.raises(UsageProblem, match="--match"):
        Matcher(match="body")


def test_a_miss_names_the_nearest_recording_the_changed_fields_and_a_diff():
    m = Matcher()
    candidates = [
        ("paris.ndjson", m.key_for_recorded(recorded({"model": "m", "messages": [{"role": "user", "content": "Paris"}]}))),
        ("other-path.ndjson", m.key_for_recorded(recorded({"model": "m", "messages": [{"role": "user", "content": "Rome"}]},
                                                          path="/v1/responses"))),
        ("far.ndjson", m.key_for_recorded(recorded({"model": "x", "input": "completely different", "tools": []}))),
    ]
    key = live(m, b'{"model":"m","messages":[{"role":"user","content":"Rome"}],"n":1}')
    miss = m.explain_miss(key, candidates)
    assert miss.nearest == "paris.ndjson"  # the same path outranks the same body elsewhere
    assert miss.message.startswith("no recording matched POST /v1/chat/completions; nearest: paris.ndjson "
                                   "(POST /v1/chat/completions); body differs at .messages[0].content, .n (received only)")
    assert miss.diff[:2] == ("--- recorded", "+++ received")
    assert '-      "content": "Paris",' in miss.diff and '+      "content": "Rome",' in miss.diff
    assert "\n".join(miss.diff) in miss.message


def test_a_miss_says_when_every_recording_of_the_request_was_played():
    m = Matcher()
    miss = m.explain_miss(live(m, b"{}"), [], exhausted="turn-0.ndjson")
    assert "already played (the last: turn-0.ndjson)" in miss.message and "--allow-playback-repeats" in miss.message
    assert m.explain_miss(live(m, b"{}"), []).nearest is None


def test_a_long_diff_is_cut_short():
    m = Matcher()
    key = m.key_for_recorded(recorded({"items": list(range(200))}))
    miss = m.explain_miss(live(m, json.dumps({"items": list(range(1000, 1200))}).encode()), [("big", key)])
    assert len(miss.diff) == 41 and miss.diff[-1].startswith("... (")


def test_json_nested_deeper_than_python_recurses_is_matched_as_bytes():
    m = Matcher([".a"])
    deep = b"[" * 1023 + b"]" * 1023
    key = live(m, deep)
    assert key.body.startswith("sha256:") and key == live(m, deep) and key != live(m, b"[[]]")
    assert m.explain_miss(key, [("x", live(m, b"[[]]"))]).nearest == "x"
    # A recording of a body deeper than orjson writes is matched by its digest.
    body = b"[" * 300 + b"]" * 300
    value = json.loads(body)
    on_file = m.key_for_recorded(recorded(value, bytes=len(body), sha256=hashlib.sha256(body).hexdigest()))
    assert on_file == live(m, body) and on_file != live(m, b"[" * 299 + b"]" * 299)
