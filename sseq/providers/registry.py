"""The families in one table, and the questions asked of any record.

A record belongs to the first family in :data:`FAMILIES` that claims it.
Commands dispatch through here: :func:`family_of` for one record,
:class:`StreamReader` for a stream, and the per-record questions that do
not need to know the family first (:func:`is_terminal`,
:func:`maybe_error`), which ask every family in turn.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from ..records import Record, classify_data
from . import anthropic, cohere, gemini, openai_chat, openai_responses
from .base import Api, DeltaShape, Family, Fragment, Tokens, UsageObserver

# In the order they are asked: the ones that claim by event type first.
FAMILIES: tuple[Family, ...] = (
    openai_responses.FAMILY,
    anthropic.FAMILY,
    gemini.FAMILY,
    openai_chat.FAMILY,
    cohere.FAMILY,
)

_BY_API = {family.api: family for family in FAMILIES}

# Hosts of sseq.open's url, by suffix: who served the stream.
_HOSTS = tuple(pair for family in FAMILIES for pair in family.hosts)

# Every family's delta shapes, as the compiled core takes them (see
# sseq.runs.RecordRun: a run names its shape by its index here).
_SHAPES: tuple[tuple[Family, DeltaShape], ...] = tuple(
    (family, shape) for family in FAMILIES for shape in family.delta_shapes)
RUN_SHAPES = tuple((shape.event.encode(), shape.text_key.encode(), tuple(k.encode() for k in shape.same_keys),
                    tuple(k.encode() for k in shape.other_keys)) for _, shape in _SHAPES)

# When the url does not say: the relays a stream gives away, most telling first.
_HINTS = ("groq", "openrouter", "azure", "deepseek", "vllm", "vertex")


def family_of(record: Record) -> Family | None:
    """The family whose format the record is in, or None."""
    for family in FAMILIES:
        if family.claims(record):
            return family
    return None


def family_named(api: str) -> Family | None:
    """The family of an :class:`~sseq.providers.base.Api` name."""
    return _BY_API.get(api)


def detect_family(records: Iterable[Record]) -> Family:
    """The family of the first record one claims; Chat Completions (the
    relays' format) when none does."""
    for record in records:
        family = family_of(record)
        if family is not None:
            return family
    return openai_chat.FAMILY


def _decoded(record: Record) -> Record:
    """The record with string data that holds JSON (as ``parse --raw-data``
    writes it) parsed, as every other reader sees it."""
    data = record.data
    if type(data) is str and data[:1] in ("{", "[", " ", "\t"):
        value, raw = classify_data(data.encode("utf-8", "surrogatepass"))
        if type(value) is not str:
            return Record(record.event, value, record.id, record.retry, record.t, raw)
    return record


def is_terminal(record: Record) -> bool:
    """True for the record that says the upstream finished: ``[DONE]``
    (Chat Completions and the relays), a terminal Responses or Anthropic
    event, a Gemini chunk carrying a finishReason..."""
    record = _decoded(record)
    for family in FAMILIES:
        if family.is_terminal(record):
            return True
    return False


def maybe_error(record: Record) -> str | None:
    """The message of an in-band error event in any family's format, or None."""
    record = _decoded(record)
    for family in FAMILIES:
        message = family.maybe_error(record)
        if message is not None:
            return message
    return None


def maybe_http_error_message(body: str) -> str | None:
    """The provider's own message in an HTTP error body: what a family's
    error body says, else a top-level ``error`` string, ``message``,
    ``detail`` (FastAPI) or ``error_description`` (OAuth), else the first
    line of a short plain-text body; None for HTML."""
    text = body.strip()
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        line = text.splitlines()[0]
        return line[:300] if not line.lstrip().startswith("<") else None
    for family in FAMILIES:
        said = family.maybe_http_error(value)
        if said:
            return said[:1000]
    if type(value) is not dict:
        return None
    error = value.get("error")
    if type(error) is str and error:
        return error[:1000]
    for key in ("message", "detail", "error_description"):
        if type(value.get(key)) is str and value[key]:
            return value[key][:1000]
    return None


def maybe_provider_of_url(url: str) -> str | None:
    """Who served a stream, from the url ``fetch`` recorded; None for a
    host that names no provider (a local ``sseq serve``, a proxy)."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("@")[-1].split(":")[0].lower()
    for suffix, provider in _HOSTS:
        if host == suffix.lstrip(".") or host.endswith(suffix):
            return provider
    return None


class StreamReader:
    """One stream read record by record: each record handed to the family
    that claims it (text fragments, and with ``usage`` its usage
    observer), and what the stream says so far: its family, whether it
    ended (``terminal``), its first in-band error (``error``).

    ``family``: the family of the last record of dict data that one
    claimed (None: no family's yet)."""

    def __init__(self, usage: bool = True) -> None:
        self.usage = usage
        self.family: Family | None = None
        self.terminal = False
        self.error: str | None = None
        self._ended_at: Record | None = None
        self._last: Record | None = None
        self._readers: dict = {}
        self._observers: dict[Family, UsageObserver] = {}
        self._last_fed: tuple[Family | None, list[Fragment]] = (None, [])

    @property
    def api(self) -> str:
        return self.family.api if self.family is not None else Api.UNKNOWN

    def feed(self, record: Record) -> list[Fragment]:
        """Note one record; the fragments of output it carries."""
        fragments: list[Fragment] = []
        record = _decoded(record)
        family = family_of(record)
        if family is not None:
            reader = self._readers.get(family)
            if reader is None:
                reader = self._readers[family] = family.text_reader()
            fragments.extend(reader.iter_fragments(record))
            data = record.data
            if type(data) is dict:
                self.family = family
                self._last = record
                if self.usage:
                    observer = self._observers.get(family)
                    if observer is None:
                        observer = self._observers[family] = family.usage_observer()
                    observer.feed(record, data)
        # A record a family claims is asked of that family alone; the others
        # ([DONE], error events) of every family.
        if self.error is None:
            self.error = family.maybe_error(record) if family is not None else maybe_error(record)
            if self.error is not None and self._ended_at is None:
                self._ended_at = record
        if not self.terminal and (family.is_terminal(record) if family is not None else is_terminal(record)):
            self.terminal = True
            if self._ended_at is None:
                self._ended_at = record
        self._last_fed = (family, fragments)
        return fragments

    def feed_run(self, run) -> Fragment | None:
        """Note a :class:`~sseq.runs.RecordRun` that follows the record
        fed last: its fragments as one (their texts joined), or None when
        the run cannot be taken whole here (then feed its records)."""
        family, shape = _SHAPES[run.shape]
        fed_family, fragments = self._last_fed
        if (fed_family is not family or self._ended_at is not None or len(fragments) != 1
                or fragments[0].kind != shape.kind or type(self._last) is not Record):
            return None
        self._last = run.last()
        return Fragment(shape.kind, run.text, fragments[0].block)

    def opens_next(self, record: Record) -> bool:
        """True when ``record`` begins a new stream: after a terminal
        marker or an in-band error, the start of another (``message_start``,
        ``response.created``, a Chat chunk after ``[DONE]``, a record of
        another family...)."""
        ended_at = self._ended_at
        if ended_at is None:
            return False
        record = _decoded(record)
        if type(record.data) is not dict:
            return False
        family = family_of(record)
        if family is None:
            return False
        return family is not self.family or family.opens_stream(record, ended_at, self._last)

    # -- what the usage observer of the stream's family found --------------

    @property
    def observer(self) -> UsageObserver | None:
        return self._observers.get(self.family) if self.family is not None else None

    def tokens(self) -> Tokens | None:
        observer = self.observer
        return observer.tokens() if observer is not None else None

    def tool_calls(self) -> dict[str, int]:
        observer = self.observer
        return observer.tool_calls() if observer is not None else {}

    @property
    def model(self) -> str | None:
        observer = self.observer
        return observer.model if observer is not None else None

    @property
    def response_id(self) -> str | None:
        observer = self.observer
        return observer.response_id if observer is not None else None

    @property
    def stop_reason(self) -> str | None:
        observer = self.observer
        return observer.stop_reason if observer is not None else None

    @property
    def stopped_early(self) -> bool:
        observer = self.observer
        return observer.stopped_early if observer is not None else False

    @property
    def service_tier(self) -> str | None:
        observer = self.observer
        return observer.service_tier if observer is not None else None

    def provider(self, url_provider: str | None = None) -> str | None:
        """Who served the stream: the url's host, else a relay the records
        give away, else the family's own provider."""
        if url_provider:
            return url_provider
        hints: set[str] = set()
        for observer in self._observers.values():
            hints |= observer.hints
        for hint in _HINTS:
            if hint in hints:
                return hint
        return self.family.default_provider if self.family is not None else None
