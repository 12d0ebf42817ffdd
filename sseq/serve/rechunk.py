"""Splitting bytes badly on purpose (``--rechunk``), the way real networks
and proxies do, so that a client's parser meets lines cut anywhere."""

from __future__ import annotations

import random

RECHUNK_MODES = ("1", "random")


class Rechunker:
    """``mode``: None (keep each write whole), ``"1"`` (one byte per piece)
    or ``"random"`` (each write cut at 1 to 8 random places).  ``seed``
    makes ``"random"`` repeatable: one Rechunker per connection gives every
    connection the same cuts."""

    def __init__(self, mode: str | None = None, seed: int | None = None) -> None:
        self.mode = mode
        self.rng = random.Random(seed)

    def split(self, data: bytes) -> list[bytes]:
        """The pieces to send for ``data``, in order (none for b"")."""
        if not data:
            return []
        if self.mode == "1":
            return [data[i : i + 1] for i in range(len(data))]
        if self.mode == "random" and len(data) > 1:
            cuts = sorted(self.rng.sample(range(1, len(data)), min(len(data) - 1, self.rng.randint(1, 8))))
            return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        return [data]
