"""What holds for every family: one Api vocabulary, error events read back,
string data holding JSON decoded, appended captures split, and a line of
its own for each file's text."""

from __future__ import annotations

import subprocess

import pytest
from helpers import REAL, REAL_FILES, ROOT, SSEQ, run_sseq, stream_rows

import sseq
from sseq.providers import FAMILIES, Api, family_named, maybe_error
from sseq.text import TextAssembler
from sseq.usage import usage_of

API_NAMES = {Api.OPENAI_CHAT, Api.OPENAI_RESPONSES, Api.ANTHROPIC, Api.GEMINI, Api.COHERE, Api.UNKNOWN}


def test_one_api_vocabulary_in_every_family_and_every_row():
    assert {family.api for family in FAMILIES} | {Api.UNKNOWN} == API_NAMES
    assert all(family_named(family.api) is family for family in FAMILIES)
    assert {row["api"] for row in stream_rows(None, REAL)} <= API_NAMES


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.api)
@pytest.mark.parametrize("named", [False, True])
def test_each_familys_error_event_is_read_back_as_an_error(family, named):
    error = family.error_event("boom", None, named)
    assert maybe_error(error) == "boom"


def text_of_records(records) -> str:
    assembler = TextAssembler(reasoning=True)
    return "".join(assembler.feed(r) for r in records) + assembler.finish()


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_records_with_string_data_read_as_the_json_they_hold(path):
    parsed = sseq.read_records(str(path), include_all=False)
    raw = sseq.read_records(str(path), raw_data=True, include_all=False)
    assert any(type(r.data) is str and r.data.startswith("{") for r in raw)
    assert text_of_records(raw) == text_of_records(parsed)
    as_raw, as_parsed = usage_of(raw), usage_of(parsed)
    assert as_raw == as_parsed


def test_parse_raw_data_piped_into_text_and_usage():
    path = REAL / "anthropic-messages-thinking.sse"
    parse = subprocess.Popen(SSEQ + ["parse", "--raw-data", str(path)], cwd=ROOT, stdout=subprocess.PIPE)
    piped = run_sseq("text", "--reasoning", input=parse.communicate()[0])
    assert piped.returncode == 0 and piped.stdout == run_sseq("text", "--reasoning", path).stdout
    raw = run_sseq("parse", "--raw-data", path).stdout
    (row,) = stream_rows(raw)
    (direct,) = stream_rows(None, path)
    assert (row["usage_source"], row["verdict"], row["output_tokens"]) == ("reported", "complete", 282)
    assert row["digest"] == direct["digest"]


def test_every_real_capture_appended_to_one_file_counts_apart():
    # The Codex fixture ends inside an unfinished block, which the next
    # file's first lines would complete: it is left out.
    files = [p for p in REAL_FILES if p.stem != "codex-responses-fixture"]
    appended = stream_rows(b"".join(p.read_bytes() for p in files))
    apart = stream_rows(None, *files)
    fields = ("api", "response_id", "model", "verdict", "input_tokens", "output_tokens", "tool_calls", "stop_reason")
    assert len(appended) == len(files) == 29
    assert [[r[f] for f in fields] for r in appended] == [[r[f] for f in fields] for r in apart]


def test_the_text_of_each_file_and_stream_starts_on_a_line_of_its_own():
    one, two = REAL / "gemini-sse-text.sse", REAL / "openai-chat-text-usage.sse"
    first, second = (run_sseq("text", p).stdout for p in (one, two))
    assert run_sseq("text", one, two).stdout == first + second
    assert run_sseq("text", input=one.read_bytes() + two.read_bytes()).stdout == first + second


def test_until_done_sees_the_terminal_marker_in_string_data():
    path = REAL / "openai-responses-text.sse"
    raw = run_sseq("parse", "--raw-data", path).stdout
    extra = b'{"event":"response.created","data":"{\\"type\\":\\"response.created\\"}"}\n'
    kept = run_sseq("filter", "--until-done", input=raw + extra).stdout
    assert kept == raw and kept.splitlines()[-1].startswith(b'{"event":"response.completed"')
