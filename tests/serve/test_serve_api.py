"""The server from Python, and as the sseq_server pytest fixture in another
project's suite (run as a real pytest subprocess, found by its entry point)."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from helpers import REAL, ROOT, run_sseq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sseq.library import parse_bytes
from sseq.records import COMMENT, RETRY, Record
from sseq.serve.server import ReplayOptions, ReplayServer


def get(url: str, path: str = "/", headers=None):
    split = urlsplit(url)
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_replay_server_from_python():
    records = [Record("message", {"n": 1}, raw=b'{"n":1}'), Record("done", "[DONE]")]
    with ReplayServer({"/v1/stream": records}, error_after=None) as server:
        # Faithful by default: no id the records did not have.
        assert get(server.url, "/v1/stream") == (200, b'data: {"n":1}\n\nevent: done\ndata: [DONE]\n\n')
    with ReplayServer({"/v1/stream": records}, ids=True) as server:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith("/")
        assert server.url_for("/v1/stream") == server.url + "/v1/stream"
        assert get(server.url, "/v1/stream") == (200, b'id: 1\ndata: {"n":1}\n\nid: 2\nevent: done\ndata: [DONE]\n\n')
        assert get(server.url, "/other")[0] == 404
        deadline = time.monotonic() + 5
        while len(server.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted((s.path, s.status, s.events, s.outcome) for s in server.log) == [
            ("/other", 404, 0, "refused"), ("/v1/stream", 200, 2, "complete")]
        port = urlsplit(server.url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


_line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=20)
_data_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=40).filter(
    lambda s: s.lstrip()[:1] not in ("{", "["))
_records = st.lists(st.one_of(
    st.builds(Record, st.sampled_from(["message", "delta", "ping", "response.output_text.delta"]), _data_text),
    # orjson reads integers beyond 64 bits as floats (their bytes still travel
    # unchanged), so values are drawn from the 64-bit range.
    st.builds(lambda d: Record("message", d, raw=json_bytes(d)),
              st.dictionaries(_line_text, st.integers(-(2**63), 2**63 - 1), max_size=3)),
    st.builds(lambda t: Record(COMMENT, t), _line_text),
    st.builds(lambda r: Record(RETRY, "", retry=r), st.integers(0, 10**6)),
), max_size=25)


def json_bytes(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records, st.sampled_from([None, "1", "random"]))
def test_what_is_served_parses_back_to_the_records(records, rechunk):
    with ReplayServer(records, rechunk=rechunk, ids=True) as server:
        status, body = get(server.url)
    assert status == 200
    received = parse_bytes(body, include_all=True)
    numbered = iter(range(1, len(records) + 1))
    last = None
    expected = []
    for record in records:
        if record.event not in (COMMENT, RETRY):
            last = str(next(numbered))
        expected.append((record.event, record.data, record.retry, None if record.event == COMMENT else last))
    assert [(r.event, r.data, r.retry, r.id) for r in received] == expected


def test_stop_ends_open_streams_promptly():
    slow = [Record("message", f"tick {n}", t=float(n)) for n in range(100)]
    server = ReplayServer(slow, speed=1, ids=True).start()
    split = urlsplit(server.url)
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.read1(1000) == b"id: 1\ndata: tick 0\n\n"
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    assert server.active == 0
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    conn.close()
    assert [s.outcome for s in server.log] == ["stopped"]


def test_options_are_checked():
    with pytest.raises(ValueError, match="rechunk"):
        ReplayOptions(rechunk="2")
    with pytest.raises(ValueError, match="speed"):
        ReplayOptions(speed=-1)
    with pytest.raises(TypeError, match="routes"):
        ReplayServer(42)


def test_plugin_import_is_light():
    code = "import sys, sseq.pytest_plugin; print(sorted(m for m in ('sseq.serve.server', 'http.server', 'requests', 'click') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"[]\n", b"")


OTHER_PROJECT_TEST = '''
import http.client, socket
from urllib.parse import urlsplit

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

seen = []


def test_chat_client(sseq_server):
    url = sseq_server("tests/fixtures/chat.ndjson")
    seen.append(url)
    client = openai.OpenAI(base_url=url + "/v1", api_key="test", max_retries=0)
    stream = client.chat.completions.create(model="m", messages=[], stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The result of \\\\( 1231 \\\\times 2331 \\\\) is \\\\( 2,869,461 \\\\)."
    assert chunks[-1].usage.total_tokens == 113


def test_the_server_was_stopped():
    port = urlsplit(seen[0]).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_routes_and_faults(sseq_server):
    url = sseq_server(routes={"/v1/chat/completions": "tests/fixtures/chat.ndjson"}, drop_after=2)
    client = openai.OpenAI(base_url=url + "/v1", api_key="test", max_retries=0)
    got = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
            got.append(chunk)
    assert len(got) == 2
    assert [s.outcome for s in sseq_server.last.log] == ["dropped"]
    split = urlsplit(url)
    conn = http.client.HTTPConnection(split.hostname, split.port)
    conn.request("GET", "/v1/models")
    assert conn.getresponse().status == 404
'''


def test_sseq_server_fixture_in_another_projects_suite(tmp_path):
    project = tmp_path / "project"
    (project / "tests" / "fixtures").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\n")
    recording = run_sseq("parse", REAL / "openai-chat-text-usage.sse")
    assert recording.returncode == 0
    (project / "tests" / "fixtures" / "chat.ndjson").write_bytes(recording.stdout)
    (project / "tests" / "test_client.py").write_text(OTHER_PROJECT_TEST)
    # Run from tests/: the fixture path is found relative to the rootdir.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "."],
                            capture_output=True, cwd=project / "tests", timeout=120)
    output = result.stdout.decode()
    assert result.returncode == 0, output + result.stderr.decode()
    assert "3 passed" in output
