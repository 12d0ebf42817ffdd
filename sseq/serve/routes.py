"""Which recording answers which URL path.

Built from the command line (``FILE... --route PATH=FILE``) by
:func:`build_routes`, or from what a Python caller hands ``ReplayServer``
by :func:`as_routes`.  Every file is read here, once, at start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from ..cassette.matching import normal_path, split_target
from ..errors import UsageProblem
from ..parser import DEFAULT_MAX_EVENT_SIZE
from .recording import Recording, load_recording

# Stripped from a file name to name its route: chat.ndjson.gz -> /chat.
_RECORDING_SUFFIXES = (".gz", ".ndjson", ".jsonl", ".sse", ".txt")


@dataclass(frozen=True)
class Routes:
    """Which recording answers which path.

    ``exact``: path -> recording.  ``prefixes``: a path and everything under
    it.  ``default``: the recording for every path (one FILE, no route).
    """

    exact: Mapping[str, Recording] = field(default_factory=dict)
    prefixes: Mapping[str, Recording] = field(default_factory=dict)
    default: Recording | None = None

    def match(self, target: str) -> Recording | None:
        """The recording for a request target (path and query), or None."""
        path = normal_path(split_target(target)[0])
        if self.default is not None:
            return self.default
        found = self.exact.get(path)
        if found is not None:
            return found
        for prefix, recording in self.prefixes.items():
            if path == prefix or path.startswith(prefix + "/"):
                return recording
        return None

    def describe(self) -> list[tuple[str, Recording]]:
        if self.default is not None:
            return [("/*", self.default)]
        return [(p, r) for p, r in self.exact.items()] + [(p + "/*", r) for p, r in self.prefixes.items()]

    def all_paths(self) -> list[str]:
        return [path for path, _ in self.describe()]


def route_name(path: str) -> str:
    """The route a FILE is served under, without the slash: its file name
    without its recording suffixes (``chat.ndjson.gz`` -> ``chat``)."""
    name = os.path.basename(path)
    changed = True
    while changed:
        changed = False
        for suffix in _RECORDING_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                changed = True
    return name


def build_routes(files: Sequence[str] = (), routes: Sequence[tuple[str, str]] = (), ids: bool = False,
                 max_event_size: int = DEFAULT_MAX_EVENT_SIZE, stdin: BinaryIO | None = None) -> Routes:
    """The routes for ``sseq serve FILE... --route PATH=FILE``.

    One FILE and no ``--route``: that recording answers every path.  Otherwise
    each ``--route`` path answers exactly, and each FILE answers under
    ``/NAME`` (its file name without ``.ndjson``/``.sse``/``.gz``), so
    ``sseq serve chat.ndjson resp.ndjson`` serves ``/chat/...`` and
    ``/resp/...``.  Every file is read here, once (a file given twice is
    read once).
    """
    cache: dict[str, Recording] = {}

    def recording(path: str) -> Recording:
        if path not in cache:
            cache[path] = load_recording(path, ids, max_event_size, stdin)
        return cache[path]

    if len(files) == 1 and not routes:
        return Routes(default=recording(files[0]))
    exact: dict[str, Recording] = {}
    prefixes: dict[str, Recording] = {}
    for path, file in routes:
        key = normal_path(path)
        if key in exact:
            raise UsageProblem(f"--route {path} is given twice")
        exact[key] = recording(file)
    for file in files:
        key = "/" + route_name(file)
        if key in prefixes:
            raise UsageProblem(f"two FILEs would both be served under {key}; use --route PATH=FILE for one of them")
        prefixes[key] = recording(file)
    if not exact and not prefixes:
        raise UsageProblem("nothing to serve: give a FILE or --route PATH=FILE")
    return Routes(exact=exact, prefixes=prefixes)


def parse_route(text: str) -> tuple[str, str]:
    """``/v1/responses=resp.ndjson`` -> ("/v1/responses", "resp.ndjson")."""
    path, sep, file = text.partition("=")
    if not sep or not path.startswith("/") or not file:
        raise UsageProblem(f"--route {text!r}: expected PATH=FILE, e.g. /v1/responses=resp.ndjson")
    return path, file


def as_routes(routes, ids: bool = False) -> Routes:
    """What a Python caller gave ``ReplayServer`` as :class:`Routes`: a
    recording (served at every path) or a mapping of URL path -> recording,
    where a recording is a file path, a :class:`Recording` or a list of
    records."""
    if isinstance(routes, Routes):
        return routes
    if isinstance(routes, Mapping):
        return Routes(exact={normal_path(path): _as_recording(value, path, ids) for path, value in routes.items()})
    if isinstance(routes, (str, os.PathLike, Recording, Sequence)):
        return Routes(default=_as_recording(routes, "<records>", ids))
    raise TypeError(f"routes: expected a path, a mapping of paths, Routes or records, not {type(routes).__name__}")


def _as_recording(value, name: str, ids: bool) -> Recording:
    if isinstance(value, Recording):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load_recording(value, ids)
    return Recording.from_records(name, value, ids)
