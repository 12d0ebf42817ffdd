"""Keeping secrets out of recordings, messages and redirects.

A header is secret when its name is one of the credential headers
(Authorization, Proxy-Authorization, Cookie, Set-Cookie) or holds ``key``,
``token``, ``secret`` or ``auth`` (x-api-key, x-goog-api-key,
x-auth-token...).  Rate-limit headers are the exception: OpenAI's
``x-ratelimit-remaining-tokens`` and Anthropic's
``anthropic-ratelimit-tokens-limit`` count tokens, they are not tokens, and
audits want them kept.

JSON request bodies are redacted by key (:func:`redact_json`): a string
under a key named as a secret header would be (``api_key``, ``apiKey``,
``access_token``; also ``author``, which holds "auth": a false alarm costs
a field in the file, a miss would cost a key).  Whoever compares a live
request with a recorded one (serve, proxy) must blank the live one with
these same functions (:func:`redact_json`, :func:`redact_query`), or a
recording stops matching.

This module does no I/O and imports nothing heavy, so that any command can
use it (fetch, proxy and serve do).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit, urlunsplit

__all__ = ["REDACTED", "is_secret_header", "is_secret_key", "is_secret_query", "redact_headers", "redact_json", "redact_query",
           "redact_url", "secret_values", "Scrubber", "drop_secret_headers", "new_secret_keeping_session"]

REDACTED = "[redacted]"

_SECRET_NAMES = frozenset(("authorization", "proxy-authorization", "cookie", "set-cookie"))
_SECRET_PARTS = ("key", "token", "secret", "auth", "cookie", "password", "session")
_NOT_SECRET_PARTS = ("ratelimit", "rate-limit")
_SECRET_QUERY_NAMES = frozenset(("sig", "signature", "code"))


def is_secret_header(name: str) -> bool:
    """True when a header of this name may carry a credential."""
    name = name.strip().lower()
    if name in _SECRET_NAMES:
        return True
    if any(part in name for part in _NOT_SECRET_PARTS):
        return False
    return any(part in name for part in _SECRET_PARTS)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-case names, secret values replaced by ``[redacted]``.

    Repeated names are joined with ", " (Set-Cookie is redacted anyway).
    """
    # (anything with .items(): a dict, requests' headers, http.server's HTTPMessage)
    items = headers.items() if hasattr(headers, "items") else headers
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        value = REDACTED if is_secret_header(key) else str(value)
        out[key] = value if key not in out or value == REDACTED else f"{out[key]}, {value}"
    return out


def is_secret_query(name: str) -> bool:
    """True when a URL query parameter of this name may carry a credential:
    the header rule, plus signatures and OAuth codes (``sig``, ``code``)."""
    name = name.lower()
    return name in _SECRET_QUERY_NAMES or is_secret_header(name)


def redact_query(query: str) -> str:
    """A raw query string with the values of secret parameters (``key``,
    ``access_token``, ``sig``...) replaced by ``[redacted]``; every other
    byte kept as it was, so that a recorded query still compares equal."""
    if not query:
        return query
    pieces = query.split("&")
    for n, piece in enumerate(pieces):
        name, eq, value = piece.partition("=")
        if eq and value and is_secret_query(unquote_plus(name)):
            pieces[n] = f"{name}={REDACTED}"
    return "&".join(pieces)


def is_secret_key(name: str) -> bool:
    """True when a JSON object key may name a credential: the rule for
    header names (``api_key``, ``apiKey``, ``access_token``, ``password``;
    ``max_tokens`` too, but only string values are ever redacted)."""
    return is_secret_header(name)


def redact_json(value: Any, scrub: Callable[[str], str] | None = None) -> Any:
    """A copy of a parsed JSON value with the string values of secret keys
    replaced by ``[redacted]`` (and, with ``scrub``, known secret values
    removed from every other string).  The input is left untouched.
    Raises RecursionError for values nested too deep to walk."""
    kind = type(value)
    if kind is dict:
        return {key: REDACTED if type(item) is str and is_secret_key(key) else redact_json(item, scrub)
                for key, item in value.items()}
    if kind is list:
        return [redact_json(item, scrub) for item in value]
    if kind is str and scrub is not None:
        return scrub(value)
    return value


def redact_url(url: str) -> str:
    """A URL safe to record: a password in it and the values of query
    parameters such as ``key=`` (Gemini) or ``access_token=`` redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, redact_query(parts.query), parts.fragment))


def secret_values(headers: Iterable[tuple[str, str | None]], url: str = "") -> list[str]:
    """The secret values a request carries (header values, and credentials
    in its URL), longest first, so that they can be scrubbed from text that
    the server echoes back."""
    values: set[str] = set()
    for name, value in headers:
        if value and is_secret_header(name):
            values.add(value.strip())
            # "Bearer sk-..." : the token alone is echoed back too.
            values.update(part for part in value.split() if len(part) >= 8)
            # "a=1; b=2" cookies: each value on its own.
            for crumb in value.split(";"):
                _, _, crumb_value = crumb.partition("=")
                if len(crumb_value.strip()) >= 8:
                    values.add(crumb_value.strip())
    try:
        parts = urlsplit(url)
        if parts.password:
            values.add(parts.password)
        values.update(v for n, v in parse_qsl(parts.query) if v and is_secret_query(n))
    except ValueError:
        pass
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


class Scrubber:
    """Replaces known secret values in text meant for people or records
    (an error body that quotes the API key, an exception message)."""

    def __init__(self, values: Iterable[str] = ()):
        self.values = list(values)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


def drop_secret_headers(headers) -> list[str]:
    """Remove every secret header from a mutable mapping (a redirect to
    another host must not carry them); returns the names removed."""
    names = [name for name in list(headers) if is_secret_header(name)]
    for name in names:
        del headers[name]
    return names


_SESSION_CLASS = None


def new_secret_keeping_session():
    """A requests Session that drops every secret header, not only
    Authorization, when a redirect leads to another host.  (requests is
    imported here, on first use, so that this module stays light.)"""
    global _SESSION_CLASS
    if _SESSION_CLASS is None:
        import requests

        class SecretKeepingSession(requests.Session):
            def rebuild_auth(self, prepared_request, response):
                if self.should_strip_auth(response.request.url, prepared_request.url):
                    drop_secret_headers(prepared_request.headers)
                super().rebuild_auth(prepared_request, response)

        _SESSION_CLASS = SecretKeepingSession
    return _SESSION_CLASS()
