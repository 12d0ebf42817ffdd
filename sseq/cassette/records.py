"""The records that frame a recording: ``sseq.open`` (what was asked, what
answered, where and for whom it was recorded) and ``sseq.close`` (how it
ended).  ``fetch`` and ``proxy`` write them; ``serve`` and ``usage`` read
them; the NDJSON itself is :mod:`sseq.records`'s business.

Secrets are kept out: response headers and URLs redacted, known secret
values scrubbed from what the server echoed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

from ..errors import UsageProblem
from ..records import CLOSE, OPEN, Record
from ..redact import redact_headers, redact_url

__all__ = ["close_record", "open_record", "parse_labels", "recording_host", "started_now"]


def open_record(*, url: str, method: str, status: int | None, http_version: str,
                headers: Mapping[str, str] | Iterable[tuple[str, str]], request: dict | None, started: str,
                t: float, labels: Mapping[str, str] | None = None, host: str | None = None,
                scrub: Callable[[str], str] = str, final_url: str | None = None, resume: bool = False,
                last_event_id: str = "") -> Record:
    """``sseq.open`` for an answer whose headers arrived.

    ``url``: the URL asked for (redacted here).  ``headers``: the answer's.
    ``request``: :func:`sseq.cassette.request.describe_request`'s.
    ``started``: wall-clock time the request was sent (:func:`started_now`).
    ``host``: the recording machine (default :func:`recording_host`).
    ``final_url``: where redirects led, when elsewhere.  ``resume``: a
    reconnection, which asked to resume from ``last_event_id``.
    """
    data = {
        "url": redact_url(url),
        "method": method.upper(),
        "status": status,
        "http_version": http_version,
        "headers": {name: scrub(value) for name, value in redact_headers(headers).items()},
        "request": request,
        "started": started,
        "host": recording_host() if host is None else host,
        "labels": dict(labels or {}),
    }
    if final_url and final_url != url:
        data["final_url"] = scrub(redact_url(final_url))
    if resume:
        data["resume"] = True
        data["last_event_id"] = last_event_id
    return Record(OPEN, data, t=t)


def close_record(reason: str, message: str | None, events: int, size: int, status: int | None,
                 body: str | None, t: float, unfinished_block: bool = False) -> Record:
    """``sseq.close``: ``body`` (a non-stream answer's, already cut to size
    and scrubbed) only when there is one; ``unfinished_block`` only when
    the input ended inside a block, which the standard discards."""
    data = {
        "reason": reason,
        "events": events,
        "bytes": size,
        "error": message,
        "status": status,
    }
    if body is not None:
        data["body"] = body
    if unfinished_block:
        data["unfinished_block"] = True
    return Record(CLOSE, data, t=t)


def started_now() -> str:
    """``started``: now in RFC 3339 UTC, to the millisecond."""
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def recording_host() -> str:
    """``host``: the name of the machine that records."""
    return socket.gethostname()


def parse_labels(values: Iterable[str], option: str = "--label") -> dict[str, str]:
    """Repeated ``--label KEY=VALUE`` to a dict; a missing ``=``, an empty
    key or a key given twice is a usage error."""
    labels: dict[str, str] = {}
    for value in values:
        key, eq, text = value.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageProblem(f"{option} {value!r}: expected KEY=VALUE")
        if key in labels:
            raise UsageProblem(f"{option} {key} is given twice")
        labels[key] = text
    return labels
