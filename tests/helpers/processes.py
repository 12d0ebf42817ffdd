"""Running the sseq command line as a user does."""

from __future__ import annotations

import subprocess

from .paths import ROOT, SSEQ


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
