"""The record modes that answer from the cassette: ``none`` (replay only),
``once`` (replay only, unless the folder held no recording at start: then
record everything) and ``new`` (replay what matches, forward and record the
rest).  ``all`` never reads the cassette.

Which recording answers a request is serve's decision
(:class:`sseq.serve.cassette.Cassette`: the same matcher, identical
requests in recorded order); how it is played is serve's too: the proxy
runs a :class:`sseq.serve.server.ReplayServer` on 127.0.0.1 for itself and
asks it for the chosen recording, then relays that answer like any other.
A miss in mode ``none`` gets serve's miss answer (404, JSON naming the
nearest recording and the difference) and counts as a failure.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import TYPE_CHECKING

from ..cassette.matching import Matcher, Miss, RequestKey
from ..errors import BadInput
from ..serve.cassette import Cassette, iter_cassette_files, load_cassette
from ..serve.recording import Recording
from ..serve.server import ReplayServer
from .upstream import Timeouts, Upstream

if TYPE_CHECKING:
    from .server import ProxyServer

__all__ = ["CassetteModes", "PLAY_PREFIX"]

PLAY_PREFIX = "/.sseq-play/"


class _Player(ReplayServer):
    """A replay server that plays the recording the proxy chose, named by a
    token at the start of the path (never reachable from outside: it
    listens on its own loopback port, for the proxy only)."""

    def __init__(self, cassette: Cassette):
        super().__init__(cassette, "127.0.0.1", 0)
        self._chosen: dict[str, Recording] = {}
        self._tokens = itertools.count(1)
        self._choice_lock = threading.Lock()

    def choose(self, recording: Recording, target: str) -> str:
        """The target to ask this server for, to get ``recording``."""
        with self._choice_lock:
            token = str(next(self._tokens))
            self._chosen[token] = recording
        return PLAY_PREFIX + token + (target if target.startswith("/") else "/" + target)

    def name_of(self, target: str) -> str:
        token = target[len(PLAY_PREFIX):].split("/", 1)[0]
        with self._choice_lock:
            recording = self._chosen.get(token)
        return os.path.basename(recording.name) if recording is not None else "?"

    def find(self, method: str, target: str, body: bytes) -> Recording | Miss:
        token = target[len(PLAY_PREFIX):].split("/", 1)[0] if target.startswith(PLAY_PREFIX) else ""
        with self._choice_lock:
            recording = self._chosen.pop(token, None)
        if recording is None:
            return Miss("this server only plays what the proxy chose", None, ())
        return recording


class CassetteModes:
    """Answers from the cassette folder as the record mode says.

    ``forwards``: whether a request the cassette does not answer goes to
    the upstream (``new``, and ``once`` with an empty folder).
    """

    def __init__(self, folder: str, mode: str, ignore: tuple[str, ...], proxy: ProxyServer):
        self.mode = mode
        self.matcher = Matcher(ignore)
        self.proxy = proxy
        self.misses = 0
        has_recordings = os.path.isdir(folder) and any(True for _ in iter_cassette_files(folder))
        if mode == "once" and not has_recordings:
            self.forwards = True  # the cassette is being made: everything is recorded
            self.cassette = None
        else:
            self.forwards = mode == "new"
            self.cassette = self._load(folder) if has_recordings else None
            if self.cassette is None and not self.forwards:
                raise BadInput(folder, None, f"no recording to replay (mode {mode}); record it first, e.g. "
                                             "with --mode once or new")
        self.player: _Player | None = None
        self.player_upstream: Upstream | None = None

    def _load(self, folder: str) -> Cassette | None:
        try:
            return load_cassette([folder], matcher=self.matcher, warn=self.proxy._warn)
        except BadInput:
            if self.forwards:
                return None  # nothing readable yet: every request is new
            raise

    def key(self, method: str, target: str, body: bytes | None) -> RequestKey:
        """What identical requests share (numbering in the recordings)."""
        return self.matcher.key_for_request(method, target, body)

    def start(self, timeouts: Timeouts) -> None:
        if self.cassette is not None and self.player is None:
            player = self.player = _Player(self.cassette)
            player.start()
            self.player_upstream = Upstream(player.url, timeouts)

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()
            if self.player_upstream is not None:
                self.player_upstream.close()
            self.player = None

    def find(self, method: str, target: str, body: bytes | None) -> tuple[str | None, Miss | None]:
        """The player's target for this request's recording, or the miss
        (None, Miss); (None, None) when there is no cassette to ask."""
        if self.cassette is None or self.player is None:
            return None, None
        found = self.cassette.find(method, target, body or b"")
        if isinstance(found, Miss):
            return None, found
        return self.player.choose(found, target), None

    def last_name(self, played_target: str) -> str:
        """The file name of the recording a player target plays."""
        assert self.player is not None
        return self.player.name_of(played_target)


def miss_answer(miss: Miss) -> tuple[int, bytes]:
    """Serve's answer to a request no recording matched."""
    from ..serve.replay_handler import MISS_STATUS, miss_body

    return int(MISS_STATUS), miss_body(miss)

