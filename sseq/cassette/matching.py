"""Which recorded request a live request is: the rules a cassette matches by.

Sans IO: a request here is its method, its target (path and query) and its
body bytes; a recorded one is the ``request`` object of a recording's
``sseq.open`` (method, path, query, json or text, sha256).  Both become a
:class:`RequestKey`, equal when the requests are the same for replay:

- method (upper case), path (empty segments and percent-encoding aside) and
  the query's parameters in any order;
- the body: JSON compared as values (key order and spacing ignored), after
  the ``ignore`` paths are deleted from both sides; anything else as bytes.
- Secrets: recordings hold ``"[redacted]"`` where the request had a key, a
  token or a password, so the live request's secrets are blanked the same
  way (same rule as headers) before comparing: a recording made with one key
  matches a request made with another.

``Matcher(match="path")`` compares paths only (any method, query or body).
:meth:`Matcher.explain_miss` names the nearest recorded request and shows
a short diff, for the answer to a request that matched nothing.  The proxy
reuses this module for record mode ``new`` (record what does not match).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from ..errors import UsageProblem
from ..redact import is_secret_key, is_secret_query

__all__ = ["MATCH_MODES", "REDACTED", "Matcher", "RequestKey", "Miss", "normal_path", "split_target"]

MATCH_MODES = ("request", "path")
REDACTED = "[redacted]"
# How much of a diff a miss shows: enough to see the change, short enough
# to read in an SDK's exception message.
_DIFF_LINES = 40


def split_target(target: str) -> tuple[str, str]:
    """A request line's target as (path, query): ``//v1//x?a=1`` is a path,
    not a host; an absolute URL (from a proxy client) gives its path."""
    if target.startswith(("http://", "https://")):
        split = urlsplit(target)
        return split.path, split.query
    path, _, query = target.partition("#")[0].partition("?")
    return path, query


def normal_path(path: str) -> str:
    """``//v1//chat/`` -> ``/v1/chat``: empty segments do not count."""
    return "/" + "/".join(part for part in unquote(path).split("/") if part)


@dataclass(frozen=True, slots=True)
class RequestKey:
    """What two requests must share to match.  ``body`` is the canonical
    JSON text (sorted keys, no spaces) or ``"sha256:<hex>"`` of raw bytes,
    or "" for no body; ``shown`` is the body as people read it in a diff
    (not compared)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: str
    shown: str = ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestKey):
            return NotImplemented
        return (self.method, self.path, self.query, self.body) == (other.method, other.path, other.query, other.body)

    def __hash__(self) -> int:
        return hash((self.method, self.path, self.query, self.body))

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Miss:
    """Why a request matched nothing: ``message`` (one paragraph, with the
    diff), ``nearest`` (the name of the closest recording, or None) and
    ``diff`` (unified diff lines, recorded -> received)."""

    message: str
    nearest: str | None
    diff: tuple[str, ...]


class Matcher:
    """Turns requests into keys by one set of rules.

    ``ignore``: jq paths (``.user``, ``.metadata``, ``.messages[].id``)
    deleted from both JSON bodies before comparing.  ``match``: ``request``
    (method, path, query, body) or ``path`` (path only).
    """

    def __init__(self, ignore: Sequence[str] = (), match: str = "request") -> None:
        if match not in MATCH_MODES:
            raise UsageProblem(f"--match {match!r}: expected one of {', '.join(MATCH_MODES)}")
        self.match = match
        self.ignore = tuple(ignore)
        self._ignore_program = _compile_ignores(self.ignore)

    # -- keys

    def key_for_request(self, method: str, target: str, body: bytes | None) -> RequestKey:
        """The key of a live request: ``target`` is the request line's
        path and query."""
        path, query = split_target(target)
        if self.match == "path":
            return RequestKey("*", normal_path(path), (), "")
        text, shown = self._body_key(_parse_json_bytes(body), body)
        return RequestKey(method.upper(), normal_path(path), _query_key(query), text, shown)

    def key_for_recorded(self, request: Mapping[str, Any]) -> RequestKey:
        """The key of a recorded request (``sseq.open``'s ``request``)."""
        path = str(request.get("path") or "/")
        if self.match == "path":
            return RequestKey("*", normal_path(path), (), "")
        method = str(request.get("method") or "GET").upper()
        query = _query_key(str(request.get("query") or ""))
        if "json" in request:
            digest = request.get("sha256") if isinstance(request.get("sha256"), str) else None
            text, shown = self._body_key(_Parsed(request["json"]), None, digest)
        elif "text" in request:
            raw = str(request["text"]).encode()
            digest = request.get("sha256") if isinstance(request.get("sha256"), str) else None
            text, shown = f"sha256:{digest or hashlib.sha256(raw).hexdigest()}", str(request["text"])
        elif isinstance(request.get("sha256"), str) and request.get("bytes"):
            text, shown = f"sha256:{request['sha256']}", f"<{request.get('bytes')} bytes>"
        else:
            text, shown = "", ""
        return RequestKey(method, normal_path(path), query, text, shown)

    @staticmethod
    def key_for_path(target: str) -> RequestKey:
        """The key every request to this path shares, whatever its method,
        query and body: what a recording that holds no request answers."""
        return RequestKey("*", normal_path(split_target(target)[0]), (), "")

    def _body_key(self, parsed: _Parsed | None, raw: bytes | None, digest: str | None = None) -> tuple[str, str]:
        if parsed is None:
            if not raw:
                return "", ""
            return f"sha256:{hashlib.sha256(raw).hexdigest()}", raw.decode("utf-8", "replace")
        try:
            value = _blank_secrets(parsed.value)
            if self._ignore_program is not None:
                value = self._ignore_program.input_value(value).first()
            compact = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
            shown = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode()
        except (RecursionError, orjson.JSONEncodeError, ValueError):
            # JSON nested deeper than orjson writes or Python recurses:
            # compared as bytes (a recording by the digest of its body).
            if raw is not None:
                return self._body_key(None, raw)
            return f"sha256:{digest or '-'}", "<JSON nested too deep to show>"
        return compact, shown

    # -- misses

    def explain_miss(self, key: RequestKey, candidates: Iterable[tuple[str, RequestKey]],
                     exhausted: str | None = None) -> Miss:
        """The answer's words for a request that matched nothing, given
        every recording's (name, key).  ``exhausted``: the name of a
        recording of this very request already played (no repeats)."""
        if exhausted is not None:
            message = (f"no recording left for {key.describe()}: every recording of this request was already "
                       f"played (the last: {exhausted}); serve with --allow-playback-repeats to start again")
            return Miss(message, exhausted, ())
        scored = sorted(((self._distance(key, other), name, other) for name, other in candidates),
                        key=lambda item: (item[0], item[1]))
        if not scored:
            return Miss(f"no recording matched {key.describe()}: the cassette holds no recorded requests", None, ())
        _, name, nearest = scored[0]
        diff = tuple(_short_diff(nearest, key))
        message = f"no recording matched {key.describe()}; nearest: {name} ({nearest.describe()})"
        changes = _changed_fields(nearest, key)
        if changes:
            message += "; body differs at " + ", ".join(changes)
        if diff:
            message += "\n" + "\n".join(diff)
        return Miss(message, name, diff)

    @staticmethod
    def _distance(key: RequestKey, other: RequestKey) -> float:
        far = 0.0
        if key.method != other.method:
            far += 4
        if key.path != other.path:
            far += 8
        if key.query != other.query:
            far += 2
        if key.body != other.body:
            far += 1 - difflib.SequenceMatcher(None, other.shown.splitlines(), key.shown.splitlines()).ratio()
        return far


class _Parsed:
    """A parsed JSON body (so that a body of ``null`` is not "no body")."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _parse_json_bytes(body: bytes | None) -> _Parsed | None:
    if not body:
        return None
    try:
        return _Parsed(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None


def _query_key(query: str) -> tuple[tuple[str, str], ...]:
    pairs = parse_qsl(query, keep_blank_values=True)
    return tuple(sorted((name, REDACTED if is_secret_query(name) else value) for name, value in pairs))


def _blank_secrets(value: Any) -> Any:
    """``value`` with the string values of secret-named keys blanked, as a
    recording holds them."""
    if type(value) is dict:
        return {k: (REDACTED if type(v) is str and is_secret_key(k) else _blank_secrets(v)) for k, v in value.items()}
    if type(value) is list:
        return [_blank_secrets(v) for v in value]
    return value


def _compile_ignores(paths: Sequence[str]):
    if not paths:
        return None
    import jq  # only --ignore pays for it

    for path in paths:
        if not path.startswith("."):
            raise UsageProblem(f"--ignore {path!r}: expected a jq path such as .user or .metadata.session")
        try:
            jq.compile(f"del({path})")
        except ValueError as exc:
            raise UsageProblem(f"--ignore {path!r}: {str(exc).strip()}") from None
    # A path that does not fit a body (an array, a string) leaves it as it is.
    return jq.compile(" | ".join(f". as $in | try del({path}) catch $in" for path in paths))


def _changed_fields(recorded: RequestKey, received: RequestKey, limit: int = 6) -> list[str]:
    """The jq paths where two JSON bodies differ (``.messages[0].content``),
    the first ``limit`` of them: what to ``--ignore``, or what changed."""
    if recorded.body == received.body or not recorded.body or not received.body \
            or recorded.body.startswith("sha256:") or received.body.startswith("sha256:"):
        return []
    found: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(found) > limit:
            return
        if type(a) is dict and type(b) is dict:
            for k in sorted(set(a) | set(b)):
                step = f".{k}" if k.isidentifier() else f"[{orjson.dumps(k).decode()}]"
                if k not in b:
                    found.append(f"{path}{step} (recorded only)")
                elif k not in a:
                    found.append(f"{path}{step} (received only)")
                else:
                    walk(a[k], b[k], path + step)
        elif type(a) is list and type(b) is list and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        elif a != b or type(a) is not type(b):
            found.append(path or ".")

    try:
        walk(orjson.loads(recorded.body), orjson.loads(received.body), "")
    except RecursionError:
        return found[:limit]
    return found[:limit] + ([f"... ({len(found) - limit} more)"] if len(found) > limit else [])


def _short_diff(recorded: RequestKey, received: RequestKey) -> list[str]:
    lines: list[str] = []
    if recorded.method != received.method or recorded.path != received.path or recorded.query != received.query:
        lines += [f"- {recorded.describe()}", f"+ {received.describe()}"]
    if recorded.body != received.body:
        body = list(difflib.unified_diff(recorded.shown.splitlines(), received.shown.splitlines(),
                                         "recorded", "received", n=1, lineterm=""))
        lines += body
    if len(lines) > _DIFF_LINES:
        lines = lines[:_DIFF_LINES] + [f"... ({len(lines) - _DIFF_LINES} more diff lines)"]
    return lines
