"""A real `sseq serve` process on 127.0.0.1 and raw HTTP against it."""

from __future__ import annotations

import contextlib
import http.client
import re
import signal
import socket
import subprocess
import threading
import time
from urllib.parse import urlsplit

from sseq.records import CLOSE, COMMENT, OPEN, RETRY

from .paths import ROOT, SSEQ


class Serving:
    """A running `sseq serve` process: its URL, its stderr so far."""

    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]):
        self.proc = proc
        self.url = url
        self.lines = lines
        split = urlsplit(url)
        self.host, self.port = split.hostname, split.port

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = 10) -> str:
        """stderr, once it holds TEXT (count times): a request is logged
        just after its response ends."""
        deadline = time.monotonic() + timeout
        while self.stderr.count(text) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.stderr

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def stop(self, sig=signal.SIGTERM, timeout: float = 10) -> int:
        """Signal the process; its exit status.  ``stdout`` is then set."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        status = self.proc.wait(timeout)
        self.stdout = self.proc.stdout.read()
        return status


@contextlib.contextmanager
def serving(*args, ready_timeout: float = 30):
    """Start `sseq serve ARGS`, wait for its 'listening on URL' line."""
    proc = subprocess.Popen(SSEQ + ["serve", *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    lines: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def drain():
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            found = re.search(r"listening on (http://\S+?)/?$", line.strip())
            if found and not url:
                url.append(found.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        ready.wait(ready_timeout)
        assert url, f"sseq serve did not say where it listens; stderr: {''.join(lines)!r}"
        yield Serving(proc, url[0], lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(5)
        proc.stdout.close()
        proc.stderr.close()


def fetch(server: Serving, path="/", method="GET", headers=None, body=None):
    """(status, headers, body bytes, complete?) — complete is False when the
    chunked body ended without its final chunk (a dropped stream)."""
    conn = server.connect()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        try:
            data, complete = response.read(), True
        except http.client.IncompleteRead as exc:
            data, complete = exc.partial, False
        return response.status, response.headers, data, complete
    finally:
        conn.close()


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        piece = sock.recv(65536)
        if not piece:
            return b"".join(chunks)
        chunks.append(piece)


def raw_exchange(server: Serving, request: bytes, timeout: float = 30) -> bytes:
    """Send bytes on a socket, read until the server closes."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_to_end(sock)


def split_chunked(payload: bytes) -> tuple[list[bytes], bool]:
    """The chunks of a chunked body, and whether the final chunk came."""
    chunks = []
    pos = 0
    while pos < len(payload):
        end = payload.index(b"\r\n", pos)
        size = int(payload[pos:end], 16)
        if size == 0:
            return chunks, payload[end:] == b"\r\n\r\n"
        chunks.append(payload[end + 2 : end + 2 + size])
        assert payload[end + 2 + size : end + 4 + size] == b"\r\n"
        pos = end + 4 + size
    return chunks, False


def wire_view(records):
    """What a client can tell apart: event, data (with its exact JSON
    bytes), id, retry."""
    return [(r.event, r.data, r.raw, r.id, r.retry) for r in records]


def events_only(records):
    return [r for r in records if r.event not in (OPEN, CLOSE, COMMENT, RETRY)]


