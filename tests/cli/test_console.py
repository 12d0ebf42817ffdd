"""The console: stdout carries data only, messages go to stderr with the
``sseq CMD:`` prefix (click's usage errors too), a closed stdin or stdout is
one clear line, and what a terminal gets depends on isatty."""

from __future__ import annotations

import subprocess

import pytest
from helpers import REAL, ROOT, SSEQ, invoke, run_sseq

CHAT = REAL / "openai-chat-text-usage.sse"
READERS = ["parse", "filter", "text", "replay", "usage"]


@pytest.mark.parametrize("args,message", [
    (["parse", "--no-such-option"], "sseq parse: error: No such option '--no-such-option'; see 'sseq parse --help'"),
    (["usage", "--format", "colour"], "sseq usage: error: Invalid value for '--format': 'colour' is not one of"),
    (["usage", "--by", "colour"], "sseq usage: error: --by: 'colour' is not one of"),
    (["replay", "--speed", "-1"], "sseq replay: error: Invalid value for '--speed': -1.0 is not in the range x>=0"),
    (["filter", "--head"], "sseq filter: error: Option '--head' requires an argument"),
    (["no-such-command"], "sseq: error: No such command 'no-such-command'"),
])
def test_click_usage_errors_are_one_prefixed_line_with_status_2(args, message):
    result = invoke(*args)
    assert result.status == 2
    assert result.stdout == b""
    assert result.stderr.decode().startswith(message)
    assert result.stderr.count(b"\n") == 1


def test_a_multi_line_library_message_is_one_line():
    result = invoke("filter", "--jq", ".[")  # jq's message shows the program under it
    assert result.status == 2
    assert result.stderr.count(b"\n") == 1
    assert result.stderr.startswith(b"sseq filter: error: --jq: jq: error: syntax error")


@pytest.mark.parametrize("command", READERS)
def test_closed_stdin_is_one_clear_line(command):
    result = invoke(command, input=None)
    assert result.status == 1
    assert result.stderr.decode() == f"sseq {command}: error: <stdin>: standard input is closed\n"


@pytest.mark.parametrize("args", [["fetch", "-d", "@-", "http://127.0.0.1:1/"], ["serve", "-"]])
def test_fetch_body_or_served_recording_from_closed_stdin_is_one_clear_line(args):
    result = invoke(*args, input=None)
    assert result.status == 1
    assert result.stderr.decode() == f"sseq {args[0]}: error: <stdin>: standard input is closed\n"


@pytest.mark.parametrize("command", READERS)
def test_closed_stdout_is_one_clear_line(command):
    result = invoke(command, CHAT, stdout_closed=True)
    assert result.status == 1
    assert result.stderr.decode() == f"sseq {command}: error: cannot write output: standard output is closed\n"


def test_help_to_a_closed_stdout_is_one_clear_line():
    result = invoke("--help", stdout_closed=True)
    assert (result.status, result.stderr) == (1, b"sseq: error: cannot write output: standard output is closed\n")


@pytest.mark.parametrize("redirect,message", [
    ("<&-", "error: <stdin>: standard input is closed"),
    (f"{CHAT} >&-", "error: cannot write output: standard output is closed"),
])
def test_a_real_process_started_without_stdin_or_stdout(redirect, message):
    for command in ("parse", "usage"):
        shell = subprocess.run(["bash", "-c", f"{' '.join(SSEQ)} {command} {redirect}"],
                               capture_output=True, cwd=ROOT, timeout=60)
        assert shell.returncode == 1
        assert shell.stderr.decode() == f"sseq {command}: {message}\n"


def test_usage_format_follows_whether_stdout_is_a_terminal():
    table = invoke("usage", CHAT, stdout_isatty=True)
    data = invoke("usage", CHAT)
    assert table.stdout.splitlines()[0].split()[:2] == [b"model", b"streams"]
    assert data.stdout.startswith(b"{")


def test_progress_only_when_stderr_is_a_terminal(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.sse").write_bytes(CHAT.read_bytes())
    quiet = invoke("usage", tmp_path)
    drawn = invoke("usage", tmp_path, stderr_isatty=True)
    assert quiet.stderr == b""
    assert b"sseq usage: [" in drawn.stderr and b"3/3 files" in drawn.stderr
    assert drawn.stdout == quiet.stdout  # progress never reaches the data
    assert invoke("usage", "-q", tmp_path, stderr_isatty=True).stderr == b""


def test_in_process_and_subprocess_agree():
    args = ("filter", "-t", "*", "--head", "3", CHAT)
    inside, outside = invoke(*args), run_sseq(*args)
    assert (inside.status, inside.stdout, inside.stderr) == (outside.returncode, outside.stdout, outside.stderr)
