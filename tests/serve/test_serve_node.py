"""The openai npm package (tests/helpers/node, installed by `make node`),
run by node as a real subprocess against a real `sseq serve`, default
options and `--rechunk random`: every real Chat Completions and Responses
recording arrives chunk for chunk, text, tool calls and usage included,
and a recorded in-band error is thrown as the package throws it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import REAL_FILES, ROOT
from helpers.serving import serving

from sseq.library import read_records
from sseq.providers import maybe_error

NODE_DIR = ROOT / "tests" / "helpers" / "node"
FILES = [p for p in REAL_FILES if "-chat-" in p.stem or "-responses-" in p.stem]


def run_node(jobs: list[dict]) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is not installed: `make node` installs nodejs and the openai package"
    assert (NODE_DIR / "node_modules" / "openai").is_dir(), "the openai npm package is missing: run `make node`"
    result = subprocess.run([node, "stream.mjs", json.dumps(jobs)], cwd=NODE_DIR, capture_output=True, timeout=240)
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.splitlines()]


def node_version() -> str:
    return json.loads((NODE_DIR / "node_modules" / "openai" / "package.json").read_text())["version"]


@pytest.mark.parametrize("extra", [[], ["--rechunk", "random"]], ids=["default", "rechunk-random"])
def test_openai_npm_package_streams_every_chat_and_responses_recording(extra):
    assert node_version().startswith("6.")
    with serving(*extra, *FILES) as server:
        jobs = [{"baseURL": f"{server.url}/{p.stem}/v1", "api": "chat" if "-chat-" in p.stem else "responses"}
                for p in FILES]
        results = run_node(jobs)
    assert len(results) == len(FILES) == 19
    texts = 0
    for path, job, result in zip(FILES, jobs, results, strict=True):
        expected, error = [], None
        for record in read_records(str(path), include_all=False):
            error = maybe_error(record)
            if error:
                break
            if record.data != "[DONE]":
                expected.append(record.data)
        assert result["chunks"] == expected, path.name
        if error is None:
            assert result["error"] is None, (path.name, result["error"])
        else:
            assert result["error"]["name"] == "APIError" and error in result["error"]["message"], path.name
        if job["api"] == "chat":
            text = "".join(c["choices"][0]["delta"].get("content") or "" for c in result["chunks"] if c["choices"])
            usage = [c["usage"] for c in result["chunks"] if c.get("usage")]
            assert usage == [d["usage"] for d in expected if d.get("usage")], path.name
        else:
            text = "".join(c["delta"] for c in result["chunks"] if c["type"] == "response.output_text.delta")
        texts += len(text)
    assert texts > 5000
    # Tool calls were among what it got, argument fragments and all.
    tool_calls = results[[p.stem for p in FILES].index("openai-chat-tool-calls-usage")]["chunks"]
    arguments: dict[int, str] = {}
    for chunk in tool_calls:
        for call in chunk["choices"][0]["delta"].get("tool_calls") or () if chunk["choices"] else ():
            arguments[call["index"]] = arguments.get(call["index"], "") + (call["function"].get("arguments") or "")
    assert [json.loads(a) for a in arguments.values()] == [{"a": 1231, "b": 2331}]
