"""Test helpers: paths, processes, real servers, the parser's oracle.

Test modules import from here, never from each other."""

from .paths import REAL, REAL_FILES, ROOT, SSEQ
from .processes import run_sseq
from .streams import sse, stream_rows, text_of

__all__ = ["REAL", "REAL_FILES", "ROOT", "SSEQ", "run_sseq", "sse", "stream_rows", "text_of"]
