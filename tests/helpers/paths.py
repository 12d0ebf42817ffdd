"""Where the project and its real recordings are, and how to run sseq."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "fixtures" / "real"
REAL_FILES = sorted(REAL.glob("*.sse"))
SSEQ = [sys.executable, "-m", "sseq"]

# The one real recording that ends inside an unfinished block (its capture
# was cut): every reader says so, once, on stderr.
CODEX_CUT = REAL / "codex-responses-fixture.sse"


def cut_block_warning(command: str, path=CODEX_CUT) -> str:
    return (f"sseq {command}: {path}: the input ended inside an unfinished event block, which was discarded"
            " (the standard's rule; parse --dispatch-at-eof reads it)\n")
