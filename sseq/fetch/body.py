"""Reading a stream's body to its true end.

A body can stop short in ways a plain read does not notice: fewer bytes
than its Content-Length declared, or a gzip or deflate stream without its
end.  Both are a broken connection, not the end of the stream, and
:class:`BodyReader` says so with :class:`BodyCutShort` instead of a quiet
empty read.  (A chunked body without its last chunk is already an error
from urllib3.)  It decodes gzip and deflate itself, so that it knows
whether the compressed stream ended; other encodings are left to urllib3.
A body with neither a length nor chunks ends when the connection closes:
there a cut cannot be told from an end.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from .outcome import broken_body_reason

__all__ = ["Answer", "BodyCutShort", "BodyDecodeError", "BodyReader", "read_answer"]

_GZIP = 16 + zlib.MAX_WBITS


class BodyCutShort(Exception):
    """The body ended before what its headers or encoding promised."""


class BodyDecodeError(Exception):
    """The body is not in the encoding its Content-Encoding names."""


class BodyReader:
    """``read1()`` gives the next decoded bytes of a urllib3 response, and
    b"" only at a true end."""

    def __init__(self, raw, headers: Mapping[str, str]):
        self._raw = raw
        codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self._own = len(codings) <= 1 and all(c in ("gzip", "x-gzip", "deflate") for c in codings)
        self._decoder = _ZlibStream(codings[0]) if self._own and codings else None
        self._coding = codings[0] if codings else ""
        self._length = _declared_length(headers)

    def read1(self) -> bytes:
        raw = self._raw
        if not self._own:
            data = raw.read1(decode_content=True)
            if not data:
                self._check_length()
            return data
        while True:
            data = raw.read1(decode_content=False)
            if not data:
                self._check_length()
                if self._decoder is not None and not self._decoder.complete:
                    raise BodyCutShort(f"the {self._coding} stream of the body ended before its end")
                return b""
            if self._decoder is None:
                return data
            out = self._decoder.feed(data)
            if out:
                return out
            # Compressed bytes that complete nothing yet: read on.

    def _check_length(self) -> None:
        if self._length is None:
            return
        got = self._raw.tell()
        if got < self._length:
            raise BodyCutShort(f"the body ended after {got} of the {self._length} bytes its Content-Length declared")


@dataclass(frozen=True)
class Answer:
    """A non-stream body: its ``text`` (up to the limit), why it is not
    whole when it broke (``broken``), and whether it was over the limit."""

    text: str
    broken: str | None = None
    over_limit: bool = False


def read_answer(response, idle_timeout: float, limit: int) -> Answer:
    """Up to ``limit`` bytes of a non-stream body (a JSON answer, an error
    page), decoded.  Never waits longer than the idle timeout between reads,
    never holds much more than the limit."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    reader = BodyReader(raw, response.headers)
    pieces: list[bytes] = []
    size = 0
    broken = None
    try:
        while size <= limit:
            if sock is not None:
                sock.settimeout(idle_timeout)
            chunk = reader.read1()
            if not chunk:
                break
            pieces.append(chunk)
            size += len(chunk)
    except (BodyCutShort, BodyDecodeError) as exc:
        broken = str(exc)
    except Exception as exc:  # a body cut short still says something
        broken = broken_body_reason(exc)
    body = b"".join(pieces)
    return Answer(body[:limit].decode("utf-8", "replace"), broken, size > limit)


class _ZlibStream:
    """gzip (one member after another) or deflate (zlib-wrapped, or raw as
    some servers send it), fed piece by piece."""

    def __init__(self, coding: str):
        self._deflate = coding == "deflate"
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else _GZIP)
        self._fed = False
        self._first = b""

    @property
    def complete(self) -> bool:
        """True when the compressed stream reached its end (or never began)."""
        return not self._fed or self._obj.eof

    def feed(self, data: bytes) -> bytes:
        try:
            return self._feed(data)
        except zlib.error as exc:
            raise BodyDecodeError(f"cannot decode the response body: {exc}") from None

    def _feed(self, data: bytes) -> bytes:
        if self._deflate and not self._fed:
            self._fed = True
            try:
                return self._obj.decompress(data)
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, without the zlib header
        self._fed = True
        out = []
        while data:
            if self._obj.eof:
                if self._deflate or data[:2] != b"\x1f\x8b":
                    break  # bytes after the end are ignored, as urllib3 does
                self._obj = zlib.decompressobj(_GZIP)  # the next gzip member
            out.append(self._obj.decompress(data))
            data = self._obj.unused_data if self._obj.eof else b""
        return b"".join(out)


def _declared_length(headers: Mapping[str, str]) -> int | None:
    if "transfer-encoding" in headers:
        return None  # chunked: the length, if any, is not the body's
    value = headers.get("content-length", "").split(",")[0].strip()
    return int(value) if value.isdigit() else None
