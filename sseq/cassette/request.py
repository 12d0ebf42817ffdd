"""The ``request`` of ``sseq.open``: what was asked, as a recording keeps it.

Serve matches a live request against it (method, path, query, the JSON
body compared as values), usage reads its ``model``.  Secrets are redacted
in the description only: the digest is of the bytes as sent, so two
recordings of the same request share it.

    {"method": "POST", "path": "/v1/chat/completions", "query": "",
     "headers": {"content-type": "application/json", "authorization": "[redacted]"},
     "json": {"model": "gpt-4o", ...}, "bytes": 123, "sha256": "...", "model": "gpt-4o"}

No I/O here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

import orjson

from ..redact import redact_headers, redact_json, redact_query

__all__ = ["describe_request", "describe_body", "maybe_model"]

_MODEL_IN_PATH = re.compile(r"/models/([^/:?]+)")  # Gemini: /v1beta/models/gemini-2.5-flash:streamGenerateContent
_FORM = "application/x-www-form-urlencoded"
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def describe_request(method: str, target: str, headers: Mapping[str, str] | Iterable[tuple[str, str]],
                     body: bytes | None, *, sequence: int | None = None,
                     scrub: Callable[[str], str] | None = None) -> dict:
    """The ``request`` object of ``sseq.open``.

    ``target``: the URL, or the request target as a server received it
    (``/v1/models/x:stream?alt=sse``); its path and raw query are kept.
    ``headers``: as sent (names are lower-cased, secret ones redacted).
    ``body``: the bytes as sent, None when there was none.  ``sequence``:
    the 0-based order among identical requests of one recording session,
    when the writer counts them.  ``scrub``: removes known secret values
    (a key also sent in a header) from the body's strings.
    """
    parts = urlsplit(target)
    header_map = redact_headers(headers)
    info: dict = {
        "method": method.upper(),
        "path": parts.path or "/",
        "query": redact_query(parts.query),
        "headers": {name: scrub(value) for name, value in header_map.items()} if scrub else header_map,
    }
    info.update(describe_body(body, header_map.get("content-type", ""), scrub))
    if info["model"] is None:
        info["model"] = maybe_model(None, parts.path)
    if sequence is not None:
        info["sequence"] = sequence
    return info


def describe_body(body: bytes | None, content_type: str = "",
                  scrub: Callable[[str], str] | None = None) -> dict:
    """``json`` (the parsed body, secrets redacted) or ``text``, then
    ``bytes``, ``sha256`` and ``model`` (from the JSON body, else None).
    No body: no ``json``/``text``, 0 bytes, the digest of nothing."""
    out: dict = {}
    value = None
    if body:
        try:
            value = _loads_exactly(body)
            out["json"] = redact_json(value, scrub)
        except (ValueError, RecursionError):
            value = None
            text = body.decode("utf-8", "replace")
            if content_type.split(";")[0].strip().lower() == _FORM:
                text = redact_query(text)
            out["text"] = scrub(text) if scrub else text
    body = body or b""
    out["bytes"] = len(body)
    out["sha256"] = hashlib.sha256(body).hexdigest()
    out["model"] = maybe_model(value, "")
    return out


def _loads_exactly(body: bytes):
    """The body's JSON value; ValueError when it is not JSON, or holds an
    integer past 64 bits (orjson would turn it into a float, losing digits,
    and could not write it back as an integer): such a body is kept as text."""
    value = orjson.loads(body)
    if _LONG_NUMBER.search(body):
        json.loads(body, parse_int=_int64)
    return value


def _int64(text: str) -> int:
    number = int(text)
    if not -(2**63) <= number < 2**64:
        raise ValueError("an integer past 64 bits")
    return number


def maybe_model(value, path: str) -> str | None:
    """The model a request names: its JSON body's ``model``, else the one
    in a Gemini-style path (``/models/NAME:method``), else None."""
    if type(value) is dict and type(value.get("model")) is str:
        return value["model"]
    match = _MODEL_IN_PATH.search(path)
    return match.group(1) if match else None
