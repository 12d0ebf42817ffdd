"""`pytest --sseq-record MODE`: another project's suite records its
cassette through the proxy, then replays it without the upstream."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from helpers import REAL
from helpers.http_servers import DripServer
from helpers.proxying import recordings

SUITE = '''
import os

import openai
import pytest


@pytest.mark.sseq_cassette("cassettes/chat", upstreams={"openai": os.environ["UPSTREAM"]})
def test_chat(sseq_server):
    client = openai.OpenAI()  # the base URL and key come from the environment the fixture set
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": os.environ.get("PROMPT", "6 times 7?")}],
        stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "2,869,461" in text
    assert chunks[-1].usage.total_tokens == 113
'''


def run_suite(folder, *args, upstream: str, prompt: str | None = None):
    env = {**os.environ, "UPSTREAM": upstream, "OPENAI_API_KEY": "sk-suite-secret-0123456789"}
    env.pop("OPENAI_BASE_URL", None)
    if prompt is not None:
        env["PROMPT"] = prompt
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_suite.py", *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "test_suite.py").write_text(SUITE)
    return tmp_path


@pytest.fixture
def upstream():
    with DripServer() as server:
        @server.route("/v1/chat/completions")
        def chat(x):
            x.start()
            x.send((REAL / "openai-chat-text-usage.sse").read_bytes())

        yield server


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_a_suite_records_with_new_then_replays_with_none_and_fails_on_a_miss(suite, upstream):
    recorded = run_suite(suite, "--sseq-record", "new", upstream=upstream.url(""))
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert len(upstream.log) == 1
    (records,) = recordings(suite / "cassettes" / "chat").values()
    assert records[0]["data"]["request"]["headers"]["authorization"] == "[redacted]"
    assert "sk-suite-secret" not in json.dumps(records)
    assert upstream.log[0].headers["authorization"] == "Bearer sk-suite-secret-0123456789"

    replayed = run_suite(suite, upstream=dead_url())  # none, the default: the upstream is not needed
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    missed = run_suite(suite, upstream=dead_url(), prompt="something else?")
    assert missed.returncode == 1
    assert "matched no recording" in missed.stdout and "something else?" in missed.stdout


def test_once_records_an_empty_cassette_then_leaves_it_alone(suite, upstream):
    first = run_suite(suite, "--sseq-record", "once", upstream=upstream.url(""))
    second = run_suite(suite, "--sseq-record", "once", upstream=upstream.url(""))
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert len(upstream.log) == 1 and len(recordings(suite / "cassettes" / "chat")) == 1


def test_an_unknown_mode_is_a_usage_error(suite, upstream):
    result = run_suite(suite, "--sseq-record", "sometimes", upstream=upstream.url(""))
    assert result.returncode == 4 and "invalid choice" in result.stderr
