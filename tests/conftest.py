"""Shared test helpers: the real recordings, and running sseq as a user does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# The fetch tests' real HTTP server on 127.0.0.1, as the fixture drip_server.
from http_servers import drip_server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real"
REAL_FILES = sorted(REAL.glob("*.sse"))
SSEQ = [sys.executable, "-m", "sseq"]


def run_sseq(*args, input: bytes | None = None, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    """Run the sseq command line in a subprocess; stdout and stderr apart."""
    return subprocess.run(
        SSEQ + [str(a) for a in args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture
def sseq():
    return run_sseq


@pytest.fixture(params=REAL_FILES, ids=lambda p: p.stem)
def real_recording(request) -> Path:
    return request.param
