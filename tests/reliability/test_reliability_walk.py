"""Folders of recordings with things in them that are not recordings
(issue 12 #11): a FIFO never blocks a reader, a symlinked folder is read
once, a link loop ends."""

from __future__ import annotations

import os
import shutil

import orjson

from helpers import REAL, run_sseq
from sseq.serve.cassette import iter_cassette_files

TEXT = REAL / "openai-chat-text-usage.sse"


def _folder_with_oddities(tmp_path):
    top = tmp_path / "recordings"
    (top / "inner").mkdir(parents=True)
    shutil.copy(TEXT, top / "a.sse")
    shutil.copy(REAL / "anthropic-messages-text.sse", top / "inner" / "b.sse")
    os.mkfifo(top / "stuck.sse")  # nobody ever writes to it: opening it would block for ever
    os.symlink(top, top / "inner" / "loop")  # back to the top: must not be walked again
    linked = tmp_path / "elsewhere"
    linked.mkdir()
    shutil.copy(REAL / "gemini-sse-text.sse", linked / "c.sse")
    os.symlink(linked, top / "linked")  # a symlinked folder is read like any other
    return top


def test_usage_over_a_folder_with_a_fifo_a_link_and_a_loop_ends_and_says_so(tmp_path):
    top = _folder_with_oddities(tmp_path)
    result = run_sseq("usage", "--by", "file", "--format", "json", top, timeout=30)
    assert result.returncode == 0, result.stderr
    files = sorted(os.path.relpath(row["file"], top) for row in orjson.loads(result.stdout)["rows"])
    assert files == ["a.sse", "inner/b.sse", "linked/c.sse"]
    stderr = result.stderr.decode()
    assert f"{top / 'stuck.sse'}: not a regular file" in stderr
    assert f"{top / 'inner' / 'loop'}: a link back to a folder already read" in stderr


def test_serve_cassette_walk_passes_over_a_fifo_and_names_it(tmp_path):
    top = _folder_with_oddities(tmp_path)
    skipped = []
    files = iter_cassette_files(str(top), skipped.append)
    assert sorted(os.path.relpath(f, top) for f in files) == ["a.sse", "inner/b.sse", "linked/c.sse"]
    assert any("stuck.sse: not a regular file" in message for message in skipped)
