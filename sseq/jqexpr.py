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
