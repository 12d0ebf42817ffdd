"""`sseq proxy` for the tests: as a process (its URL read from stderr) and
the recordings it leaves in a folder."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from .paths import ROOT, SSEQ


class Proxying:
    """A running `sseq proxy` process: its URL, its stderr so far."""

    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]):
        self.proc = proc
        self.url = url
        self.lines = lines

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = 10) -> str:
        """stderr, once it holds TEXT (count times)."""
        deadline = time.monotonic() + timeout
        while self.stderr.count(text) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.stderr

    def stop(self, sig=signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@contextlib.contextmanager
def proxying(*args, ready_timeout: float = 30, preexec_fn=None):
    """Start `sseq proxy ARGS`, wait for its 'listening on URL' line."""
    proc = subprocess.Popen(SSEQ + ["proxy", *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=preexec_fn)
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
        assert url, f"sseq proxy did not say where it listens; stderr: {''.join(lines)!r}"
        yield Proxying(proc, url[0], lines)
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


def recordings(folder) -> dict[str, list[dict]]:
    """Every recording in a folder: file name -> its records as dicts."""
    out = {}
    for path in sorted(Path(folder).glob("*.ndjson")):
        # Only whole lines: a recording may be in the middle of a write.
        out[path.name] = [json.loads(line) for line in path.read_bytes().split(b"\n")[:-1]]
    return out


def only_recording(folder) -> list[dict]:
    found = recordings(folder)
    assert len(found) == 1, f"expected one recording, found {sorted(found)}"
    return next(iter(found.values()))


def wait_for_recordings(folder, count: int, timeout: float = 10) -> dict[str, list[dict]]:
    """The folder's recordings once ``count`` of them are closed (a
    recording is closed just after the client got the end of its answer)."""
    deadline = time.monotonic() + timeout
    while True:
        found = recordings(folder)
        closed = [r for r in found.values() if r and r[-1]["event"] == "sseq.close"]
        if len(closed) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)
