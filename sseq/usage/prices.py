"""Local price tables, and the cost of a stream.

Two formats are read (JSON, prices in a currency per million tokens):

sseq's own::

    {"currency": "USD",
     "models": {"gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.6},
                "claude-sonnet-4-5": {"input": 3, "cached_input": 0.3, "cache_write": 3.75, "output": 15}}}

and LiteLLM's ``model_prices_and_context_window.json`` (prices per token:
``input_cost_per_token``, ``output_cost_per_token``,
``cache_read_input_token_cost``, ``cache_creation_input_token_cost``).

A table is never fetched during a run.  A model the table does not name is
unpriced: its cost is None, never 0.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import orjson

from ..errors import SseqError
from .model import StreamUsage

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


@dataclass(frozen=True, slots=True)
class Price:
    """Per million tokens.  ``cached_input`` and ``cache_write`` fall back
    to ``input`` when the table does not give them."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None


def _number(value, where: str) -> float | None:
    if value is None:
        return None
    if type(value) in (int, float) and value >= 0:
        return float(value)
    raise ValueError(f"{where}: a price must be a non-negative number, not {value!r}")


def parse_prices(data: bytes, name: str = "prices") -> tuple[str, dict[str, Price]]:
    """(format, {model: Price}) from a price file's bytes; raises ValueError."""
    try:
        table = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if type(table) is not dict:
        raise ValueError("a price table is a JSON object")
    prices: dict[str, Price] = {}
    if type(table.get("models")) is dict:
        for model, entry in table["models"].items():
            if type(entry) is not dict:
                raise ValueError(f"models.{model}: an object of prices per million tokens")
            where = f"models.{model}"
            inp = _number(entry.get("input"), where + ".input")
            out = _number(entry.get("output"), where + ".output")
            if inp is None or out is None:
                raise ValueError(f"{where}: needs at least \"input\" and \"output\" (per million tokens)")
            prices[model] = Price(inp, out, _number(entry.get("cached_input"), where + ".cached_input"),
                                  _number(entry.get("cache_write"), where + ".cache_write"))
        return "sseq", prices
    litellm = False
    for model, entry in table.items():
        if type(entry) is not dict or "input_cost_per_token" not in entry:
            continue  # "sample_spec", image and embedding-only entries
        litellm = True
        try:
            inp = _number(entry.get("input_cost_per_token"), model)
            out = _number(entry.get("output_cost_per_token"), model)
            cached = _number(entry.get("cache_read_input_token_cost"), model)
            write = _number(entry.get("cache_creation_input_token_cost"), model)
        except ValueError:
            continue
        if inp is None or out is None:
            continue
        million = 1_000_000
        prices[model] = Price(inp * million, out * million,
                              None if cached is None else cached * million,
                              None if write is None else write * million)
    if not litellm:
        raise ValueError('neither sseq\'s format ({"models": {...}}) nor LiteLLM\'s (entries with "input_cost_per_token")')
    return "litellm", prices


class PriceTable:
    """A loaded price table: cost per stream, and its identity for the report."""

    def __init__(self, path: str, data: bytes, fmt: str, prices: dict[str, Price]):
        self.path = path
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.format = fmt
        self.prices = prices
        self._lower = {k.lower(): v for k, v in prices.items()}

    @classmethod
    def load(cls, path: str) -> PriceTable:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise SseqError(f"--prices {path}: {exc.strerror or exc}") from None
        try:
            fmt, prices = parse_prices(data, path)
        except ValueError as exc:
            raise SseqError(f"--prices {path}: {exc}") from None
        return cls(path, data, fmt, prices)

    def describe(self) -> dict:
        return {"file": self.path, "sha256": self.sha256, "format": self.format, "models": len(self.prices)}

    def price_of(self, model: str | None, provider: str | None = None) -> Price | None:
        """The price of a model: its exact name (with the provider prefix
        LiteLLM uses first), then without a date suffix
        (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``), then the part after a
        vendor prefix (``x-ai/grok-4`` -> ``grok-4``)."""
        if not model:
            return None
        names = []
        for name in (model, model.rsplit("/", 1)[-1]):
            if provider:
                names.append(f"{provider}/{name}")
            names.append(name)
            undated = _DATED.sub("", name)
            if undated != name:
                if provider:
                    names.append(f"{provider}/{undated}")
                names.append(undated)
        for name in names:
            price = self.prices.get(name)
            if price is None:
                price = self._lower.get(name.lower())
            if price is not None:
                return price
        return None

    def cost(self, usage: StreamUsage) -> float | None:
        """The stream's cost, or None when its model has no price."""
        price = self.price_of(usage.model, usage.provider)
        if price is None:
            return None
        inp = usage.input_tokens or 0
        cached = usage.cached_input_tokens or 0
        write = usage.cache_write_tokens or 0
        plain = max(inp - cached - write, 0)
        total = (
            plain * price.input
            + cached * (price.input if price.cached_input is None else price.cached_input)
            + write * (price.input if price.cache_write is None else price.cache_write)
            + (usage.output_tokens or 0) * price.output
        )
        return total / 1_000_000
