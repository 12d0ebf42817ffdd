"""`sseq proxy` as a process: its URL on stderr, the log line, SIGINT and
SIGTERM closing recordings in progress, a recording that cannot be written,
and usage errors."""

from __future__ import annotations

import http.client
import json
import resource
import signal
import time

import pytest
from helpers import run_sseq
from helpers.http_servers import DripServer, event
from helpers.proxying import proxying, recordings


def chunk(i: int) -> bytes:
    return event(json.dumps({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": f"piece {i} " * 8}}]}))


@pytest.fixture
def upstream():
    with DripServer() as server:
        @server.route("/v1/chat/completions")
        def chat(x):
            x.start()
            x.send(chunk(0))
            x.stall(float(json.loads(x.body).get("stall", 0)))
            for i in range(1, 40):
                x.send(chunk(i))
            x.send(event("[DONE]"))

        yield server


def open_stream(url: str, body: dict):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Authorization": "Bearer sk-test-000111222"})
    return conn, conn.getresponse()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_closes_the_recordings_in_progress_as_interrupted_and_exits_130(upstream, tmp_path, sig):
    folder = tmp_path / "cas"
    with proxying(upstream.url(), "--record", folder) as proxy:
        assert "forwarding to " + upstream.url() in proxy.stderr
        conn, response = open_stream(proxy.url, {"model": "m", "stall": 30})
        assert response.status == 200 and b"piece 0" in response.read1()
        started = time.monotonic()
        status = proxy.stop(sig)
        assert time.monotonic() - started < 5
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
        assert status == 130
        assert "stopped after" in proxy.stderr
    (records,) = recordings(folder).values()
    close = records[-1]
    assert close["event"] == "sseq.close" and close["data"]["reason"] == "interrupted"
    assert close["data"]["events"] == 1


def test_the_url_and_a_log_line_per_request_go_to_stderr(upstream, tmp_path):
    with proxying(upstream.url(), "--record", tmp_path, "--port", "0") as proxy:
        conn, response = open_stream(proxy.url, {"model": "gpt-4o"})
        body = response.read()
        conn.close()
        stderr = proxy.wait_for("-> ")
    assert body.endswith(event("[DONE]"))
    line = next(line for line in stderr.splitlines() if "POST /v1/chat/completions" in line)
    assert line.startswith("sseq proxy: POST /v1/chat/completions 200 gpt-4o ")
    assert "ttfb=" in line and str(tmp_path) in line


def test_a_recording_that_cannot_be_written_leaves_the_client_served_and_the_exit_status_1(upstream, tmp_path):
    def small_files():
        # Files may not grow past 4 KiB: a write beyond fails (EFBIG) as on a full disk.
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    with proxying(upstream.url(), "--record", tmp_path, preexec_fn=small_files) as proxy:
        conn, response = open_stream(proxy.url, {"model": "m"})
        body = response.read()
        conn.close()
        stderr = proxy.wait_for("cannot write the recording")
        status = proxy.stop(signal.SIGINT)
    assert body.count(b"piece ") == 40 * 8 and body.endswith(event("[DONE]"))  # the client got it all
    assert "cannot write the recording POST-v1-chat-completions-" in stderr
    assert "File too large" in stderr or "no space left" in stderr
    assert status == 1
    assert "Traceback" not in stderr


def test_usage_errors_exit_2_with_one_line(tmp_path):
    bad_url = run_sseq("proxy", "ftp://example.com")
    assert bad_url.returncode == 2 and b"http://" in bad_url.stderr and b"Traceback" not in bad_url.stderr
    no_folder = run_sseq("proxy", "http://127.0.0.1:9", "--mode", "new")
    assert no_folder.returncode == 2 and b"--record DIR" in no_folder.stderr
    bad_label = run_sseq("proxy", "http://127.0.0.1:9", "--label", "nolabel")
    assert bad_label.returncode == 2 and b"KEY=VALUE" in bad_label.stderr
    bad_jq = run_sseq("proxy", "http://127.0.0.1:9", "--jq-body", ".x =")
    assert bad_jq.returncode == 2 and b"--jq-body" in bad_jq.stderr
    (tmp_path / "afile").write_text("x")
    not_a_folder = run_sseq("proxy", "http://127.0.0.1:9", "--record", tmp_path / "afile" / "cas")
    assert not_a_folder.returncode == 1 and b"afile" in not_a_folder.stderr and b"Traceback" not in not_a_folder.stderr


def test_a_port_in_use_is_a_network_error(upstream):
    with proxying(upstream.url()) as first:
        port = first.url.rsplit(":", 1)[1]
        second = run_sseq("proxy", upstream.url(), "--port", port, timeout=30)
    assert second.returncode == 4 and b"cannot listen" in second.stderr


def test_a_stream_through_the_process_is_not_held_back(upstream):
    """A pipeline-level check of liveness: the first event of a stream that
    stalls arrives before the stall ends."""
    with proxying(upstream.url(), "-q") as proxy:
        conn, response = open_stream(proxy.url, {"model": "m", "stall": 2})
        started = time.monotonic()
        first = response.read1()
        waited = time.monotonic() - started
        conn.close()
    assert b"piece 0" in first and waited < 1


def test_a_signal_while_the_upstream_has_not_answered_still_closes_the_recording(tmp_path):
    with DripServer() as slow:
        @slow.route("/v1/responses")
        def never(x):
            x.stall(30)

        with proxying(slow.url(), "--record", tmp_path) as proxy:
            host, port = proxy.url.removeprefix("http://").split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("POST", "/v1/responses", body=b'{"model": "m"}')
            deadline = time.monotonic() + 10
            while not slow.log and time.monotonic() < deadline:
                time.sleep(0.01)
            status = proxy.stop(signal.SIGTERM)
            conn.close()
    assert status == 130
    (records,) = recordings(tmp_path).values()
    assert [r["event"] for r in records] == ["sseq.open", "sseq.close"]
    assert records[0]["data"]["status"] is None and records[0]["data"]["request"]["json"] == {"model": "m"}
    assert records[1]["data"]["reason"] == "interrupted"
