"""fetch when the upstream misbehaves: drops, resets, stalls, and the
process being interrupted.  Nothing that arrived whole is lost, nothing is
repeated, the close record and the exit status say what happened."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from helpers import ROOT, SSEQ, run_sseq
from helpers.http_servers import event
from helpers.records import events_of, records


def fetch(*args, **kwargs):
    return run_sseq("fetch", *args, **kwargs)


def numbered(n: int) -> bytes:
    return event(json.dumps({"n": n}), event="delta", id=str(n))


def resumable_route(server, path="/resumable", drop_after=3, total=6, retry_ms=100, reset=False):
    """A server that honours Last-Event-ID: the first connection drops in
    the middle of event drop_after+1, the next resumes after the id."""

    @server.route(path)
    def resumable(x):
        start = int(x.headers.get("last-event-id", "0"))
        x.start()
        x.send(b"retry: %d\n\n" % retry_ms)
        for n in range(start + 1, total + 1):
            if start == 0 and n == drop_after + 1:
                x.send(b'event: delta\nid: %d\ndata: {"n":' % n)  # half an event
                x.drop(reset=reset)
                return
            x.send(numbered(n))
        x.send(event("[DONE]"))


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_drop_mid_event_resumes_with_last_event_id_without_loss_or_repeat(drip_server, reset):
    resumable_route(drip_server, reset=reset)
    result = fetch(drip_server.url("/resumable"), "--retry", "2")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    assert [r["data"] for r in events_of(recs)] == [{"n": n} for n in range(1, 7)] + ["[DONE]"]
    assert [r["event"] for r in recs].count("sseq.open") == 2
    resumed = [r for r in recs if r["event"] == "sseq.open"][1]["data"]
    assert resumed["resume"] is True and resumed["last_event_id"] == "3"
    assert [r["event"] for r in recs].count("sseq.close") == 1 and recs[-1]["event"] == "sseq.close"
    assert recs[-1]["data"]["reason"] == "eof" and recs[-1]["data"]["events"] == 7
    first, second = drip_server.requests_to("/resumable")
    assert "last-event-id" not in first.headers and second.headers["last-event-id"] == "3"
    assert b"reconnecting in 0.1 s with Last-Event-ID 3 (1 of 2)" in result.stderr
    times = [r["t"] for r in recs]
    assert times == sorted(times)


def test_drop_without_retry_keeps_what_arrived_and_exits_4(drip_server):
    resumable_route(drip_server)
    result = fetch(drip_server.url("/resumable"))
    assert result.returncode == 4
    assert result.stderr.startswith(b"sseq fetch: error: the connection broke after 3 event(s): ")
    assert len(result.stderr.splitlines()) == 1
    recs = records(result.stdout)
    assert [r["data"] for r in events_of(recs)] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert recs[-1]["data"]["reason"] == "network-error" and recs[-1]["data"]["events"] == 3


def test_a_server_that_resends_from_the_id_does_not_cause_repeats(drip_server):
    """Events after the last id inherit it; a server may resend them, or
    the event with the id itself.  fetch writes each once."""

    @drip_server.route("/naive")
    def naive(x):
        x.start()
        x.send(b"retry: 50\n\n")
        if "last-event-id" not in x.headers:
            x.send(event("a", id="1") + event("b") + b"data: c-half")
            x.drop()
            return
        assert x.headers["last-event-id"] == "1"
        x.send(event("a", id="1") + event("b") + event("c") + event("d", id="2") + event("[DONE]"))

    result = fetch(drip_server.url("/naive"), "--retry", "1")
    assert result.returncode == 0, result.stderr
    assert [r["data"] for r in events_of(records(result.stdout))] == ["a", "b", "c", "d", "[DONE]"]


def test_a_stream_without_ids_is_not_restarted(drip_server):
    @drip_server.route("/noids")
    def noids(x):
        x.start()
        x.send(event("one") + b"data: tw")
        x.drop()

    result = fetch(drip_server.url("/noids"), "--retry", "3")
    assert result.returncode == 4
    assert len(drip_server.requests_to("/noids")) == 1
    assert b"not reconnecting: the stream has no event ids" in result.stderr
    assert [r["data"] for r in events_of(records(result.stdout))] == ["one"]


def test_a_stall_with_retry_resumes(drip_server):
    @drip_server.route("/stally")
    def stally(x):
        x.start()
        x.send(b"retry: 50\n\n")
        if "last-event-id" not in x.headers:
            x.send(numbered(1) + numbered(2))
            x.stall(10)
            return
        x.send(numbered(3) + event("[DONE]"))

    start = time.monotonic()
    result = fetch(drip_server.url("/stally"), "--retry", "1", "--idle-timeout", "0.5", "--until-done")
    assert time.monotonic() - start < 5
    assert result.returncode == 0, result.stderr
    assert b"no data for 0.5 s (--idle-timeout); reconnecting" in result.stderr
    assert [r["data"] for r in events_of(records(result.stdout))] == [{"n": 1}, {"n": 2}, {"n": 3}, "[DONE]"]
    assert records(result.stdout)[-1]["data"]["reason"] == "done"


def test_retries_are_counted_in_a_row(drip_server):
    """Each reconnection that brings new events resets the count, so a long
    stream survives more drops than --retry."""

    @drip_server.route("/flaky")
    def flaky(x):
        start = int(x.headers.get("last-event-id", "0"))
        x.start()
        x.send(b"retry: 10\n\n")
        if start < 4:
            x.send(numbered(start + 1))
            x.drop()
            return
        x.send(event("[DONE]"))

    result = fetch(drip_server.url("/flaky"), "--retry", "1", "--until-done")
    assert result.returncode == 0, result.stderr
    assert [r["data"] for r in events_of(records(result.stdout))] == [{"n": n} for n in range(1, 5)] + ["[DONE]"]


def test_max_time_also_bounds_retries(drip_server):
    @drip_server.route("/busy")
    def busy(x):
        x.json({"error": {"message": "busy"}}, status=503, headers=[("Retry-After", "30")])

    start = time.monotonic()
    result = fetch(drip_server.url("/busy"), "--retry", "5", "--max-time", "2")
    assert time.monotonic() - start < 5
    assert result.returncode == 3
    assert result.stderr == b"sseq fetch: error: HTTP 503 Service Unavailable: busy\n"


def _rest(proc) -> tuple[bytes, bytes]:
    """What is left on stdout and stderr (communicate() would miss what an
    earlier readline() buffered)."""
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(timeout=10)
    return out, err


def _start_fetch(url, *args):
    return subprocess.Popen(SSEQ + ["fetch", url, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_writes_what_arrived_and_a_close(drip_server, signum):
    @drip_server.route("/long")
    def long(x):
        x.start()
        x.send(numbered(1) + numbered(2))
        x.stall(20)

    proc = _start_fetch(drip_server.url("/long"))
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        proc.send_signal(signum)
        out, err = _rest(proc)
    finally:
        proc.kill()
    assert proc.returncode == 130
    recs = records(b"".join(lines) + out)
    assert [r["event"] for r in recs] == ["sseq.open", "delta", "delta", "sseq.close"]
    assert recs[-1]["data"]["reason"] == "interrupted" and recs[-1]["data"]["events"] == 2
    assert err == b"sseq fetch: error: interrupted after 2 event(s)\n"


def test_interrupt_during_a_retry_wait(drip_server):
    @drip_server.route("/wait")
    def wait(x):
        x.json({"error": {"message": "slow down"}}, status=429, headers=[("Retry-After", "30")])

    proc = _start_fetch(drip_server.url("/wait"), "--retry", "1")
    try:
        assert b"retrying in 30 s" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        out, err = _rest(proc)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert out == b""  # no answer was recorded, so nothing to close
    assert err == b"sseq fetch: error: interrupted after 0 event(s)\n"


def test_a_closed_downstream_ends_quietly(drip_server):
    @drip_server.route("/many")
    def many(x):
        x.start()
        for n in range(1, 2000):
            x.send(numbered(n))

    result = subprocess.run(f"{' '.join(SSEQ)} fetch {drip_server.url('/many')} | head -2", shell=True,
                            capture_output=True, cwd=ROOT, timeout=30)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == b""


def test_the_last_event_id_carries_over_a_reconnection(drip_server):
    """As in a browser: events on the new connection without an id field
    keep the id the stream resumed from, so a second drop resumes again."""

    @drip_server.route("/carry")
    def carry(x):
        x.start()
        x.send(b"retry: 10\n\n")
        seen = x.headers.get("last-event-id")
        if seen is None:
            x.send(event("a", id="1"))
            x.drop()
        elif len(drip_server.requests_to("/carry")) == 2:
            x.send(event("b"))
            x.drop()
        else:
            x.send(event("c", id="2") + event("[DONE]"))

    result = fetch(drip_server.url("/carry"), "--retry", "1", "--until-done")
    assert result.returncode == 0, result.stderr
    assert [(r["data"], r.get("id")) for r in events_of(records(result.stdout))] == [
        ("a", "1"), ("b", "1"), ("c", "2"), ("[DONE]", "2")]
    assert [x.headers.get("last-event-id") for x in drip_server.requests_to("/carry")] == [None, "1", "1"]
