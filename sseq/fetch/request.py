"""What ``fetch`` sends: a :class:`FetchRequest`, and building one from what
the user typed (-H lines or @FILE, -d TEXT|@FILE|@-, --jq-body).

No network here; reading a file named by the user is the only I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

import orjson

from ..errors import BadInput, UsageProblem
from ..parser import DEFAULT_MAX_EVENT_SIZE
from ..redact import redact_url

__all__ = ["FetchRequest", "check_url", "edit_body", "headers_to_send", "read_body", "read_headers"]

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class FetchRequest:
    """What to fetch and how.

    ``method``: None means POST when there is a body, else GET.
    ``headers``: (name, value) pairs sent after sseq's defaults; a value of
    None removes a default header.  ``json``: the body is JSON (sets
    Content-Type, and Accept also takes JSON).  Times are seconds;
    ``idle_timeout`` is the longest silence allowed between two reads,
    ``max_time`` bounds the whole run, retries included.  ``retries``: how
    many times in a row a failed attempt is tried again.  ``labels``:
    (key, value) pairs written into ``sseq.open`` (``--label``).
    """

    url: str
    method: str | None = None
    headers: tuple[tuple[str, str | None], ...] = ()
    body: bytes | None = None
    json: bool = False
    connect_timeout: float = 30.0
    idle_timeout: float = 300.0
    max_time: float | None = None
    retries: int = 0
    last_event_id: str | None = None
    until_done: bool = False
    include_all: bool = False
    raw_data: bool = False
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def effective_method(self) -> str:
        if self.method:
            return self.method.upper()
        return "POST" if self.body is not None else "GET"


def check_url(url: str) -> None:
    """Raise ValueError with a reason when ``url`` cannot be fetched."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{redact_url(url)!r}: the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{redact_url(url)!r}: the URL has no host")


def headers_to_send(request: FetchRequest, last_event_id: str) -> dict[str, str | None]:
    """sseq's default headers (identity encoding among them), then the user's (same name, any case, replaces
    the default; None removes it, which requests honours)."""
    accept = "text/event-stream, application/json" if request.json else "text/event-stream"
    headers: dict[str, str | None] = {
        "User-Agent": _user_agent(),
        "Accept": accept,
        "Cache-Control": "no-cache",
        # Compression middleware (Django's GZipMiddleware) buffers a whole
        # stream to compress it, and every t would be the same: ask for
        # none.  -H 'Accept-Encoding: gzip' still asks for it.
        "Accept-Encoding": "identity",
    }
    if request.json and request.body is not None:
        headers["Content-Type"] = "application/json"
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    for name, value in request.headers:
        for existing in [key for key in headers if key.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    return headers


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        return f"sseq/{version('sseq')}"
    except Exception:
        return "sseq"


# -- from the command line ------------------------------------------------------------


def read_headers(values: Iterable[str]) -> list[tuple[str, str | None]]:
    """-H values to (name, value) pairs: 'Name: value', 'Name:' (remove a
    default header), 'Name;' (send it empty), or @FILE of such lines."""
    pairs: list[tuple[str, str | None]] = []
    for value in values:
        if value.startswith("@"):
            path = value[1:]
            lines = _read_file(path).decode("utf-8", "replace").splitlines()
            where = path
        else:
            lines = [value]
            where = None
        for number, line in enumerate(lines, 1):
            if where is not None and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pairs.append(_parse_header(line, where, number))
    return pairs


def _parse_header(line: str, where: str | None, number: int) -> tuple[str, str | None]:
    if ":" in line:
        name, _, value = line.partition(":")
        value = value.strip()
        result = (name.strip(), value if value else None)
    elif line.rstrip().endswith(";"):
        result = (line.rstrip()[:-1].strip(), "")
    else:
        result = ("", None)
    name = result[0]
    if not _HEADER_NAME.match(name) or (result[1] is not None and ("\r" in result[1] or "\n" in result[1])):
        # Never repeat the line: it may hold a key.
        if where is not None:
            raise BadInput(where, number, "not a header line (expected 'Name: value')")
        raise UsageProblem("-H: not a header (expected 'Name: value')")
    return result


def read_body(data: str, stdin: BinaryIO) -> bytes:
    """-d: the text itself, @FILE's bytes, or all of ``stdin`` for @-."""
    if data == "@-":
        try:
            return stdin.read()
        except OSError as exc:
            raise BadInput("<stdin>", None, exc.strerror or str(exc)) from None
    if data.startswith("@"):
        return _read_file(data[1:])
    return data.encode("utf-8")


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise BadInput(path, None, "no such file") from None
    except IsADirectoryError:
        raise BadInput(path, None, "is a directory") from None
    except OSError as exc:
        raise BadInput(path, None, exc.strerror or str(exc)) from None


def edit_body(body: bytes | None, expression: str) -> bytes:
    """The JSON body after a jq expression (``null`` when there is no -d)."""
    import jq  # only --jq-body pays for it

    try:
        value = orjson.loads(body) if body is not None else None
    except orjson.JSONDecodeError as exc:
        raise UsageProblem(f"--jq-body: the request body is not JSON ({exc})") from None
    try:
        program = jq.compile(expression)
    except ValueError as exc:
        raise UsageProblem(f"--jq-body: {str(exc).strip()}") from None
    try:
        outputs = program.input_value(value).all()
    except ValueError as exc:
        raise UsageProblem(f"--jq-body: {str(exc).strip()}") from None
    if len(outputs) != 1:
        raise UsageProblem(f"--jq-body must give exactly one value, it gave {len(outputs)}")
    return orjson.dumps(outputs[0])
