"""Where the project and its real recordings are, and how to run sseq."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "fixtures" / "real"
REAL_FILES = sorted(REAL.glob("*.sse"))
SSEQ = [sys.executable, "-m", "sseq"]
