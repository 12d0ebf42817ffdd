"""A cassette: a folder of recordings, each answering the request it recorded.

Every recording whose ``sseq.open`` holds a ``request`` answers that
request (see :mod:`sseq.cassette.matching` for what "the same request"
means); identical requests are answered in recorded order (the request's
``sequence``, else the recording's start time, else its file name), each
recording once unless ``repeats`` starts them again from the first.  A
recording without a request answers by path: the path of its ``sseq.open``
URL, or, for raw SSE, ``/NAME`` (its file name without suffixes) and every
path below it, as ``sseq serve FILE FILE`` does.

Loading is forgiving per file (an unreadable file or one that holds no
recording is reported through ``warn`` and left out) and strict across
files (two recordings claiming the same request and sequence is an error
naming both).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..cassette.matching import Matcher, Miss, RequestKey, normal_path, split_target
from ..errors import BadInput
from ..parser import DEFAULT_MAX_EVENT_SIZE
from ..walk import iter_folder_files
from .recording import Recording, load_recording
from .routes import route_name


@dataclass
class _Queue:
    """The recordings of one request, in the order they are played."""

    recordings: list[Recording]
    played: int = 0


class Cassette:
    """Recordings matched per request.  ``find`` is safe to call from many
    connection threads at once."""

    def __init__(self, recordings: Iterable[Recording], matcher: Matcher | None = None,
                 repeats: bool = False) -> None:
        self.matcher = matcher or Matcher()
        self.repeats = repeats
        self._lock = threading.Lock()
        self._queues: dict[RequestKey, _Queue] = {}
        self._prefixes: dict[str, _Queue] = {}
        self.recordings = list(recordings)
        for recording in self.recordings:
            if recording.request is not None:
                key = self.matcher.key_for_recorded(recording.request)
                self._queues.setdefault(key, _Queue([])).recordings.append(recording)
            elif recording.url_path is not None:
                self._queues.setdefault(Matcher.key_for_path(recording.url_path), _Queue([])).recordings.append(recording)
            else:
                self._prefixes.setdefault("/" + route_name(recording.name), _Queue([])).recordings.append(recording)
        for key, queue in self._queues.items():
            queue.recordings.sort(key=_play_order)
            _check_sequences(key, queue.recordings)
        for queue in self._prefixes.values():
            queue.recordings.sort(key=_play_order)

    def find(self, method: str, target: str, body: bytes) -> Recording | Miss:
        """The recording that answers this request, or why none does."""
        key = self.matcher.key_for_request(method, target, body)
        path = normal_path(split_target(target)[0])
        with self._lock:
            queue = self._queues.get(key) or self._queues.get(Matcher.key_for_path(target))
            if queue is None:
                queue = next((q for prefix, q in self._prefixes.items()
                              if path == prefix or path.startswith(prefix + "/")), None)
            if queue is None:
                exhausted = None
            elif queue.played < len(queue.recordings) or self.repeats:
                recording = queue.recordings[queue.played % len(queue.recordings)]
                queue.played += 1
                return recording
            else:
                exhausted = queue.recordings[-1].name
        candidates = [(r.name, self.matcher.key_for_recorded(r.request)) for r in self.recordings
                      if r.request is not None]
        return self.matcher.explain_miss(key, candidates, exhausted)

    def describe(self) -> list[tuple[str, Recording]]:
        """(what each recording answers, recording), in play order."""
        rows: list[tuple[str, Recording]] = []
        for key, queue in self._queues.items():
            for number, recording in enumerate(queue.recordings):
                label = key.describe() if key.method != "*" else f"* {key.path}"
                rows.append((label + (f" #{number}" if len(queue.recordings) > 1 else ""), recording))
        for prefix, queue in self._prefixes.items():
            rows += [(f"* {prefix}/*", recording) for recording in queue.recordings]
        return rows


def _play_order(recording: Recording) -> tuple:
    sequence = recording.sequence
    return (sequence is None, sequence or 0, recording.started or "", recording.name)


def _check_sequences(key: RequestKey, recordings: Sequence[Recording]) -> None:
    seen: dict[int, Recording] = {}
    for recording in recordings:
        sequence = recording.sequence
        if sequence is None:
            continue
        if sequence in seen:
            raise BadInput(seen[sequence].name, None,
                           f"it and {recording.name} both answer {key.describe()} as its sequence {sequence}; "
                           "remove one, or renumber request.sequence")
        seen[sequence] = recording


def iter_cassette_files(folder: str, on_skip: Callable[[str], None] | None = None) -> list[str]:
    """The regular files of a cassette folder and its subfolders, sorted;
    hidden files and folders (``.git``) are not recordings (sseq.walk)."""
    return list(iter_folder_files(folder, lambda name: True, on_skip))


def load_cassette(paths: Sequence[str], *, ids: bool = False, matcher: Matcher | None = None, repeats: bool = False,
                  max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
                  warn: Callable[[str], None] | None = None) -> Cassette:
    """A cassette of every recording in ``paths`` (folders, read through,
    and files).  A file that cannot be read, or holds no recording, is named
    through ``warn`` and left out; a folder with no recording at all is
    BadInput."""
    recordings = []
    for path in paths:
        files = iter_cassette_files(path, warn) if os.path.isdir(path) else [path]
        for file in files:
            try:
                recording = load_recording(file, ids, max_event_size)
            except BadInput as exc:
                if warn is not None:
                    warn(f"{exc}; not served")
                continue
            if recording.request is None and recording.url_path is None and not recording.steps \
                    and recording.body is None:
                if warn is not None:
                    warn(f"{file}: holds no recording (no sseq.open and no event); not served")
                continue
            recordings.append(recording)
    if not recordings:
        raise BadInput(", ".join(paths), None, "no recording to serve")
    return Cassette(recordings, matcher, repeats)
