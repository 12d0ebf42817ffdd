"""Stable slices of an archive: ``--shard I/N`` reads only the files whose
path, relative to the folder given, hashes to slice I of N.  The slice of a
file depends on nothing but that path, so N machines or N cron jobs given
the same folder split it without talking to each other, and together read
every file exactly once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator

from ..errors import UsageProblem
from .streams import iter_input_paths


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` -> (I, N), 1 <= I <= N; UsageProblem otherwise."""
    index, sep, count = text.partition("/")
    if sep and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count):
        return int(index), int(count)
    raise UsageProblem(f"--shard: {text!r} is not I/N with 1 <= I <= N (such as 2/3)")


def shard_of(relative: str, count: int) -> int:
    """The 1-based slice of a relative path, by its sha256."""
    name = relative.replace(os.sep, "/").encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big") % count + 1


def iter_shard_paths(inputs: Iterable[str], index: int, count: int) -> Iterator[str]:
    """The input files in slice ``index`` of ``count``: files inside a
    folder by their path relative to it, files named alone by their path as
    given."""
    for given in inputs:
        if given != "-" and os.path.isdir(given):
            for path in iter_input_paths([given]):
                if shard_of(os.path.relpath(path, given), count) == index:
                    yield path
        elif shard_of(os.path.normpath(given), count) == index:
            yield given
