"""The ``sseq_server`` pytest fixture (registered as a ``pytest11`` plugin).

In another project's test suite::

    def test_chat_client(sseq_server):
        url = sseq_server("tests/fixtures/chat.ndjson")
        client = openai.OpenAI(base_url=url + "/v1", api_key="test")

``sseq_server(recording, **options)`` starts a :class:`sseq.serve.server.ReplayServer`
on 127.0.0.1 and a free port, and returns its URL (no trailing slash); every
server started in a test is stopped when the test ends.  ``recording`` is a
path (relative paths are tried from the current directory, then from the
rootdir), or pass ``routes={"/v1/responses": "resp.ndjson", ...}``.  Options
are those of :class:`sseq.serve.server.ReplayOptions`: ``speed``, ``keepalive``,
``ids``, ``rechunk``, ``seed``, ``drop_after``, ``error_after``,
``cors_origins``.  The server object itself is ``sseq_server.last``, for its
``log`` of requests.

Importing this module costs nothing: sseq's server is imported on first use.
"""

from __future__ import annotations

import os

import pytest


class _Starter:
    """The callable the fixture returns."""

    def __init__(self, rootpath) -> None:
        self._rootpath = rootpath
        self.servers: list = []
        self.last = None

    def _resolve(self, path):
        if os.path.isabs(path) or os.path.exists(path):
            return path
        candidate = os.path.join(str(self._rootpath), os.fspath(path))
        return candidate if os.path.exists(candidate) else path

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

    def stop_all(self) -> None:
        while self.servers:
            self.servers.pop().stop()


@pytest.fixture
def sseq_server(request):
    """Start sseq replay servers: ``url = sseq_server("chat.ndjson")``."""
    starter = _Starter(request.config.rootpath)
    yield starter
    starter.stop_all()
