"""The per-stream row (``sseq usage --by stream``): a versioned schema.

Every row carries ``schema``.  Field names and types under one version
never change; a new field or a changed meaning is a new version.  The man
page (sseq-usage(1), PER-STREAM ROWS) documents each field; a test holds
the two together.  Rows load into DuckDB as they are
(``read_json_auto('rows.ndjson')``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from .model import StreamUsage

STREAM_SCHEMA = "sseq.usage.stream/1"

# (name, type) in the order rows carry them.  Types: string, integer,
# number, object (JSON object), each "or null" where marked "?".
STREAM_FIELDS = (
    ("schema", "string"),
    ("file", "string"),
    ("stream", "integer"),
    ("response_id", "string?"),
    ("digest", "string"),
    ("events", "integer"),
    ("api", "string"),
    ("provider", "string?"),
    ("model", "string?"),
    ("host", "string?"),
    ("labels", "object"),
    ("started", "string?"),
    ("day", "string?"),
    ("week", "string?"),
    ("month", "string?"),
    ("usage_source", "string"),
    ("verdict", "string"),
    ("stop_reason", "string?"),
    ("error", "string?"),
    ("input_tokens", "integer?"),
    ("cached_input_tokens", "integer?"),
    ("cache_write_tokens", "integer?"),
    ("cache_write_1h_tokens", "integer?"),
    ("output_tokens", "integer?"),
    ("reasoning_tokens", "integer?"),
    ("total_tokens", "integer?"),
    ("service_tier", "string?"),
    ("tool_calls", "object"),
    ("ttft_ms", "number?"),
    ("output_tokens_per_s", "number?"),
    ("cost", "number?"),
    ("currency", "string?"),
    ("cost_note", "string?"),
)


def rfc3339(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stream_row(usage: StreamUsage, clock, cost=None, currency: str | None = None) -> dict:
    """One stream as a row of the schema; ``cost`` is a prices.Cost (None
    without a price table)."""
    row: dict[str, object] = {"schema": STREAM_SCHEMA}
    for name, _type in STREAM_FIELDS[1:]:
        if name == "started":
            row[name] = rfc3339(usage.started)
        elif name in ("day", "week", "month"):
            row[name] = getattr(clock, name)(usage.started)
        elif name == "cost":
            row[name] = None if cost is None or cost.amount is None else float(cost.amount)
        elif name == "currency":
            row[name] = currency if cost is not None and cost.amount is not None else None
        elif name == "cost_note":
            row[name] = None if cost is None else cost.note
        else:
            row[name] = getattr(usage, name)
    return row
