"""A ledger of streams, so that a stream seen twice is counted once: SQLite
(a file, the embedded default) or PostgreSQL (``postgresql://…``, one
ledger for a fleet), the same rules on both.

A stream's identity is its content: the sha256 of its upstream events
(``StreamUsage.digest``).  The same stream read again, from a copy or on
another machine, is known; two different streams that happen to share a
response id (``chatcmpl-123``) are two streams.  The response id is a hint
for one thing only: a truncated sighting (a recording read while it was
still being written) is taken as a part of a sighting of the same api and
response id with more events and the same first events (the digests
after 1, 2, 4... events, ``StreamUsage.checkpoints``).  The longer
sighting replaces the truncated one, in the same transaction; a truncated
one that comes after the longer is already counted.

A run adds its streams in one write transaction that holds the ledger's
writers' lock (SQLite: ``BEGIN IMMEDIATE`` with WAL and a busy timeout;
PostgreSQL: a transaction-scoped advisory lock), so runs at once, on one
machine or many, queue instead of double-counting.  Reports can be made
from the ledger alone, and list streams in one order on every backend.

The table's columns are StreamUsage's fields (written once, there), plus
``key`` and ``recorded_at``; each backend maps the field types onto its
own.  sseq creates the schema and migrates older ledgers when it opens one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import orjson

from .model import TRUNCATED, StreamUsage

BUSY_TIMEOUT_S = 60.0
LEDGER_VERSION = 2  # 1: keyed by response id (sseq before the fleet ledger); 2: keyed by content

# Field annotation -> (kind, nullable).  Kinds: text, int, real, json.
_KINDS = {
    "str": ("text", False), "str | None": ("text", True),
    "int": ("int", False), "int | None": ("int", True),
    "float | None": ("real", True),
    "dict[str, int]": ("json", False), "dict[str, str]": ("json", False), "list[str]": ("json", False),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str  # text, int, real, json
    nullable: bool


def _columns() -> tuple[Column, ...]:
    columns = [Column("key", "text", False)]
    for f in dataclasses.fields(StreamUsage):
        kind, nullable = _KINDS[str(f.type)]
        columns.append(Column(f.name, kind, nullable))
    columns.append(Column("recorded_at", "real", False))
    return tuple(columns)


COLUMNS = _columns()
NAMES = tuple(c.name for c in COLUMNS)
_JSON = frozenset(c.name for c in COLUMNS if c.kind == "json")
# The one order of a report from the ledger, whatever the backend or the order of arrival.
ORDER_BY = "started IS NULL, started, file, stream, key"


def default_of(column: Column):
    """The value an added column takes in rows written before it existed."""
    if column.nullable:
        return None
    return {"json": "{}", "int": 0, "text": "", "real": 0.0}[column.kind]


def row_of(usage: StreamUsage, now: float) -> tuple:
    values: list[object] = []
    for column in COLUMNS:
        if column.name == "key":
            values.append(usage.key)
        elif column.name == "recorded_at":
            values.append(now)
        else:
            value = getattr(usage, column.name)
            values.append(orjson.dumps(value).decode() if column.name in _JSON else value)
    return tuple(values)


def usage_of_row(row: tuple) -> StreamUsage:
    values = dict(zip(NAMES, row, strict=True))
    values.pop("key")
    values.pop("recorded_at")
    for name in _JSON:
        values[name] = orjson.loads(values[name])
    return StreamUsage(**values)


class Sighting(Protocol):
    """What placing a stream needs of it: a StreamUsage, or a Known row."""

    @property
    def key(self) -> str: ...
    @property
    def api(self) -> str: ...
    @property
    def response_id(self) -> str | None: ...
    @property
    def verdict(self) -> str: ...
    @property
    def events(self) -> int: ...
    @property
    def checkpoints(self) -> Sequence[str]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Known:
    """What the ledger keeps in mind of a stored stream to place a new sighting."""

    key: str
    api: str
    response_id: str | None
    verdict: str
    events: int
    checkpoints: list[str]

    @classmethod
    def of_row(cls, row: tuple) -> Known:
        key, api, response_id, verdict, events, checkpoints = row
        return cls(key, api, response_id, verdict, events, orjson.loads(checkpoints))


KNOWN_COLUMNS = "key, api, response_id, verdict, events, checkpoints"


class Store(Protocol):
    """A backend: the few operations the ledger's rules need, inside one
    write transaction (``begin_write`` .. ``commit``)."""

    target: str

    def begin_write(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def existing_keys(self, keys: list[str]) -> set[str]: ...
    def by_response_ids(self, response_ids: list[str]) -> list[Known]: ...
    def insert(self, rows: list[tuple]) -> None: ...
    def delete(self, keys: list[str]) -> None: ...
    def iter_rows(self) -> Iterator[tuple]: ...
    def close(self) -> None: ...


def _is_part_of(part: Sighting, whole: Sighting) -> bool:
    """A truncated sighting is a part of a longer sighting of the same api
    and response id (the hint) whose first events are the same: they agree
    on the digest after the largest power of two of the part's events, at
    least half of them."""
    if not (part.verdict == TRUNCATED and part.response_id is not None and part.api == whole.api
            and part.response_id == whole.response_id and 0 < part.events < whole.events):
        return False
    k = part.events.bit_length() - 1  # checkpoints[k] covers the first 2**k events
    return k < len(part.checkpoints) and k < len(whole.checkpoints) and part.checkpoints[k] == whole.checkpoints[k]


class Ledger:
    """One ledger opened for a run: a store, or a target (an SQLite file or
    a ``postgresql://`` URL) to open one for."""

    def __init__(self, store: Store | str):
        if isinstance(store, str):
            store = open_store(store)
        self.store = store
        self.target = store.target

    def close(self) -> None:
        self.store.close()

    def add(self, usages: Iterable[StreamUsage]) -> tuple[int, int, int]:
        """Record streams in one transaction: (added, improved, already known)."""
        usages = list(usages)
        added = improved = known = 0
        now = time.time()
        store = self.store
        store.begin_write()
        try:
            keys = set(store.existing_keys(sorted({u.key for u in usages})))
            hinted: dict[tuple[str, str | None], list[Known]] = {}
            ids = sorted({u.response_id for u in usages if u.response_id})
            for row in store.by_response_ids(ids) if ids else []:
                hinted.setdefault((row.api, row.response_id), []).append(row)
            inserts: dict[str, tuple] = {}
            deletes: list[str] = []
            for usage in usages:
                if usage.key in keys:
                    known += 1
                    continue
                same_id = hinted.get((usage.api, usage.response_id), []) if usage.response_id else []
                if any(_is_part_of(usage, other) for other in same_id):
                    known += 1
                    continue
                parts = [other for other in same_id if _is_part_of(other, usage)]
                for part in parts:
                    same_id.remove(part)
                    keys.discard(part.key)
                    if inserts.pop(part.key, None) is None:
                        deletes.append(part.key)
                inserts[usage.key] = row_of(usage, now)
                keys.add(usage.key)
                if usage.response_id:
                    hinted.setdefault((usage.api, usage.response_id), []).append(
                        Known(usage.key, usage.api, usage.response_id, usage.verdict, usage.events,
                              usage.checkpoints))
                if parts:
                    improved += 1
                else:
                    added += 1
            if deletes:
                store.delete(deletes)
            if inserts:
                store.insert(list(inserts.values()))
            store.commit()
        except BaseException:
            store.rollback()
            raise
        return added, improved, known

    def iter_usages(self) -> Iterator[StreamUsage]:
        """Every stream in the ledger, by start time, file and stream."""
        for row in self.store.iter_rows():
            yield usage_of_row(row)


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def open_store(target: str) -> Store:
    """The store of a ledger file (SQLite) or a ``postgresql://`` URL."""
    if is_postgres(target):
        from .ledger_postgres import PostgresStore

        return PostgresStore(target)
    from .ledger_sqlite import SqliteStore

    return SqliteStore(target)


def open_ledger(target: str) -> Ledger:
    return Ledger(open_store(target))
