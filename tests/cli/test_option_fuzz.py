"""Every command's options at their limits (hypothesis, in-process): whatever
the values, sseq answers with a status it documents and messages with the
``sseq CMD:`` prefix, never a traceback.

The values come from each option's click type (integers at and past the
64-bit limits, floats as nan, inf and subnormals, choices and non-choices)
and, for text options, from what that option means (jq programs, dates,
sizes, headers, paths that are missing, a directory, a FIFO-free tmp dir).
``invoke`` lets an exception sseq did not turn into a message propagate, so
a bug shows here as the traceback a user would have seen.  SSEQ_FUZZ_EXAMPLES
raises the number of examples per command (60) for a longer hunt.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time

import click
import pytest
from helpers import REAL, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sseq.cli import COMMANDS
from sseq.serve.server import ReplayServer

DOCUMENTED = {0, 1, 2, 3, 4, 130}
CHAT = REAL / "openai-chat-text-usage.sse"

INTS = [0, 1, -1, 2, 65535, 65536, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]
FLOATS = ["0", "-0", "1", "0.5", "-1", "1e-300", "5e-324", "1e300", "1e400", "-1e400", "inf", "-inf", "nan", "1_0", "0x10", ""]
TEXT = ["", " ", "-", "--", "x", "🙂", "a\nb", "\x1b[31m", "%s%n", "9" * 400, "é" * 50]
JQ = [".", ".data", ".[", "", "error", "error(null)", "halt_error", "input", "limit(0; .)", "[.[]?]", ".data.n",
      ".data | objects | .usage", "1e1000", "-1e1000", "$__loc__", "range(3)",
      '"\\u0000"', "null", "false", "{} | .a.b.c"]
DATES = ["", "2026-12-01", "20261201", "2026-W48-1", "9999-12-31", "0001-01-01", "2026-12-01T09:00:00Z",
         "2026-12-01T09:00:00+14:00", "2026-02-30", "tomorrow", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]
SIZES = ["", "0", "-1", "1", "1K", "64M", "8589934591G", "8589934592G", "inf", "nan", "1e400", "1.5K", "K", "1KiB", "1 G", "99999999999G"]
ZONES = ["", "UTC", "Europe/Paris", "Not/AZone", "../../etc/passwd", "/etc/localtime", "Etc/GMT+14"]
HEADERS = ["Accept: text/plain", "X:", "X;", "bad header", "@/nonexistent", "A: b\r\nC: d", ": x", "Content-Length: 5"]
METHODS = ["GET", "POST", "", "BAD METHOD", "get", "OPTIONS"]
HOSTS = ["127.0.0.1", "::1", "localhost", "", "256.0.0.1", "example.invalid"]

OPTION_VALUES = {
    "where": JQ, "transform": JQ, "jq_body": JQ,
    "since": DATES, "until": DATES,
    "tz": ZONES,
    "max_event_size": SIZES,
    "headers": HEADERS,
    "method": METHODS,
    "host": HOSTS,
    "routes": ["/x={chat}", "/x", "=", "/a=/nonexistent", "x={chat}", "/=/{dir}"],
    "data": ["@-", "@/nonexistent", "@{dir}", "{}", "x", ""],
    "last_event_id": TEXT,
    "types": ["*", "", "[", "response.*", "**"], "excludes": ["*", "", "[", "ping"],
    "cors_origins": ["*", "", "http://a", "null"],
    "labels": ["a=b", "", "=", "a", "a=b=c"],
    "record": ["{dir}", "/nonexistent/dir", "{chat}", ""],
    "ignores": [".user", "", ".[", "del(.x)"],
}


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A scratch folder with a recording, a records file, a directory and
    a SQLite ledger path, and a live server for fetch to talk to."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "dir").mkdir()
    (root / "chat.sse").write_bytes(CHAT.read_bytes())
    (root / "timed.ndjson").write_bytes(b'{"event":"a","t":0,"data":"1"}\n{"event":"a","t":1e300,"data":{"n":18446744073709551621}}\n')
    (root / "prices.json").write_bytes(b'{"m": {"input": 1e400, "output": -1}}')
    with ReplayServer(str(CHAT)) as server:
        yield root, server.url


def _paths(root) -> list[str]:
    return [str(root / "chat.sse"), str(root / "timed.ndjson"), str(root / "dir"), str(root / "missing.sse"),
            str(root / "prices.json"), "-", "", "/dev/null"]


def _values(param: click.Parameter, root, url: str) -> st.SearchStrategy[str]:
    """Strings a user could type for this parameter."""
    name = param.name or ""
    if name in OPTION_VALUES:
        values = [v.replace("{chat}", str(root / "chat.sse")).replace("{dir}", str(root / "dir")) for v in OPTION_VALUES[name]]
        return st.sampled_from(values) | st.text(max_size=20)
    if name == "url":
        # Mostly the live server, so that the other options get used.
        bad = st.sampled_from(["", "ftp://x", "http://", "http://[::1", "http://a b", "http://127.0.0.1:1/", "localhost"])
        return st.sampled_from([url, url + "/v1/chat?x=1"]) | st.sampled_from([url]) | bad
    kind = param.type
    if isinstance(kind, click.Choice):
        return st.sampled_from([str(c) for c in kind.choices] + ["", "nope", "MODEL"])
    if isinstance(kind, click.types.IntParamType):
        return st.sampled_from([str(i) for i in INTS]) | st.integers().map(str) | st.sampled_from(["", "1.5", "x"])
    if isinstance(kind, click.types.FloatParamType):
        return st.sampled_from(FLOATS) | st.floats().map(repr)
    if isinstance(kind, click.Path) or name in ("files", "inputs", "prices", "ledger", "output_path", "raw_path"):
        if name in ("output_path", "raw_path", "ledger"):
            return st.sampled_from([str(root / "out.bin"), str(root / "dir"), "/nonexistent/x", "-", "", "/dev/full"])
        return st.sampled_from(_paths(root))
    return st.sampled_from(TEXT) | st.text(max_size=20)


@st.composite
def command_lines(draw, name: str, root, url: str) -> list[str]:
    command = importlib.import_module(f"sseq.commands.{name}").command
    args = [name]
    for param in command.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else draw(st.integers(0, 2))
            if name == "fetch" and param.name == "url":
                count = 1
            args += [draw(_values(param, root, url)) for _ in range(count)]
            continue
        assert isinstance(param, click.Option)
        if name == "fetch" and param.name == "max_time":
            continue  # set below, so that every run ends
        if not draw(st.booleans()):
            continue
        flag = draw(st.sampled_from(param.opts))
        if param.is_flag:
            args.append(flag)
        else:
            args += [flag, draw(_values(param, root, url))]
    if name == "fetch":
        args += ["--max-time", "5"]
    return args


def _check(result, args) -> None:
    assert result.status in DOCUMENTED, (args, result)
    text = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, (args, text)
    for line in text.splitlines():
        assert line.startswith(("sseq ", "sseq:", "\r")), (args, line)


FUZZ = settings(max_examples=int(os.environ.get("SSEQ_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


SERVERS = ("serve", "proxy")  # they run until interrupted


@pytest.mark.parametrize("name", [n for n in COMMANDS if n not in SERVERS])
def test_no_option_value_makes_a_traceback(name, place):
    root, url = place

    @FUZZ
    @given(args=command_lines(name, root, url), stdin=st.sampled_from([b"", None, CHAT.read_bytes()]))
    def run(args, stdin):
        _check(invoke(*args, input=stdin), args)

    run()


@pytest.mark.parametrize("name", SERVERS)
def test_no_server_option_value_makes_a_traceback(name, place):
    """serve and proxy run until interrupted: each run is stopped as Ctrl-C
    would."""
    root, url = place

    @settings(FUZZ, max_examples=25)
    @given(args=command_lines(name, root, url))
    def run(args):
        _check(_interrupted_after(0.3, args), args)

    run()


def _interrupted_after(seconds: float, args):
    # A real SIGINT, as Ctrl-C sends: it wakes a wait in progress.
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
    # Test runners may ignore SIGINT in their workers: here it interrupts.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer.start()
    try:
        return invoke(*args, input=b"")
    finally:
        timer.cancel()
        timer.join()
        try:  # an interrupt that fired as the run ended lands here
            for _ in range(100):
                time.sleep(0.001)
        except KeyboardInterrupt:
            pass
        signal.signal(signal.SIGINT, previous)
