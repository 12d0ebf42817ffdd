"""fetch from Python: the records as they arrive, a callback, Ctrl-C, and
no file descriptor or thread left behind after many runs."""

from __future__ import annotations

import os
import threading
import time

import pytest
from helpers.http_servers import event

from sseq.errors import ExitStatus
from sseq.fetch.transport import FetchRequest, FetchRun, fetch, iter_fetch
from sseq.records import CLOSE, OPEN


def test_records_are_yielded_before_the_next_event_is_sent(drip_server):
    gate = threading.Event()
    waited = []

    @drip_server.route("/gated")
    def gated(x):
        x.start()
        x.send(event('{"n":1}', id="1"))
        waited.append(x.wait_for(gate, timeout=10))
        x.send(event('{"n":2}', id="2"))

    records = iter_fetch(FetchRequest(drip_server.url("/gated")))
    assert next(records).event == OPEN
    start = time.monotonic()
    first = next(records)
    assert first.data == {"n": 1} and first.id == "1" and first.t is not None
    assert time.monotonic() - start < 5 and waited == []  # the server is still holding event 2
    gate.set()
    rest = list(records)
    assert [r.data for r in rest[:-1]] == [{"n": 2}]
    assert rest[-1].event == CLOSE and rest[-1].data["reason"] == "eof"
    assert waited == [True]


def test_fetch_with_a_callback_returns_the_outcome(drip_server):
    @drip_server.route("/s")
    def s(x):
        x.start()
        x.send(event("a") + event("[DONE]"))
        x.stall(10)

    got = []
    outcome = fetch(FetchRequest(drip_server.url("/s"), until_done=True), got.append)
    assert outcome.reason == "done" and outcome.status == ExitStatus.OK and outcome.http_status == 200
    assert [r.event for r in got] == [OPEN, "message", "message", CLOSE]


def test_ctrl_c_in_the_callback_still_closes_the_recording(drip_server):
    @drip_server.route("/s")
    def s(x):
        x.start()
        for n in range(100):
            x.send(event(str(n)))
            time.sleep(0.01)

    got = []

    def write(record):
        got.append(record)
        if len(got) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(FetchRequest(drip_server.url("/s")), write)
    assert [r.event for r in got] == [OPEN, "message", "message", CLOSE]
    assert got[-1].data["reason"] == "interrupted" and got[-1].data["events"] == 2


def test_progress_and_counters(drip_server):
    @drip_server.route("/s")
    def s(x):
        x.start()
        x.send(b": hi\n\n")
        x.send(event("a"))

    seen = []
    run = FetchRun(FetchRequest(drip_server.url("/s")), progress=lambda r: seen.append((r.events, r.bytes)))
    records = list(run)
    assert len(records) == 3
    assert run.events == 1 and run.bytes == len(b": hi\n\n" + event("a"))
    assert run.first_event_t is not None and run.first_event_t <= run.elapsed()
    assert seen[-1] == (1, run.bytes)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(expected_fds: int, expected_threads: int, timeout: float = 10.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while True:
        fds, threads = _fds(), threading.active_count()
        if (fds <= expected_fds and threads <= expected_threads) or time.monotonic() > deadline:
            return fds, threads
        time.sleep(0.05)


def test_a_thousand_fetches_leave_no_descriptor_or_thread(drip_server):
    @drip_server.route("/s")
    def s(x):
        x.start()
        x.send(event('{"n":1}', id="1") + event("[DONE]"))

    request = FetchRequest(drip_server.url("/s"))
    for _ in range(5):  # warm up: imports, the server's first threads
        assert list(iter_fetch(request))[-1].data["reason"] == "eof"
    fds_before, threads_before = _settle(_fds(), threading.active_count())
    outcomes = []
    for n in range(1000):
        until_done = n % 2 == 0  # half of them hang up on the server after [DONE]
        outcomes.append(fetch(FetchRequest(request.url, until_done=until_done), lambda record: None).reason)
    assert outcomes.count("done") == 500 and outcomes.count("eof") == 500
    fds_after, threads_after = _settle(fds_before, threads_before)
    assert fds_after <= fds_before, (fds_before, fds_after)
    assert threads_after <= threads_before, (threads_before, threads_after)
