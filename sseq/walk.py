"""Walking a folder of recordings: regular files only, symlinks followed once.

A FIFO, socket or device found in a folder would block a reader for ever
(or read what no recording holds), so it is named and passed over; a
symlinked folder is read like any other, and a link back to a folder
already on the walk is named and not followed again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator


def iter_folder_files(folder: str, wanted: Callable[[str], bool],
                      on_skip: Callable[[str], None] | None = None) -> Iterator[str]:
    """Regular files under ``folder`` whose names pass ``wanted``, sorted
    folder by folder; hidden folders are left out.  ``on_skip`` hears of
    each entry passed over and why."""
    seen: set[tuple[int, int]] = set()

    def skip(message: str) -> None:
        if on_skip is not None:
            on_skip(message)

    def walk(path: str) -> Iterator[str]:
        try:
            info = os.stat(path)
            entries = sorted(os.scandir(path), key=lambda entry: entry.name)
        except OSError as exc:
            skip(f"{path}: cannot read the folder: {exc.strerror or exc}")
            return
        identity = (info.st_dev, info.st_ino)
        if identity in seen:
            skip(f"{path}: a link back to a folder already read; not followed again")
            return
        seen.add(identity)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                mode = os.stat(entry.path).st_mode  # follows symlinks
            except OSError:
                if wanted(entry.name):
                    yield entry.path  # a broken link: the reader names it as an error
                continue
            if stat.S_ISDIR(mode):
                yield from walk(entry.path)
            elif not wanted(entry.name):
                continue
            elif stat.S_ISREG(mode):
                yield entry.path
            else:
                skip(f"{entry.path}: not a regular file (a FIFO, socket or device); passed over")

    yield from walk(folder)
