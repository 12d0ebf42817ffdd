"""Real clients against sseq serve: the official openai SDK, a browser's
EventSource in headless Chromium, and 200 clients at once."""

from __future__ import annotations

import functools
import http.client
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

import openai
import pytest
from helpers import REAL, ROOT
from helpers.serving import serving

from sseq.library import parse_bytes, read_records
from sseq.records import Record
from sseq.serve.server import ReplayServer

CHAT = REAL / "openai-chat-text-usage.sse"
RESPONSES = REAL / "openai-responses-reasoning-summary.sse"


def recorded_events(path):
    return [r for r in read_records(str(path), include_all=False)]


def sdk(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sk-not-a-real-key", max_retries=0, timeout=30)


# ---------------------------------------------------------------- the openai SDK


def test_openai_sdk_streams_a_recorded_responses_stream_from_the_cli():
    recorded = recorded_events(RESPONSES)
    completed = next(r for r in recorded if r.type == "response.completed")
    text = "".join(r.data["delta"] for r in recorded if r.type == "response.output_text.delta")
    with serving("--route", f"/v1/responses={RESPONSES}", "--rechunk", "random") as server:
        client = sdk(server.url + "/v1")
        with client.responses.stream(model="gpt-5.5", input="How do I cross a road safely?") as stream:
            events = list(stream)
            final = stream.get_final_response()
    assert [e.type for e in events] == [r.type for r in recorded]
    assert [e.sequence_number for e in events] == [r.data["sequence_number"] for r in recorded]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == text
    assert final.output_text == text and len(text) > 1000
    assert final.id == completed.data["response"]["id"]
    assert final.usage.to_dict() == completed.data["response"]["usage"]
    assert final.usage.output_tokens_details.reasoning_tokens == 1408


def test_openai_sdk_streams_a_recorded_chat_completion_with_usage(sseq_server):
    recorded = recorded_events(CHAT)
    usage = next(r.data["usage"] for r in recorded if type(r.data) is dict and r.data.get("usage"))
    text = "".join(r.data["choices"][0]["delta"].get("content") or "" for r in recorded
                   if type(r.data) is dict and r.data["choices"])
    url = sseq_server(routes={"/v1/chat/completions": CHAT})
    client = sdk(url + "/v1")
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], stream=True,
        stream_options={"include_usage": True}))
    assert len(chunks) == len(recorded) - 1  # [DONE] ends the SDK's iteration
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert chunks[-1].choices == [] and chunks[-1].usage.to_dict() == usage
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (87, 26, 113)
    # The SDK really posted to the route.  (A request is logged just after its
    # response ends, which may be after the SDK has stopped at [DONE].)
    log = sseq_server.last.log
    deadline = time.monotonic() + 10
    while not log and time.monotonic() < deadline:
        time.sleep(0.01)
    served = log[-1]
    assert (served.method, served.path, served.status, served.outcome) == ("POST", "/v1/chat/completions", 200, "complete")


def test_openai_sdk_sees_a_drop_as_a_connection_error(sseq_server):
    url = sseq_server(CHAT, drop_after=5)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in sdk(url).chat.completions.create(model="m", messages=[], stream=True):
            received.append(chunk)
    assert len(received) == 5


def test_openai_sdk_raises_the_injected_chat_error(sseq_server):
    url = sseq_server(CHAT, error_after=3)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in sdk(url).chat.completions.create(model="m", messages=[], stream=True):
            received.append(chunk)
    assert len(received) == 3
    assert "error injected after 3 events" in str(caught.value)


def test_openai_sdk_gets_the_injected_responses_error_event(sseq_server):
    url = sseq_server(REAL / "openai-responses-text.sse", error_after=2)
    events = list(sdk(url).responses.create(model="m", input="x", stream=True))
    assert [e.type for e in events] == ["response.created", "response.in_progress", "error"]
    assert events[-1].code == "server_error" and "error injected" in events[-1].message


# ---------------------------------------------------------------- a browser


class Chromium:
    """Debian's headless chromium, driven over --remote-debugging-pipe
    (the DevTools protocol as NUL-separated JSON on file descriptors 3 and 4)."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
             "--remote-debugging-pipe"]

    def __init__(self, tmp_path):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary, "chromium is not installed: `make browser` installs Debian's package"
        to_chrome, self._write = os.pipe()
        self._read, from_chrome = os.pipe()
        self.log = open(tmp_path / "chromium.log", "wb")
        # Chromium reads commands on fd 3 and answers on fd 4: put the pipe
        # ends there, then become the browser.
        place = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                 "os.execv(sys.argv[3], sys.argv[3:])")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", place, str(to_chrome), str(from_chrome), binary, *self.FLAGS,
             f"--user-data-dir={tmp_path / 'profile'}", "about:blank"],
            pass_fds=(to_chrome, from_chrome), stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._next_id = 0

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.monotonic()
            assert left > 0, f"chromium did not answer {method}"
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                piece = os.read(self._read, 1 << 20)
                assert piece, "chromium exited"
                self._buffer += piece

    def run_page(self, url: str, timeout: float = 60) -> dict:
        """Open URL in a new tab; wait for window.sseqResult."""
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.call("Runtime.evaluate", {"expression": "JSON.stringify(window.sseqResult || null)",
                                                   "returnByValue": True}, session)["result"].get("value")
            if value and value != "null":
                return json.loads(value)
            time.sleep(0.1)
        raise AssertionError(f"the page did not finish within {timeout} s")

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (AssertionError, RuntimeError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)
        self.log.close()


@pytest.fixture
def chromium(tmp_path):
    browser = Chromium(tmp_path)
    yield browser
    browser.close()


@pytest.fixture
def page_origin():
    """The test page, served from its own origin (another port)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(ROOT / "tests" / "browser"))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def page_url(origin: str, src: str, types=()) -> str:
    return f"{origin}/eventsource.html?src={quote(src, safe='')}&types={quote(','.join(types))}"


def test_browser_eventsource_receives_every_event(chromium, page_origin, sseq_server):
    path = REAL / "anthropic-messages-thinking.sse"
    recorded = recorded_events(path)
    url = sseq_server(path, ids=True)  # ids opted in: the browser resumes, then stops at 204
    assert urlsplit(url).port != urlsplit(page_origin).port  # another origin: CORS is needed
    result = chromium.run_page(page_url(page_origin, url + "/v1/messages", {r.event for r in recorded}))
    assert [(e["type"], e["data"]) for e in result["events"]] == [(r.event, r.data_text) for r in map(_Text, recorded)]
    assert [e["id"] for e in result["events"]] == [str(n) for n in range(1, len(recorded) + 1)]
    assert result["opens"] == 1
    # After the whole stream the browser came back once, and 204 stopped it.
    log = list(sseq_server.last.log)
    assert [(s.method, s.status, s.last_event_id) for s in log] == [("GET", 200, None), ("GET", 204, "118")]


def test_browser_eventsource_resumes_after_drops_without_loss_or_repeat(chromium, page_origin, sseq_server):
    recorded = recorded_events(CHAT)
    url = sseq_server(CHAT, drop_after=10, ids=True)
    result = chromium.run_page(page_url(page_origin, url + "/v1/chat/completions"))
    events = result["events"]
    assert [e["id"] for e in events] == [str(n) for n in range(1, 29)]
    assert [e["data"] for e in events] == [_Text(r).data_text for r in recorded]
    assert result["opens"] == 3
    log = list(sseq_server.last.log)
    assert [(s.status, s.last_event_id, s.events, s.outcome) for s in log] == [
        (200, None, 10, "dropped"), (200, "10", 10, "dropped"), (200, "20", 8, "complete"), (204, "28", 0, "complete")]


class _Text:
    """A record's data as the browser's event.data string."""

    def __init__(self, record: Record):
        self.event = record.event
        self.data_text = record.raw.decode() if record.raw is not None else (
            record.data if type(record.data) is str else json.dumps(record.data))


# ---------------------------------------------------------------- many clients


def test_200_clients_at_once_receive_the_identical_sequence():
    recorded = recorded_events(REAL / "openai-responses-function-call.sse")
    # Paced, so that every stream is still open while the others connect.
    paced = [Record(r.event, r.data, r.id, r.retry, round(0.2 * n, 3), r.raw) for n, r in enumerate(recorded)]
    threads_before = threading.active_count()
    fds_before = len(os.listdir("/proc/self/fd"))
    with ReplayServer(paced, speed=1) as server:
        port = urlsplit(server.url).port
        barrier = threading.Barrier(200)

        def client(_):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            barrier.wait()
            conn.request("POST", "/v1/responses", body=b'{"stream":true}')
            response = conn.getresponse()
            body = response.read()
            conn.close()
            return response.status, body

        with ThreadPoolExecutor(200) as pool:
            results = list(pool.map(client, range(200)))
        log = list(server.log)
    assert {status for status, _ in results} == {200}
    bodies = {body for _, body in results}
    assert len(bodies) == 1
    received = parse_bytes(bodies.pop())
    assert [(r.event, r.data, r.raw) for r in received] == [(r.event, r.data, r.raw) for r in recorded]
    assert len(log) == 200 and {s.outcome for s in log} == {"complete"}
    # They really were served at once: every stream overlapped every other.
    assert max(s.started for s in log) < min(s.ended for s in log)
    # Stopping left no thread and no descriptor behind.
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= threads_before
    assert len(os.listdir("/proc/self/fd")) <= fds_before
