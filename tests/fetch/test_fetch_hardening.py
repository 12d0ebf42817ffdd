"""fetch against servers that new users met (issue 12), each case standing
for its class: reconnections that never end, servers that start again
from the beginning, bodies cut short in ways a read does not notice,
compression that buffers a stream, a stream that ends inside a block."""

from __future__ import annotations

import json
import time
import zlib

import pytest
from helpers import run_sseq
from helpers.http_servers import event
from helpers.records import events_of, records


def fetch(*args, **kwargs):
    return run_sseq("fetch", *args, **kwargs)


def numbered(n: int) -> bytes:
    return event(json.dumps({"n": n}), id=str(n))


def datas(result) -> list:
    return [r["data"] for r in events_of(records(result.stdout))]


# -- 1. --retry always ends -----------------------------------------------------------------


def test_a_server_that_repeats_what_was_written_then_stalls_is_given_up_on(drip_server):
    """Ignores Last-Event-ID, re-sends 1 and 2, stalls: repeats are not
    progress, so --retry 2 means two reconnections, then the end."""

    @drip_server.route("/stuck")
    def stuck(x):
        x.start()
        x.send(b"retry: 10\n\n" + numbered(1) + numbered(2))
        x.stall(30)

    start = time.monotonic()
    result = fetch(drip_server.url("/stuck"), "--idle-timeout", "0.3", "--retry", "2")
    assert time.monotonic() - start < 10
    assert result.returncode == 4
    assert len(drip_server.requests_to("/stuck")) == 3
    assert datas(result) == [{"n": 1}, {"n": 2}]
    assert b"(1 of 2)" in result.stderr and b"(2 of 2)" in result.stderr
    assert result.stderr.endswith(b"sseq fetch: error: no data for 0.3 s (--idle-timeout)\n")
    close = records(result.stdout)[-1]["data"]
    assert close["reason"] == "idle-timeout" and close["events"] == 2


def test_a_server_that_always_makes_a_little_progress_is_given_up_on_too(drip_server):
    """One new event per connection, then a drop, forever: each reconnection
    is progress, but the run's tries in all are bounded (10 x N)."""

    @drip_server.route("/endless")
    def endless(x):
        start = int(x.headers.get("last-event-id", "0"))
        x.start()
        x.send(b"retry: 1\n\n" + numbered(start + 1))
        x.drop()

    start = time.monotonic()
    result = fetch(drip_server.url("/endless"), "--retry", "1")
    assert time.monotonic() - start < 20
    assert result.returncode == 4
    assert len(drip_server.requests_to("/endless")) == 11  # the first connection and 10 reconnections
    assert datas(result) == [{"n": n} for n in range(1, 12)]
    assert b"not trying again: 10 tries in all, the most --retry 1 allows (10)" in result.stderr
    assert records(result.stdout)[-1]["data"]["reason"] == "network-error"


def test_retry_statuses_count_toward_the_total_as_well(drip_server):
    @drip_server.route("/busy")
    def busy(x):
        x.json({"error": {"message": "busy"}}, status=503, headers=[("Retry-After", "0")])

    result = fetch(drip_server.url("/busy"), "--retry", "3")
    assert result.returncode == 3
    assert len(drip_server.requests_to("/busy")) == 4


# -- 2. no record repeated, by id -------------------------------------------------------------


def test_a_server_that_starts_again_from_the_beginning_writes_each_event_once(drip_server):
    @drip_server.route("/restart")
    def restart(x):
        x.start()
        x.send(b"retry: 10\n\n")
        if "last-event-id" not in x.headers:
            x.send(numbered(1) + numbered(2) + b"id: 3\ndata: {\"n\":")
            x.drop()
            return
        x.send(b"".join(numbered(n) for n in range(1, 6)) + event("[DONE]"))

    result = fetch(drip_server.url("/restart"), "--retry", "1")
    assert result.returncode == 0, result.stderr
    assert datas(result) == [{"n": n} for n in range(1, 6)] + ["[DONE]"]
    assert [r.get("id") for r in events_of(records(result.stdout))] == ["1", "2", "3", "4", "5", "5"]
    assert records(result.stdout)[-1]["data"]["events"] == 6


def test_events_that_inherit_an_earlier_id_are_known_too(drip_server):
    """From the start again, where events without an id: line inherit the
    one before (a, b carry 1; c, d carry 2)."""

    wire = event("a", id="1") + event("b") + event("c", id="2") + event("d")

    @drip_server.route("/inherit")
    def inherit(x):
        x.start()
        x.send(b"retry: 10\n\n")
        if "last-event-id" not in x.headers:
            x.send(wire)
            x.drop()
            return
        x.send(wire + event("e", id="3") + event("[DONE]"))

    result = fetch(drip_server.url("/inherit"), "--retry", "1")
    assert result.returncode == 0, result.stderr
    assert datas(result) == ["a", "b", "c", "d", "e", "[DONE]"]


def test_after_the_first_new_event_an_old_id_is_written_again(drip_server):
    """Dropping by id is only for catching up: once a new event came, what
    follows is the server's to say (ids may be reused)."""

    @drip_server.route("/reuse")
    def reuse(x):
        x.start()
        x.send(b"retry: 10\n\n")
        if "last-event-id" not in x.headers:
            x.send(event("a", id="1") + event("b", id="2"))
            x.drop()
            return
        x.send(event("c", id="3") + event("again", id="1"))

    result = fetch(drip_server.url("/reuse"), "--retry", "1")
    assert result.returncode == 0, result.stderr
    assert datas(result) == ["a", "b", "c", "again"]


# -- 3. a body cut short is a network error ----------------------------------------------------


def _with_length(x, declared: int, body: bytes, headers=()):
    """A status line, a Content-Length, the body (maybe short), a close."""
    h = x.handler
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.send_header("Content-Length", str(declared))
    for name, value in headers:
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    x.started = True
    x.drop()


def test_a_body_shorter_than_its_content_length_is_a_network_error(drip_server):
    body = numbered(1)

    @drip_server.route("/short")
    def short(x):
        _with_length(x, 1000, body)

    result = fetch(drip_server.url("/short"))
    assert result.returncode == 4
    assert result.stderr == (b"sseq fetch: error: the connection broke after 1 event(s): the body ended after "
                             b"%d of the 1000 bytes its Content-Length declared\n" % len(body))
    assert datas(result) == [{"n": 1}]
    assert records(result.stdout)[-1]["data"]["reason"] == "network-error"


def test_a_body_of_its_full_content_length_is_a_clean_end(drip_server):
    body = numbered(1) + numbered(2)

    @drip_server.route("/whole")
    def whole(x):
        _with_length(x, len(body), body)

    result = fetch(drip_server.url("/whole"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert datas(result) == [{"n": 1}, {"n": 2}]


def test_a_short_body_is_reconnected_with_retry(drip_server):
    @drip_server.route("/short-then-whole")
    def short_then_whole(x):
        if "last-event-id" not in x.headers:
            _with_length(x, 1000, b"retry: 10\n\n" + numbered(1) + numbered(2))
            return
        x.start()
        assert x.headers["last-event-id"] == "2"
        x.send(numbered(3) + event("[DONE]"))

    result = fetch(drip_server.url("/short-then-whole"), "--retry", "1")
    assert result.returncode == 0, result.stderr
    assert datas(result) == [{"n": 1}, {"n": 2}, {"n": 3}, "[DONE]"]
    assert b"Content-Length declared; reconnecting in 0.01 s with Last-Event-ID 2 (1 of 1)" in result.stderr


def test_a_chunked_body_without_its_last_chunk_is_a_network_error(drip_server):
    @drip_server.route("/no-last-chunk")
    def no_last_chunk(x):
        x.start()
        x.send(numbered(1))
        x.drop()

    result = fetch(drip_server.url("/no-last-chunk"))
    assert result.returncode == 4
    assert result.stderr.startswith(b"sseq fetch: error: the connection broke after 1 event(s): ")
    assert datas(result) == [{"n": 1}]


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_a_gzip_stream_cut_short_is_a_network_error(drip_server, framing):
    """The HTTP body is whole (its last chunk came, or all its declared
    bytes), but the gzip stream in it stops before its end."""
    packed = _gzip(numbered(1) + numbered(2))
    cut = packed[:-12]  # the last deflate bytes and the gzip trailer missing

    @drip_server.route("/gz-cut")
    def gz_cut(x):
        if framing == "length":
            _with_length(x, len(cut), cut, headers=[("Content-Encoding", "gzip")])
            return
        x.start(headers=[("Content-Encoding", "gzip")])
        x.send(cut)

    result = fetch(drip_server.url("/gz-cut"), "-H", "Accept-Encoding: gzip")
    assert result.returncode == 4
    assert result.stderr.startswith(b"sseq fetch: error: the connection broke after ")
    assert result.stderr.endswith(b": the gzip stream of the body ended before its end\n")
    assert records(result.stdout)[-1]["data"]["reason"] == "network-error"


@pytest.mark.parametrize("coding", ["gzip-members", "deflate-zlib", "deflate-raw"])
def test_whole_compressed_bodies_are_read_to_their_end(drip_server, coding):
    wire = numbered(1) + numbered(2) + event("[DONE]")
    if coding == "gzip-members":  # two gzip members one after the other
        body, name = _gzip(wire[:20]) + _gzip(wire[20:]), "gzip"
    elif coding == "deflate-zlib":
        body, name = zlib.compress(wire), "deflate"
    else:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        body, name = packer.compress(wire) + packer.flush(), "deflate"

    @drip_server.route("/packed")
    def packed(x):
        x.start(headers=[("Content-Encoding", name)])
        for start in range(0, len(body), 5):  # compressed bytes in small pieces
            x.send(body[start : start + 5])

    result = fetch(drip_server.url("/packed"), "-H", "Accept-Encoding: gzip, deflate")
    assert result.returncode == 0, result.stderr
    assert datas(result) == [{"n": 1}, {"n": 2}, "[DONE]"]
    assert records(result.stdout)[-1]["data"]["bytes"] == len(wire)


def test_a_body_that_is_not_what_its_encoding_says_is_a_network_error(drip_server):
    @drip_server.route("/not-gzip")
    def not_gzip(x):
        x.start(headers=[("Content-Encoding", "gzip")])
        x.send(numbered(1))

    result = fetch(drip_server.url("/not-gzip"), "-H", "Accept-Encoding: gzip")
    assert result.returncode == 4
    assert result.stderr.startswith(b"sseq fetch: error: the body could not be read after 0 event(s): "
                                    b"cannot decode the response body")


# -- 4. no compression unless asked -------------------------------------------------------------


def test_a_stream_arrives_event_by_event_from_a_server_that_would_buffer_to_compress(drip_server):
    """Django's GZipMiddleware compresses (and so buffers) whatever the
    client accepts gzip for: fetch does not accept it by default, and each
    event gets its own t."""

    @drip_server.route("/mw")
    def middleware(x):
        if "gzip" in x.headers.get("accept-encoding", ""):
            x.start(headers=[("Content-Encoding", "gzip")])
            x.send(_gzip(numbered(1) + numbered(2)))  # all at the end, as buffering does
            return
        x.start()
        x.send(numbered(1))
        time.sleep(0.3)
        x.send(numbered(2))

    result = fetch(drip_server.url("/mw"))
    assert result.returncode == 0, result.stderr
    first, second = events_of(records(result.stdout))
    assert second["t"] - first["t"] >= 0.25
    assert drip_server.requests_to("/mw")[0].headers["accept-encoding"] == "identity"


# -- 22. the input ends inside a block -------------------------------------------------------------


@pytest.mark.parametrize("tail", [b'data: {"n":3}\n', b'data: {"n":3}', b"event: last\ndata: x"],
                         ids=["no-blank-line", "no-line-end", "two-fields"])
def test_an_unfinished_last_block_is_discarded_and_said(drip_server, tail):
    @drip_server.route("/unfinished")
    def unfinished(x):
        x.start()
        x.send(numbered(1) + numbered(2) + tail)

    result = fetch(drip_server.url("/unfinished"))
    assert result.returncode == 0, result.stderr
    assert datas(result) == [{"n": 1}, {"n": 2}]
    assert result.stderr == b"sseq fetch: the stream ended inside an unfinished block, which is discarded (the standard's rule)\n"
    close = records(result.stdout)[-1]["data"]
    assert close["unfinished_block"] is True and close["reason"] == "eof"
    quiet = fetch(drip_server.url("/unfinished"), "-q")
    assert quiet.stderr == b"" and records(quiet.stdout)[-1]["data"]["unfinished_block"] is True


@pytest.mark.parametrize("tail", [b"", b"\n", b": trailing comment", b"id: 9\n"], ids=["none", "blank", "comment", "id-line"])
def test_a_finished_last_block_has_no_such_field(drip_server, tail):
    @drip_server.route("/finished")
    def finished(x):
        x.start()
        x.send(numbered(1) + tail)

    result = fetch(drip_server.url("/finished"))
    assert result.returncode == 0 and result.stderr == b""
    assert "unfinished_block" not in records(result.stdout)[-1]["data"]


def test_a_drop_inside_a_block_says_so_too(drip_server):
    @drip_server.route("/drop-inside")
    def drop_inside(x):
        x.start()
        x.send(numbered(1) + b'data: {"n":')
        x.drop()

    result = fetch(drip_server.url("/drop-inside"))
    assert result.returncode == 4
    close = records(result.stdout)[-1]["data"]
    assert close["reason"] == "network-error" and close["unfinished_block"] is True


def _json_with_length(x, declared: int, body: bytes, status: int = 200):
    h = x.handler
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(declared))
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    x.started = True
    x.drop()


def test_a_json_answer_cut_short_is_a_network_error_not_an_answer(drip_server):
    body = b'{"id":"chatcmpl-1","choices":[{"message":{"content":"par'

    @drip_server.route("/json-cut")
    def json_cut(x):
        _json_with_length(x, 500, body)

    result = fetch(drip_server.url("/json-cut"), "--json", "-d", "{}")
    assert result.returncode == 4
    assert result.stderr == (b"sseq fetch: error: the JSON answer could not be read whole: the body ended after "
                             b"%d of the 500 bytes its Content-Length declared\n" % len(body))
    close = records(result.stdout)[-1]["data"]
    assert close["reason"] == "network-error" and close["body"] == body.decode()


def test_a_json_answer_is_kept_whole_even_when_large(drip_server):
    answer = {"id": "chatcmpl-1", "choices": [{"message": {"content": "x" * 200_000}}]}

    @drip_server.route("/json-big")
    def json_big(x):
        x.json(answer)

    result = fetch(drip_server.url("/json-big"), "--json", "-d", "{}")
    assert result.returncode == 1  # a JSON answer where a stream was asked for
    close = records(result.stdout)[-1]["data"]
    assert close["reason"] == "eof" and json.loads(close["body"]) == answer


def test_an_error_body_cut_short_says_so(drip_server):
    body = b'{"error":{"message":"overloaded"}}'

    @drip_server.route("/error-cut")
    def error_cut(x):
        _json_with_length(x, 500, body, status=529)

    result = fetch(drip_server.url("/error-cut"))
    assert result.returncode == 3
    assert result.stderr.startswith(b"sseq fetch: error: HTTP 529")
    assert b"(the body is incomplete: the body ended after 34 of the 500 bytes its Content-Length declared)" in result.stderr
    assert records(result.stdout)[-1]["data"]["body"] == body.decode()


def test_a_json_answer_over_the_size_limit_is_refused_loudly(drip_server):
    @drip_server.route("/json-huge")
    def json_huge(x):
        x.json({"content": "x" * 5000})

    result = fetch(drip_server.url("/json-huge"), "--max-event-size", "1K")
    assert result.returncode == 1
    assert result.stderr == (b"sseq fetch: error: the JSON answer is larger than --max-event-size (1024 bytes); "
                             b"the first 1024 are kept\n")
    assert len(records(result.stdout)[-1]["data"]["body"]) == 1024
