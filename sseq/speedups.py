"""Which core sseq runs on: the compiled one, or pure Python.

``sseq/_speedups.c`` is built by ``pip install`` where a C compiler is
there (setup.py; ``optional``, so an install without one still succeeds).
``compiled`` is the module, or None when it was not built or when
``SSEQ_PURE_PYTHON`` is set to anything but ``0`` or the empty string (the
test suite runs the parser and record tests both ways; their output must be
the same bytes).
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["compiled", "core_name"]


def _load() -> ModuleType | None:
    if os.environ.get("SSEQ_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return _speedups


compiled = _load()


def core_name() -> str:
    """``compiled`` or ``pure Python``: for --version and bug reports."""
    return "compiled" if compiled is not None else "pure Python"
