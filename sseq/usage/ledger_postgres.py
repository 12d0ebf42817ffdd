"""The PostgreSQL ledger store (psycopg 3, the ``postgres`` extra): one
ledger for many machines.  Writers serialise on a transaction-scoped
advisory lock, so a run's lookups and writes see every run before it;
readers never wait.  sseq creates the table and adds the columns a newer
sseq needs."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import SseqError
from .ledger import COLUMNS, KNOWN_COLUMNS, LEDGER_VERSION, NAMES, Known, default_of

_TYPES = {"text": "TEXT", "int": "BIGINT", "real": "DOUBLE PRECISION", "json": "TEXT"}
# One number that names "the sseq ledger writers' lock" in pg_advisory_xact_lock.
_WRITERS_LOCK = 0x5353_4551  # "SSEQ"
# Text compared byte by byte, as SQLite does, so both list streams in one order.
_ORDER_BY = 'started IS NULL, started, file COLLATE "C", stream, key COLLATE "C"'


def _column_sql(column) -> str:
    primary = " PRIMARY KEY" if column.name == "key" else ""
    null = "" if column.nullable else " NOT NULL"
    return f"{column.name} {_TYPES[column.kind]}{null}{primary}"


class PostgresStore:
    def __init__(self, url: str):
        self.target = _redacted(url)
        try:
            import psycopg
        except ImportError:
            raise SseqError(f"--ledger {self.target}: PostgreSQL needs psycopg: pip install 'sseq[postgres]'") from None
        self.psycopg = psycopg
        try:
            self.db = psycopg.connect(url, autocommit=False)
            with self.db.transaction():
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITERS_LOCK,))
                self._migrate()
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> SseqError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return SseqError(f"--ledger {self.target}: {message}")

    def _migrate(self) -> None:
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS sseq_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM sseq_meta WHERE name = 'ledger_version'").fetchone()
        if row and int(row[0]) > LEDGER_VERSION:
            raise SseqError(f"--ledger {self.target}: written by a newer sseq (ledger version {row[0]}); upgrade sseq")
        db.execute(f"CREATE TABLE IF NOT EXISTS streams ({', '.join(_column_sql(c) for c in COLUMNS)})")
        present = {r[0] for r in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'streams' "
            "AND table_schema = current_schema()")}
        for column in COLUMNS:
            if column.name not in present:
                default = default_of(column)
                sql = f"ALTER TABLE streams ADD COLUMN {column.name} {_TYPES[column.kind]}"
                if default is not None:
                    sql += " NOT NULL DEFAULT " + (f"'{default}'" if type(default) is str else str(default))
                db.execute(sql)
        db.execute("CREATE INDEX IF NOT EXISTS streams_response_id ON streams (response_id)")
        db.execute("INSERT INTO sseq_meta VALUES ('ledger_version', %s) "
                   "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (str(LEDGER_VERSION),))

    def begin_write(self) -> None:
        try:
            # psycopg opens the transaction with the first statement.
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITERS_LOCK,))
        except self.psycopg.Error as exc:
            raise self._error(exc) from None

    def commit(self) -> None:
        try:
            self.db.commit()
        except self.psycopg.Error as exc:
            raise self._error(exc) from None

    def rollback(self) -> None:
        try:
            self.db.rollback()
        except self.psycopg.Error:
            pass

    def _fetch(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self.db.execute(sql, params).fetchall()
        except self.psycopg.Error as exc:
            raise self._error(exc) from None

    def existing_keys(self, keys: list[str]) -> set[str]:
        return {r[0] for r in self._fetch("SELECT key FROM streams WHERE key = ANY(%s)", (keys,))}

    def by_response_ids(self, response_ids: list[str]) -> list[Known]:
        rows = self._fetch(f"SELECT {KNOWN_COLUMNS} FROM streams WHERE response_id = ANY(%s)",
                           (response_ids,))
        return [Known.of_row(row) for row in rows]

    def insert(self, rows: list[tuple]) -> None:
        try:
            with self.db.cursor() as cursor:
                with cursor.copy(f"COPY streams ({', '.join(NAMES)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        except self.psycopg.Error as exc:
            raise self._error(exc) from None

    def delete(self, keys: list[str]) -> None:
        try:
            self.db.execute("DELETE FROM streams WHERE key = ANY(%s)", (keys,))
        except self.psycopg.Error as exc:
            raise self._error(exc) from None

    def iter_rows(self) -> Iterator[tuple]:
        try:
            # A server-side cursor: a ledger of millions of rows is read in batches.
            with self.db.cursor(name="sseq_ledger_rows") as cursor:
                cursor.itersize = 5000
                cursor.execute(f"SELECT {', '.join(NAMES)} FROM streams ORDER BY {_ORDER_BY}")
                yield from cursor
            self.db.commit()
        except self.psycopg.Error as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        self.db.close()


def _redacted(url: str) -> str:
    """The URL as messages show it: a password replaced."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    auth, _, host = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in auth else url
