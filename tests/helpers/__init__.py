"""Test helpers: paths, processes, real servers, the parser's oracle.

Test modules import from here, never from each other."""

from .inprocess import Invocation, invoke
from .paths import CODEX_CUT, REAL, REAL_FILES, ROOT, SSEQ, cut_block_warning
from .processes import run_sseq
from .streams import sse, stream_rows, text_of

__all__ = ["CODEX_CUT", "cut_block_warning", "REAL", "REAL_FILES", "ROOT", "SSEQ", "Invocation", "invoke", "run_sseq",
           "sse", "stream_rows", "text_of"]
