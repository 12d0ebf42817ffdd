"""Cassettes: a folder of recordings, each request answered by the recording
of the same request, with the official openai SDK and raw HTTP against a
real `sseq serve` (a process, or the pytest fixture's server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from helpers import run_sseq
from helpers.cassettes import chat_chunks, request_record, write_recording
from helpers.serving import fetch, serving

from sseq.library import parse_bytes

HERE = Path(__file__).parent
WEATHER = HERE / "cassettes" / "weather-tool"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def ask(question: str, **extra) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}], "stream": True, **extra}


def text_of(body: bytes) -> str:
    return "".join(r.data["choices"][0]["delta"].get("content") or "" for r in parse_bytes(body)
                   if isinstance(r.data, dict) and r.data.get("choices"))


def logged(server, count: int) -> list:
    """The server's log once it holds ``count`` requests: each is logged
    when its handler ends, just after the client has its answer."""
    deadline = time.monotonic() + 10
    while len(server.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return sorted(server.log, key=lambda s: s.started)


def get_weather(city: str) -> str:
    return json.dumps({"temperature_c": 18, "sky": "cloudy"})


def run_weather_agent(client: openai.OpenAI, question: str) -> tuple[str, list]:
    """A plain SDK tool loop: ask, run the tools asked for, ask again."""
    messages: list = [{"role": "user", "content": question}]
    usage: list = []
    for _ in range(4):
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True,
                                                stream_options={"include_usage": True})
        text, calls = "", {}
        for chunk in stream:
            if chunk.usage:
                usage.append(chunk.usage.total_tokens)
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or ():
                    entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    entry["id"] += call.id or ""
                    entry["name"] += (call.function.name or "") if call.function else ""
                    entry["arguments"] += (call.function.arguments or "") if call.function else ""
        if not calls:
            return text, usage
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls.values()]})
        for c in calls.values():
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": get_weather(**json.loads(c["arguments"]))})
    raise AssertionError("the conversation did not end")


# ---------------------------------------------------------------- the pytest fixture, cassette mode


@pytest.mark.sseq_cassette("cassettes/weather-tool")
def test_a_two_turn_tool_conversation_completes_from_one_cassette(sseq_server):
    # The fixture pointed the SDK at the replay: no base_url, no key here.
    assert sseq_server.last.url + "/v1" == os.environ["OPENAI_BASE_URL"]
    text, usage = run_weather_agent(openai.OpenAI(), "What is the weather in Paris?")
    assert text == "It is 18 °C and cloudy in Paris."
    assert usage == [76, 109]
    assert [(s.method, s.path, Path(s.recording).name, s.status, s.events) for s in logged(sseq_server.last, 2)] == [
        ("POST", "/v1/chat/completions", "turn-0.ndjson", 200, 6),
        ("POST", "/v1/chat/completions", "turn-1.ndjson", 200, 10)]


def test_the_fixture_sets_every_sdk_base_url_and_restores_them(sseq_server, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "kept")
    url = sseq_server.cassette(WEATHER)
    assert os.environ["OPENAI_BASE_URL"] == url + "/v1"
    assert os.environ["ANTHROPIC_BASE_URL"] == url and os.environ["GOOGLE_GEMINI_BASE_URL"] == url
    assert os.environ["ANTHROPIC_API_KEY"] == "kept"
    sseq_server.stop_all()
    assert "OPENAI_BASE_URL" not in os.environ


PROJECT_TEST = '''
import openai, pytest


@pytest.mark.sseq_cassette("cassettes/weather", ignore=[".user"])
def test_matches(sseq_server):
    client = openai.OpenAI(max_retries=0)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", user="anyone", stream=True,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Sunny and 21 degrees."


@pytest.mark.sseq_cassette("cassettes/weather")
def test_misses(sseq_server):
    client = openai.OpenAI(max_retries=0)
    try:
        client.chat.completions.create(model="gpt-4o-mini", stream=True,
            messages=[{"role": "user", "content": "What is the weather in Lyon?"}])
    except openai.NotFoundError:
        pass  # a test that swallows the error still fails: the fixture saw the miss
'''


def test_the_fixture_fails_a_test_whose_request_matched_nothing(tmp_path):
    project = tmp_path / "project"
    write_recording(project / "tests" / "cassettes" / "weather" / "paris.ndjson",
                    request_record(ask("What is the weather in Paris?")), chat_chunks("Sunny and 21 degrees."))
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "tests" / "test_weather.py").write_text(PROJECT_TEST)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_BASE_URL", "_API_KEY"))}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-rA",
                             "tests"], capture_output=True, cwd=project, timeout=120, env=env)
    out = result.stdout.decode()
    assert result.returncode == 1, out
    assert "2 passed, 1 error" in out  # test_misses passed, then its teardown failed it
    assert "sseq cassette: 1 request(s) matched no recording" in out
    assert "nearest: " in out and "paris.ndjson" in out
    assert '-      "content": "What is the weather in Paris?",' in out
    assert '+      "content": "What is the weather in Lyon?",' in out


# ---------------------------------------------------------------- matching, from the command line


@pytest.fixture
def weather_cassette(tmp_path):
    folder = tmp_path / "cassette"
    write_recording(folder / "paris.ndjson", request_record(ask("What is the weather in Paris?")),
                    chat_chunks("Sunny in Paris."))
    write_recording(folder / "rome.ndjson", request_record(ask("What is the weather in Rome?")),
                    chat_chunks("Warm in Rome."))
    return folder


def test_each_request_gets_its_own_recording_and_a_miss_gets_the_diff(weather_cassette):
    with serving(weather_cassette) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-any")
        for city, answer in (("Rome", "Warm in Rome."), ("Paris", "Sunny in Paris.")):
            chunks = client.chat.completions.create(**ask(f"What is the weather in {city}?"))
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == answer
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(**ask("What is the weather in Pariss?"))
        message = str(caught.value)
        assert "no recording matched POST /v1/chat/completions" in message
        assert "nearest: " in message and "paris.ndjson" in message
        body = caught.value.body
        assert body["type"] == "sseq_no_recording" and body["nearest"].endswith("paris.ndjson")
        assert '-      "content": "What is the weather in Paris?",' in body["diff"]
        assert '+      "content": "What is the weather in Pariss?",' in body["diff"]
        stderr = server.wait_for("(no recording)")
        status = server.stop()
    # The same on stderr, and serve exits 1 at the end: CI fails.
    assert "POST /v1/chat/completions 404 (no recording): no recording matched" in stderr
    assert '+      "content": "What is the weather in Pariss?"' in stderr
    assert "POST /v1/chat/completions 200 " in stderr and "rome.ndjson: 4 events, complete" in stderr
    assert status == 1
    assert "1 request(s) matched no recording; the first: POST /v1/chat/completions" in server.stderr
    assert "Traceback" not in server.stderr


def test_key_order_spacing_and_ignored_fields_do_not_matter(weather_cassette):
    reordered = b'{ "stream" : true, "messages": [{"content": "What is the weather in Paris?", "role": "user"}],\n' \
                b'  "model": "gpt-4o-mini", "user": "someone-else", "metadata": {"run": 7} }'
    with serving(weather_cassette) as strict, serving("--ignore", ".user", "--ignore", ".metadata",
                                                      weather_cassette) as lenient:
        status, _, body, _ = fetch(strict, "/v1/chat/completions", "POST", {"Content-Type": "application/json"},
                                   reordered)
        assert status == 404 and '+  "user": "someone-else"' in json.loads(body)["error"]["diff"]
        status, headers, body, _ = fetch(lenient, "/v1/chat/completions", "POST",
                                         {"Content-Type": "application/json"}, reordered)
        assert status == 200 and text_of(body) == "Sunny in Paris."
        # The query and the method count too.
        assert fetch(lenient, "/v1/chat/completions?x=1", "POST", {}, reordered)[0] == 404
        assert fetch(lenient, "/v1/chat/completions", "PUT", {}, reordered)[0] == 404


def test_secrets_in_the_body_and_query_match_their_redacted_recording(tmp_path):
    folder = tmp_path / "cassette"
    body = {"model": "m", "api_key": "[redacted]", "input": "hi"}
    write_recording(folder / "one.ndjson", request_record(body, path="/v1/x", query="key=%5Bredacted%5D&alt=sse"),
                    chat_chunks("ok"))
    with serving(folder) as server:
        status, _, answer, _ = fetch(server, "/v1/x?alt=sse&key=AIza-real", "POST", {},
                                     json.dumps({"input": "hi", "model": "m", "api_key": "sk-real"}).encode())
    assert status == 200 and text_of(answer) == "ok"


def test_identical_requests_are_answered_in_recorded_order_then_miss_or_repeat(tmp_path):
    folder = tmp_path / "cassette"
    same = ask("Tell me a joke")
    # File names in the opposite order: the sequence decides.
    write_recording(folder / "a.ndjson", request_record(same, sequence=1), chat_chunks("Second joke."))
    write_recording(folder / "b.ndjson", request_record(same, sequence=0), chat_chunks("First joke."))
    post = ("/v1/chat/completions", "POST", {}, json.dumps(same).encode())
    with serving(folder) as server:
        assert [text_of(fetch(server, *post)[2]) for _ in range(2)] == ["First joke.", "Second joke."]
        status, _, body, _ = fetch(server, *post)
        assert status == 404 and b"already played" in body and b"--allow-playback-repeats" in body
    with serving("--allow-playback-repeats", folder) as server:
        assert [text_of(fetch(server, *post)[2]) for _ in range(3)] == ["First joke.", "Second joke.", "First joke."]


def test_recordings_without_a_sequence_play_in_the_order_they_started(tmp_path):
    folder = tmp_path / "cassette"
    same = ask("Again?")
    write_recording(folder / "a.ndjson", request_record(same), chat_chunks("Later."), started="2026-11-30T10:00:05Z")
    write_recording(folder / "b.ndjson", request_record(same), chat_chunks("Earlier."), started="2026-11-30T10:00:01Z")
    with serving(folder) as server:
        post = ("/v1/chat/completions", "POST", {}, json.dumps(same).encode())
        assert [text_of(fetch(server, *post)[2]) for _ in range(2)] == ["Earlier.", "Later."]


def test_two_recordings_claiming_the_same_request_and_sequence_is_a_start_up_error(tmp_path):
    folder = tmp_path / "cassette"
    write_recording(folder / "one.ndjson", request_record(ask("Hi"), sequence=0), chat_chunks("One."))
    write_recording(folder / "two.ndjson", request_record(ask("Hi"), sequence=0), chat_chunks("Two."))
    result = run_sseq("serve", folder, timeout=30)
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert f"{folder / 'one.ndjson'}: it and {folder / 'two.ndjson'} both answer POST /v1/chat/completions" in stderr
    assert "Traceback" not in stderr


def test_unreadable_and_non_recording_files_are_named_and_the_rest_served(weather_cassette):
    (weather_cassette / "notes.md").write_text("# not a recording\n")
    (weather_cassette / "broken.ndjson").write_text('{"event":"sseq.open","data":{}}\n{not json\n')
    (weather_cassette / ".hidden").write_text("ignored")
    with serving(weather_cassette) as server:
        status, _, body, _ = fetch(server, "/v1/chat/completions", "POST", {},
                                   json.dumps(ask("What is the weather in Rome?")).encode())
        assert status == 200 and text_of(body) == "Warm in Rome."
    stderr = server.stderr
    assert f"{weather_cassette / 'notes.md'}: holds no recording" in stderr
    assert f"{weather_cassette / 'broken.ndjson'}:2: " in stderr and "not served" in stderr
    assert ".hidden" not in stderr and "Traceback" not in stderr


def test_a_non_json_body_is_matched_as_bytes_and_a_huge_one_is_413(tmp_path):
    folder = tmp_path / "cassette"
    write_recording(folder / "form.ndjson", request_record("q=weather&city=paris", path="/search"),
                    chat_chunks("Form answer."))
    with serving(folder) as server:
        assert text_of(fetch(server, "/search", "POST", {}, b"q=weather&city=paris")[2]) == "Form answer."
        assert fetch(server, "/search", "POST", {}, b"q=weather&city=rome")[0] == 404
        status = fetch(server, "/search", "POST", {"Content-Type": "application/json"},
                       b"{" + b" " * (17 * 1024 * 1024) + b"}")[0]
        assert status == 413
        assert fetch(server, "/search", "POST", {}, b"q=weather&city=paris")[0] == 404  # played once; still serving


def test_match_path_and_recordings_without_a_request_answer_by_path(tmp_path):
    folder = tmp_path / "cassette"
    write_recording(folder / "chat.ndjson", request_record(ask("Hi")), chat_chunks("Chat."))
    write_recording(folder / "old.ndjson", None, chat_chunks("Old, by its URL path."))  # no request: v1 fetch
    (folder / "raw.sse").write_bytes(b'data: {"choices":[{"delta":{"content":"Raw."}}]}\n\n')
    with serving(folder) as server:
        # The old recording's URL path is /v1/chat/completions; any body.
        assert text_of(fetch(server, "/v1/chat/completions", "POST", {}, b'{"other":1}')[2]) == "Old, by its URL path."
        assert text_of(fetch(server, "/raw/anything", "GET")[2]) == "Raw."
    with serving("--match", "path", folder) as server:
        bodies = [text_of(fetch(server, "/v1/chat/completions", "POST", {}, b"{}")[2]) for _ in range(2)]
        assert sorted(bodies) == ["Chat.", "Old, by its URL path."]


# ---------------------------------------------------------------- faithful answers: errors, JSON, headers


RATE_LIMITED = {"error": {"message": "Rate limit reached for gpt-4o-mini in organization org-x on requests per min "
                          "(RPM): Limit 3, Used 3, Requested 1.", "type": "requests", "param": None,
                          "code": "rate_limit_exceeded"}}
SERVER_ERROR = {"error": {"message": "The server had an error while processing your request. Sorry about that!",
                          "type": "server_error", "param": None, "code": None}}
JSON_HEADERS = {"content-type": "application/json", "x-request-id": "req_recorded", "retry-after": "0",
                "content-length": "999", "content-encoding": "gzip"}


@pytest.mark.parametrize("status, body, error", [(429, RATE_LIMITED, openai.RateLimitError),
                                                 (500, SERVER_ERROR, openai.InternalServerError)])
def test_a_recorded_error_reaches_the_sdk_as_that_error(tmp_path, sseq_server, status, body, error):
    recording = write_recording(tmp_path / f"{status}.ndjson", request_record(ask("Hi")), status=status,
                                headers=JSON_HEADERS, body=json.dumps(body))
    url = sseq_server(recording)
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-any")  # default options: it retries, then raises
    with pytest.raises(error) as caught:
        client.chat.completions.create(**ask("Hi"))
    assert caught.value.status_code == status
    assert caught.value.message == f"Error code: {status} - {body['error']['message']}"
    assert caught.value.body == body["error"]
    assert caught.value.response.headers["x-request-id"] == "req_recorded"
    assert caught.value.response.headers["retry-after"] == "0"
    assert "content-encoding" not in caught.value.response.headers
    log = logged(sseq_server.last, 3)
    assert [s.status for s in log] == [status] * 3  # the SDK's two retries were answered too


def test_a_recorded_json_completion_replays_as_that_answer(tmp_path, sseq_server):
    completion = {"id": "chatcmpl-json", "object": "chat.completion", "created": 1764496800, "model": "gpt-4o-mini",
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Plain JSON."},
                               "finish_reason": "stop"}],
                  "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}
    request = dict(ask("Hi"), stream=False)
    write_recording(tmp_path / "c" / "json.ndjson", request_record(request), headers=JSON_HEADERS,
                    body=json.dumps(completion))
    sseq_server.cassette(tmp_path / "c")
    answer = openai.OpenAI().chat.completions.with_raw_response.create(**request)
    assert answer.headers["x-request-id"] == "req_recorded"
    assert answer.headers["content-length"] == str(len(json.dumps(completion)))
    parsed = answer.parse()
    assert parsed.choices[0].message.content == "Plain JSON." and parsed.usage.total_tokens == 8


def test_recorded_headers_are_served_without_hop_by_hop_or_redacted_ones(weather_cassette):
    with serving(weather_cassette) as server:
        status, headers, body, complete = fetch(server, "/v1/chat/completions", "POST", {},
                                                json.dumps(ask("What is the weather in Rome?")).encode())
    assert (status, complete) == (200, True)
    assert headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert headers["x-request-id"] == "req_hand_made" and headers["openai-processing-ms"] == "120"
    assert headers.get_all("Transfer-Encoding") == ["chunked"]  # sseq's own framing, once
    assert headers.get_all("Connection") == ["close"]
    assert "set-cookie" not in headers and "X-Accel-Buffering" not in headers and "Server" not in headers
    assert b"id:" not in body and b"keep-alive" not in body


def test_a_miss_in_route_mode_is_still_a_404_naming_the_routes(tmp_path):
    recording = write_recording(tmp_path / "r.ndjson", None, chat_chunks("x"))
    with serving("--route", f"/v1/chat/completions={recording}") as server:
        status, _, body, _ = fetch(server, "/v1/other")
    assert status == 404 and b"routes: /v1/chat/completions" in body


def test_route_and_a_folder_together_is_a_usage_error(weather_cassette):
    result = run_sseq("serve", weather_cassette, "--route", f"/x={weather_cassette / 'paris.ndjson'}", timeout=30)
    assert result.returncode == 2 and b"--route serves single files" in result.stderr


def test_a_bad_ignore_path_is_a_usage_error(weather_cassette):
    result = run_sseq("serve", "--ignore", "user", weather_cassette, timeout=30)
    assert result.returncode == 2 and b"--ignore 'user': expected a jq path" in result.stderr
    result = run_sseq("serve", "--ignore", ".a[", weather_cassette, timeout=30)
    assert result.returncode == 2 and b"--ignore '.a['" in result.stderr


def test_library_users_get_the_log_and_the_misses(weather_cassette):
    from sseq.serve.server import ReplayServer

    with ReplayServer(weather_cassette, ignore=[".user"]) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-any", max_retries=0)
        list(client.chat.completions.create(**ask("What is the weather in Paris?"), user="u1"))
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(**ask("What is the weather in Oslo?"))
        # Known before the 404 was sent: no waiting for the log.
        assert [(s.method, s.path, s.status) for s in server.misses] == [("POST", "/v1/chat/completions", 404)]
    log = sorted(server.log, key=lambda s: s.started)
    assert [(s.method, s.path, s.status, s.recording and Path(s.recording).name, s.events) for s in log] == [
        ("POST", "/v1/chat/completions", 200, "paris.ndjson", 4), ("POST", "/v1/chat/completions", 404, None, 0)]
    assert len(server.misses) == 1 and "Oslo" in server.misses[0].miss


def test_a_folder_without_recordings_is_bad_input(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("recordings go here\n")
    result = run_sseq("serve", tmp_path / "empty", timeout=30)
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert f"{tmp_path / 'empty' / 'README.md'}: holds no recording" in stderr
    assert stderr.splitlines()[-1] == f"sseq serve: error: {tmp_path / 'empty'}: no recording to serve"
    assert "Traceback" not in stderr
