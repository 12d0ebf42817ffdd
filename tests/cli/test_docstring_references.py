"""Every ``sseq.x.y`` a docstring names exists: a module moved or renamed
leaves no stale reference behind."""

from __future__ import annotations

import ast
import importlib
import re

import pytest
from helpers import ROOT

from sseq import records

NAME = re.compile(r"\bsseq(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
SOURCES = sorted((ROOT / "sseq").rglob("*.py"))


def docstrings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            text = ast.get_docstring(node, clean=False)
            if text:
                yield text


def resolves(dotted: str) -> bool:
    """A module, or a name inside one (``sseq.errors.BadInput``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                try:  # a submodule not imported by its package
                    target = importlib.import_module(f"{target.__name__}.{attribute}")
                    continue
                except (ImportError, AttributeError):
                    return False
            target = getattr(target, attribute)
        return True
    return False


# sseq's own record types share the prefix; they are names of events, not modules.
RECORD_TYPES = {records.OPEN, records.CLOSE, records.COMMENT, records.RETRY}


def references():
    for path in SOURCES:
        for text in docstrings(path):
            for match in NAME.finditer(text):
                name = match.group().rstrip(".")
                if name not in RECORD_TYPES:
                    yield path.relative_to(ROOT).as_posix(), name


@pytest.mark.parametrize("where,name", sorted(set(references())))
def test_named_module_exists(where, name):
    assert resolves(name), f"{where} names {name}, which does not exist"


def test_references_are_found():
    # The scan itself works: the CLI's docstring names the console module.
    assert ("sseq/console.py", "sseq.cli") in set(references())
