"""The records that frame a fetch's recording: ``sseq.open`` (what was
asked, what answered) and ``sseq.close`` (how it ended).

Other commands rely on their shapes (``usage`` counts a stream per open
that is not a resume); the NDJSON itself is :mod:`sseq.records`'s business.
Secrets are kept out: headers and URLs redacted, echoed values scrubbed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from ..records import CLOSE, OPEN, Record
from .redact import redact_headers, redact_url
from .request import FetchRequest

__all__ = ["close_record", "open_record", "started_now"]


def open_record(request: FetchRequest, response, request_info: dict | None, started: str, t: float,
                scrub: Callable[[str], str], resume: bool = False, last_event_id: str = "") -> Record:
    """``sseq.open`` for a requests ``response`` whose headers arrived;
    ``resume``: a reconnection, which asked to resume from ``last_event_id``."""
    raw = response.raw
    version = getattr(raw, "version_string", None) or _http_version(getattr(raw, "version", 11))
    data = {
        "url": redact_url(request.url),
        "method": request.effective_method,
        "status": response.status_code,
        "http_version": version,
        "headers": {name: scrub(value) for name, value in redact_headers(raw.headers.items()).items()},
        "request": request_info,
        "started": started,
    }
    if response.url and response.url != request.url:
        data["final_url"] = scrub(redact_url(response.url))
    if resume:
        data["resume"] = True
        data["last_event_id"] = last_event_id
    return Record(OPEN, data, t=t)


def close_record(reason: str, message: str | None, events: int, size: int, status: int | None,
                 body: str | None, t: float) -> Record:
    """``sseq.close``: ``body`` (an error answer's, already cut to size and
    scrubbed) only when there is one."""
    data = {
        "reason": reason,
        "events": events,
        "bytes": size,
        "error": message,
        "status": status,
    }
    if body is not None:
        data["body"] = body
    return Record(CLOSE, data, t=t)


def started_now() -> str:
    """``started``: now in RFC 3339 UTC, to the millisecond."""
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _http_version(number: int) -> str:
    return {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(number, "HTTP/1.1")
