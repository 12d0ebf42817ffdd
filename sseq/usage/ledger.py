"""An SQLite ledger of streams, so that a stream seen twice is counted once.

Each stream is keyed by its provider's response id (with its api), else by
the sha256 of its events.  A run adds its streams in one write transaction;
WAL mode and a busy timeout let two runs at once queue for the lock instead
of failing.  A stream seen again is not added again; it replaces the stored
row only when the new sighting is better (usage reported where it was
missing, or complete where it was truncated: a recording read while it was
still being written).  Reports can be made from the ledger alone.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator

import orjson

from ..errors import SseqError
from .model import COMPLETE, ERROR, ESTIMATED, INCOMPLETE, REPORTED, StreamUsage

BUSY_TIMEOUT_S = 60.0

_COLUMNS = (
    "key", "file", "stream", "response_id", "digest", "api", "provider", "model", "usage_source", "verdict",
    "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
    "total_tokens", "tool_calls", "ttft_ms", "output_tokens_per_s", "started", "error", "rank", "recorded_at",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    key TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    stream INTEGER NOT NULL,
    response_id TEXT,
    digest TEXT NOT NULL,
    api TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    usage_source TEXT NOT NULL,
    verdict TEXT NOT NULL,
    input_tokens INTEGER,
    cached_input_tokens INTEGER,
    cache_write_tokens INTEGER,
    output_tokens INTEGER,
    reasoning_tokens INTEGER,
    total_tokens INTEGER,
    tool_calls TEXT NOT NULL,
    ttft_ms REAL,
    output_tokens_per_s REAL,
    started REAL,
    error TEXT,
    rank INTEGER NOT NULL,
    recorded_at REAL NOT NULL
)
"""

_INSERT = f"INSERT INTO streams ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_UPDATE = f"UPDATE streams SET {', '.join(c + ' = ?' for c in _COLUMNS[1:])} WHERE key = ?"


def _rank(usage: StreamUsage) -> int:
    source = {REPORTED: 2, ESTIMATED: 1}.get(usage.usage_source, 0)
    verdict = {COMPLETE: 2, INCOMPLETE: 2, ERROR: 1}.get(usage.verdict, 0)
    return source * 3 + verdict


class Ledger:
    """One ledger file, opened for a run."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(_SCHEMA)
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise SseqError(f"--ledger {path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def add(self, usages: Iterable[StreamUsage]) -> tuple[int, int, int]:
        """Record streams in one transaction: (added, improved, already known)."""
        added = improved = known = 0
        now = time.time()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            for usage in usages:
                values = _values(usage, now)
                row = self.db.execute("SELECT rank FROM streams WHERE key = ?", (values[0],)).fetchone()
                if row is None:
                    self.db.execute(_INSERT, values)
                    added += 1
                elif values[-2] > row[0]:
                    self.db.execute(_UPDATE, values[1:] + (values[0],))
                    improved += 1
                else:
                    known += 1
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise SseqError(f"--ledger {self.path}: {exc}") from None
        return added, improved, known

    def iter_usages(self) -> Iterator[StreamUsage]:
        """Every stream in the ledger, in the order they were first recorded."""
        try:
            cursor = self.db.execute(f"SELECT {', '.join(_COLUMNS)} FROM streams ORDER BY recorded_at, rowid")
            for row in cursor:
                yield _usage(row)
        except sqlite3.DatabaseError as exc:
            raise SseqError(f"--ledger {self.path}: {exc}") from None


def _values(usage: StreamUsage, now: float) -> tuple:
    return (
        usage.key, usage.file, usage.stream, usage.response_id, usage.digest, usage.api, usage.provider,
        usage.model, usage.usage_source, usage.verdict, usage.input_tokens, usage.cached_input_tokens,
        usage.cache_write_tokens, usage.output_tokens, usage.reasoning_tokens, usage.total_tokens,
        orjson.dumps(usage.tool_calls).decode(), usage.ttft_ms, usage.output_tokens_per_s, usage.started,
        usage.error, _rank(usage), now,
    )


def _usage(row: tuple) -> StreamUsage:
    values = dict(zip(_COLUMNS, row, strict=True))
    values.pop("key")
    values.pop("rank")
    values.pop("recorded_at")
    values["tool_calls"] = orjson.loads(values["tool_calls"])
    return StreamUsage(**values)
