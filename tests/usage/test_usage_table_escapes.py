"""The usage table (in-process) shows names from recordings with their
control characters escaped: a newline or an ESC sequence in a model, file,
provider or label never reaches the terminal as such."""

from __future__ import annotations

import orjson
import pytest
from helpers import invoke


def recording(model: str) -> bytes:
    chunk = {"id": "c1", "model": model, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2,
                                                                  "total_tokens": 5}}
    return b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n"


@pytest.mark.parametrize("model,shown", [
    ("gpt\nfake row  99", "gpt\\nfake row  99"),
    ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
    ("a\rb\tc\x7f\x85", "a\\rb\\tc\\x7f\\x85"),
    ("evil\u202eslm.exe", "evil\\u202eslm.exe"),
])
@pytest.mark.parametrize("by", ["model", "stream"])
def test_table_escapes_control_characters(tmp_path, model, shown, by):
    path = tmp_path / "run.sse"
    path.write_bytes(recording(model))
    result = invoke("usage", "--format", "table", "--by", by, path)
    assert result.status == 0, result.stderr
    text = result.stdout.decode()
    assert shown in text
    assert not any(ch in text for ch in "\x1b\r\t\x7f\x85\u202e")
    assert len(text.splitlines()) == 3  # header, rule, one row: no line added by a name


def test_json_keeps_the_name_as_it_is(tmp_path):
    path = tmp_path / "run.sse"
    path.write_bytes(recording("gpt\nx"))
    rows = orjson.loads(invoke("usage", "--format", "json", path).stdout)["rows"]
    assert rows[0]["model"] == "gpt\nx"


def test_file_names_are_escaped_too(tmp_path):
    path = tmp_path / "a\x1b[31mb.sse"
    path.write_bytes(recording("m"))
    text = invoke("usage", "--format", "table", "--by", "file", path).stdout.decode()
    assert "a\\x1b[31mb.sse" in text and "\x1b" not in text
