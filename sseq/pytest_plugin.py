"""The ``sseq_server`` pytest fixture (registered as a ``pytest11`` plugin).

Cassette mode: a test names its cassette folder (recordings made by
``sseq fetch`` or ``sseq proxy --record``), and every SDK it creates talks
to sseq's replay of it::

    @pytest.mark.sseq_cassette("cassettes/weather", ignore=[".user"])
    def test_agent(sseq_server):
        client = openai.OpenAI()          # OPENAI_BASE_URL points at the replay
        ...

or, from inside the test, ``url = sseq_server.cassette("cassettes/weather")``.
For that test the fixture sets ``OPENAI_BASE_URL`` (``URL/v1``),
``ANTHROPIC_BASE_URL`` and ``GOOGLE_GEMINI_BASE_URL`` (``URL``), and, when
they are not set, ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY`` and
``GEMINI_API_KEY`` to a placeholder (the SDKs refuse to start without one;
the replay never sees a real key).  They are restored when the test ends.
A request that no recording matched makes the test fail, with the diff
against the nearest recording.  The marker's keywords: ``ignore`` (jq
paths), ``match`` (``"request"`` or ``"path"``), ``allow_playback_repeats``
and the replay options below.

Recording: ``pytest --sseq-record MODE`` (or the ini option
``sseq_record``) chooses the record mode, shared with ``sseq proxy`` and
``sseq serve``: ``none`` (the default, replay only: what CI runs), ``once``
(record a cassette folder that holds no recording yet), ``new`` (replay
what matches, record the rest), ``all`` (re-record everything).  In the
modes that record, the SDKs talk to an ``sseq proxy`` per provider, which
forwards to the real API (``https://api.openai.com``,
``https://api.anthropic.com``, ``https://generativelanguage.googleapis.com``;
the marker's ``upstreams={"openai": URL, ...}`` changes them) and writes
each exchange into the folder (created in the test file's folder when
missing), secrets redacted.  Real keys come from the environment as usual.

Single recordings: ``sseq_server(recording, **options)`` starts a
:class:`sseq.serve.server.ReplayServer` on 127.0.0.1 and a free port, and
returns its URL (no trailing slash), or pass ``routes={"/v1/responses":
"resp.ndjson", ...}``.  Options are those of
:class:`sseq.serve.server.ReplayOptions`: ``speed``, ``keepalive``, ``ids``,
``rechunk``, ``seed``, ``drop_after``, ``error_after``, ``cors_origins``.

Relative paths are tried from the current directory, then the rootdir, then
the test file's folder.  Every server started in a test is stopped when the
test ends; the last one is ``sseq_server.last``, for its ``log`` of
requests.  Importing this module costs nothing: sseq's server is imported on
first use.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest

RECORD_MODES = ("none", "once", "new", "all")
_KEY_PLACEHOLDER = "sseq-replay-no-key"
# Where each provider's SDK goes when a cassette is being recorded.
UPSTREAMS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
# Options of the marker that only the replay server takes.
_REPLAY_ONLY = ("match", "allow_playback_repeats")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("sseq")
    group.addoption("--sseq-record", choices=RECORD_MODES, default=None, metavar="MODE",
                    help="sseq cassettes: none (replay only, the default), once, new (record what does not "
                         "match), all (re-record); see sseq-proxy(1).")
    parser.addini("sseq_record", "sseq cassettes' record mode when --sseq-record is not given", default="none")


def _record_mode(config) -> str:
    mode = config.getoption("--sseq-record") or config.getini("sseq_record") or "none"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"sseq_record = {mode!r}: expected one of {', '.join(RECORD_MODES)}")
    return mode


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "sseq_cassette(folder, **options): serve this cassette folder to the test's SDKs (sseq_server)")


def _warn(text: str) -> None:
    # A file of the cassette that is not served, or a handler failure.
    warnings.warn(f"sseq serve: {text}", stacklevel=2)


class _Starter:
    """The callable the fixture returns."""

    def __init__(self, roots, record_mode: str = "none") -> None:
        self._roots = [str(r) for r in roots]
        self.record_mode = record_mode
        self.servers: list[Any] = []
        self.cassettes: list[Any] = []
        self.proxies: list[Any] = []
        self.last: Any = None
        self._saved_env: dict[str, str | None] = {}

    def _resolve(self, path):
        if os.path.isabs(path) or os.path.exists(path):
            return path
        for root in self._roots:
            candidate = os.path.join(root, os.fspath(path))
            if os.path.exists(candidate):
                return candidate
        return path

    def __call__(self, recording=None, *, routes=None, host: str = "127.0.0.1", **options) -> str:
        from sseq.serve.server import ReplayServer

        if (recording is None) == (routes is None):
            raise TypeError("sseq_server: give a recording path, or routes={path: recording}")
        if routes is not None:
            target = {path: self._resolve(value) if isinstance(value, (str, os.PathLike)) else value
                      for path, value in routes.items()}
        elif isinstance(recording, (str, os.PathLike)):
            target = self._resolve(recording)
        else:
            target = recording
        server = ReplayServer(target, host, 0, **options).start()
        self.servers.append(server)
        self.last = server
        return server.url

    def cassette(self, folder, *, host: str = "127.0.0.1", upstreams=None, **options) -> str:
        """Serve a cassette folder (or, in the record modes, record into it
        through ``sseq proxy``), point the SDKs' base-URL variables at it
        for this test, and return its URL (the OpenAI proxy's when
        recording)."""
        from sseq.serve.server import ReplayServer

        path = self._resolve(folder)
        if self.record_mode != "none":
            if not os.path.exists(path):
                path = os.path.join(self._roots[-1], os.fspath(folder))
            urls = self._record(path, host, dict(UPSTREAMS, **(upstreams or {})), options)
            self._set_env({"OPENAI_BASE_URL": urls["openai"] + "/v1", "ANTHROPIC_BASE_URL": urls["anthropic"],
                           "GOOGLE_GEMINI_BASE_URL": urls["gemini"]})
            return urls["openai"]
        if not os.path.isdir(path):
            raise pytest.UsageError(f"sseq_cassette: {folder} is not a folder of recordings")
        server = ReplayServer(path, host, 0, on_error=_warn, **options).start()
        self.servers.append(server)
        self.cassettes.append(server)
        self.last = server
        self._set_env({"OPENAI_BASE_URL": server.url + "/v1", "ANTHROPIC_BASE_URL": server.url,
                       "GOOGLE_GEMINI_BASE_URL": server.url})
        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            if not os.environ.get(name):
                self._set_env({name: _KEY_PLACEHOLDER})
        if not os.environ.get("GEMINI_API_KEY") and not os.environ.get("GOOGLE_API_KEY"):
            self._set_env({"GEMINI_API_KEY": _KEY_PLACEHOLDER})
        return server.url

    def _record(self, path: str, host: str, upstreams: dict[str, str], options: dict) -> dict[str, str]:
        """One recording proxy per provider, all into the cassette folder."""
        from sseq.proxy.server import ProxyServer

        unknown = sorted(set(options) - {"ignore", *_REPLAY_ONLY})
        if unknown:
            raise pytest.UsageError(f"sseq_cassette: {', '.join(unknown)} cannot be used with --sseq-record "
                                    f"{self.record_mode} (the proxy records)")
        urls = {}
        for provider, upstream in upstreams.items():
            proxy = ProxyServer(upstream, host, 0, record=path, mode=self.record_mode,
                                ignore=tuple(options.get("ignore", ())), quiet=True, on_error=_warn).start()
            self.servers.append(proxy)
            self.proxies.append(proxy)
            self.last = proxy
            urls[provider] = proxy.url
        return urls

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def unmatched(self) -> list[str]:
        """The message of every request no cassette recording matched."""
        found = [f"{s.method} {s.path}: {s.miss}" for server in self.cassettes for s in server.misses]
        return found + [f"{e.method} {e.path}: {e.miss}" for proxy in self.proxies for e in proxy.log
                        if e.miss is not None]

    def stop_all(self) -> None:
        while self.servers:
            self.servers.pop().stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()


@pytest.fixture
def sseq_server(request):
    """Start sseq replay servers: ``url = sseq_server("chat.ndjson")``, or
    ``@pytest.mark.sseq_cassette("folder")`` to serve a cassette."""
    starter = _Starter([request.config.rootpath, request.path.parent], _record_mode(request.config))
    marker = request.node.get_closest_marker("sseq_cassette")
    try:
        if marker is not None:
            if len(marker.args) != 1:
                raise pytest.UsageError("sseq_cassette: give one cassette folder, e.g. sseq_cassette('cassettes/x')")
            starter.cassette(marker.args[0], **marker.kwargs)
        yield starter
    finally:
        # Stopping waits for the last answers, so every miss is logged.
        starter.stop_all()
    unmatched = starter.unmatched()
    if unmatched:
        pytest.fail("sseq cassette: {} request(s) matched no recording:\n{}".format(
            len(unmatched), "\n".join(unmatched)), pytrace=False)
