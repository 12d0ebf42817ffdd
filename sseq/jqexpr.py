"""jq expressions, through the ``jq`` bindings (imported only when used)."""

from __future__ import annotations

import json

import orjson

from .errors import UsageProblem
from .records import Record


class JqProgram:
    """A compiled jq expression applied to records."""

    def __init__(self, expression: str, option: str):
        import jq

        try:
            self._program = jq.compile(expression)
        except ValueError as exc:
            raise UsageProblem(f"{option}: {str(exc).strip()}") from None

    def outputs(self, record: Record) -> list:
        """Every value the expression yields for this record.  Raises
        ValueError with jq's message when jq fails on it."""
        text = record.line.decode("utf-8", "replace") if record.line is not None else orjson.dumps(record.to_dict()).decode()
        try:
            return self._program.input_text(text).all()
        except TypeError:
            # An integer the bindings cannot convert (beyond 64 bits): read
            # jq's own JSON text of the outputs instead.
            return [json.loads(line) for line in self._program.input_text(text).text().splitlines()]

    def is_true(self, record: Record) -> bool:
        """jq truthiness: anything but false and null, for any output."""
        return any(value is not None and value is not False for value in self.outputs(record))


class JqErrors:
    """jq's failures over a run, each distinct message said once, with
    where it first happened and how many records it hit."""

    def __init__(self) -> None:
        self.count = 0
        self._seen: dict[str, list] = {}  # message -> [count, where]

    def add(self, message: str, source: str, line_no: int | None) -> None:
        self.count += 1
        message = message.strip()
        seen = self._seen.get(message)
        if seen is not None:
            seen[0] += 1
        elif len(self._seen) < 100:  # (bounded: each record could fail its own way)
            self._seen[message] = [1, source if line_no is None else f"{source}:{line_no}"]

    def report(self, warn) -> None:
        for message, (count, where) in self._seen.items():
            times = f" ({count} records)" if count > 1 else ""
            warn(f"jq error at {where}: {message}{times}")
