"""Test helpers: paths, processes, real servers, the parser's oracle.

Test modules import from here, never from each other."""

from .paths import REAL, REAL_FILES, ROOT, SSEQ
from .inprocess import Invocation, invoke
from .processes import run_sseq

__all__ = ["REAL", "REAL_FILES", "ROOT", "SSEQ", "Invocation", "invoke", "run_sseq"]
