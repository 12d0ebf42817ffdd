"""The SQLite ledger store: one file, WAL, writers queue on ``BEGIN
IMMEDIATE`` with a busy timeout.  Migrates ledgers written before the
schema version was kept (version 1, keyed by response id)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

from ..errors import SseqError
from .ledger import BUSY_TIMEOUT_S, COLUMNS, KNOWN_COLUMNS, LEDGER_VERSION, NAMES, ORDER_BY, Known, default_of

_TYPES = {"text": "TEXT", "int": "INTEGER", "real": "REAL", "json": "TEXT"}
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit


def _column_sql(column) -> str:
    primary = " PRIMARY KEY" if column.name == "key" else ""
    null = "" if column.nullable else " NOT NULL"
    return f"{column.name} {_TYPES[column.kind]}{null}{primary}"


_CREATE = f"CREATE TABLE IF NOT EXISTS streams ({', '.join(_column_sql(c) for c in COLUMNS)})"
_INSERT = f"INSERT INTO streams ({', '.join(NAMES)}) VALUES ({', '.join('?' * len(NAMES))})"


class SqliteStore:
    def __init__(self, path: str):
        self.target = path
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.01
        while True:
            try:
                self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            except sqlite3.DatabaseError as exc:  # e.g. its folder does not exist
                raise self._error(exc) from None
            try:
                self._open()
                return
            except sqlite3.OperationalError as exc:
                # Switching a new file to WAL while another writer creates it
                # can be refused at once, without the busy handler: try again.
                self.db.close()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise self._error(exc) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from None

    def _open(self) -> None:
        self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("BEGIN IMMEDIATE")
        self._migrate()
        self.db.execute("COMMIT")

    def _error(self, exc: Exception) -> SseqError:
        return SseqError(f"--ledger {self.target}: {exc}")

    def _migrate(self) -> None:
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS sseq_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM sseq_meta WHERE name = 'ledger_version'").fetchone()
        had_streams = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'streams'").fetchone()
        version = int(row[0]) if row else (1 if had_streams else LEDGER_VERSION)
        if version > LEDGER_VERSION:
            raise SseqError(f"--ledger {self.target}: written by a newer sseq (ledger version {version}); upgrade sseq")
        if version < 2 and had_streams:
            self._rebuild_v1()
        db.execute(_CREATE)
        present = {r[1] for r in db.execute("PRAGMA table_info(streams)")}
        for column in COLUMNS:
            if column.name not in present:
                default = default_of(column)
                sql = f"ALTER TABLE streams ADD COLUMN {column.name} {_TYPES[column.kind]}"
                if default is not None:
                    sql += f" NOT NULL DEFAULT {default!r}"
                db.execute(sql)
        db.execute("CREATE INDEX IF NOT EXISTS streams_response_id ON streams (response_id)")
        db.execute("INSERT OR REPLACE INTO sseq_meta VALUES ('ledger_version', ?)", (str(LEDGER_VERSION),))

    def _rebuild_v1(self) -> None:
        """Version 1 keyed streams by response id and kept a rank; each of its
        rows is one distinct stream, so its content digest is a unique key."""
        db = self.db
        db.execute("ALTER TABLE streams RENAME TO streams_v1")
        db.execute(_CREATE)
        old = {r[1] for r in db.execute("PRAGMA table_info(streams_v1)")}
        names, values = [], []
        for column in COLUMNS:
            if column.name == "key":
                names.append("key")
                values.append("'sha256:' || digest")
            elif column.name in old:
                names.append(column.name)
                values.append(column.name)
            elif default_of(column) is not None:
                names.append(column.name)
                values.append(repr(default_of(column)))
        db.execute(f"INSERT INTO streams ({', '.join(names)}) SELECT {', '.join(values)} FROM streams_v1")
        db.execute("DROP TABLE streams_v1")

    def begin_write(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _in(self, sql: str, values: list) -> list[tuple]:
        out = []
        try:
            for start in range(0, len(values), _CHUNK):
                chunk = values[start:start + _CHUNK]
                out += self.db.execute(sql.format(", ".join("?" * len(chunk))), chunk).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        return out

    def existing_keys(self, keys: list[str]) -> set[str]:
        return {r[0] for r in self._in("SELECT key FROM streams WHERE key IN ({})", keys)}

    def by_response_ids(self, response_ids: list[str]) -> list[Known]:
        rows = self._in(f"SELECT {KNOWN_COLUMNS} FROM streams WHERE response_id IN ({{}})",
                        response_ids)
        return [Known.of_row(row) for row in rows]

    def insert(self, rows: list[tuple]) -> None:
        try:
            self.db.executemany(_INSERT, rows)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def delete(self, keys: list[str]) -> None:
        self._in("DELETE FROM streams WHERE key IN ({})", keys)

    def iter_rows(self) -> Iterator[tuple]:
        try:
            yield from self.db.execute(f"SELECT {', '.join(NAMES)} FROM streams ORDER BY {ORDER_BY}")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        self.db.close()
