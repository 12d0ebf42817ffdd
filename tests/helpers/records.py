"""Reading what sseq wrote: NDJSON lines as dicts."""

from __future__ import annotations

import json


def records(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def events_of(recs: list[dict]) -> list[dict]:
    return [r for r in recs if not r["event"].startswith("sseq.")]


