"""Local price tables, and what a stream costs by its provider's billing rules.

Two formats are read (JSON):

sseq's own, prices per million tokens (``web_search``: per call)::

    {"currency": "USD",
     "models": {"gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.6},
                "claude-sonnet-4-5": {"input": 3, "cached_input": 0.3, "cache_write": 3.75,
                                      "cache_write_1h": 6, "output": 15, "web_search": 0.01,
                                      "batch": {"input": 1.5, "output": 7.5}}}}

and LiteLLM's ``model_prices_and_context_window.json`` (prices per token,
under LiteLLM's key names).  sseq's format is read into LiteLLM's key
names, so one set of rules prices both:

- tokens by kind: plain input, cached input (``cache_read_input_token_cost``,
  else the input price), cache writes (``cache_creation_input_token_cost``,
  else the input price) of which the 1-hour ones have their own price
  (``cache_creation_input_token_cost_above_1hr``, else the write price),
  output, and reasoning where the table prices it apart
  (``output_cost_per_reasoning_token``);
- long-context tiers: when the input passes a threshold named by a key such
  as ``input_cost_per_token_above_200k_tokens``, every token of the stream
  is priced at that tier (the largest threshold passed wins);
- service tiers: ``flex``, ``priority`` and ``batch`` streams use the keys
  suffixed ``_flex``, ``_priority`` and ``_batches``; a table without them
  prices the stream at standard rates and says so in the cost note;
- server-tool fees: each ``web_search`` call at the table's
  ``search_context_cost_per_query`` (the medium size, as LiteLLM does), once
  per stream for Gemini unless the table says ``web_search_billing_unit:
  per_query``; ``file_search`` at ``file_search_cost_per_1k_calls``; other
  built-in tools are left out, and the cost note says which.

A table is never fetched during a run.  A model the table does not name is
unpriced: its cost is None, never 0.  Costs are exact decimals (the table's
numbers as written), rounded only for display.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from decimal import Decimal

import orjson

from ..errors import SseqError
from .model import StreamUsage

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
_MILLION = Decimal(1_000_000)
# The largest cost sseq will total is about this many tokens at one price:
# a price so large that such a cost is not a finite number is refused.
_TOKENS_BOUND = 1e15

INPUT = "input_cost_per_token"
OUTPUT = "output_cost_per_token"
REASONING = "output_cost_per_reasoning_token"
CACHE_READ = "cache_read_input_token_cost"
CACHE_WRITE = "cache_creation_input_token_cost"
CACHE_WRITE_1H = "cache_creation_input_token_cost_above_1hr"
SEARCH = "search_context_cost_per_query"
FILE_SEARCH = "file_search_cost_per_1k_calls"

# Service tiers (StreamUsage.service_tier) and the suffix of their keys.
TIER_SUFFIXES = {"standard": "", "flex": "_flex", "priority": "_priority", "batch": "_batches"}
_THRESHOLD = re.compile(
    r"^(?:input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)"
    r"_above_(\d+)(k?)_tokens(_flex|_priority|_batches)?$")
# The keys of LiteLLM's entries that these rules read (others are ignored).
_USED_KEY = re.compile(
    r"^(?:input_cost_per_token|output_cost_per_token|output_cost_per_reasoning_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost(?:_above_1hr)?)(?:_above_\d+k?_tokens)?(?:_flex|_priority|_batches)?$"
    r"|^file_search_cost_per_1k_calls$")
# Tools whose use is billed as tokens only: no fee to leave out.
TOKEN_ONLY_TOOLS = frozenset({"function", "custom", "mcp", "web_fetch", "tool_search", "computer",
                              "local_shell", "shell", "apply_patch", "text_editor", "bash", "memory"})

# sseq's names (per million tokens) and LiteLLM's (per token).
_SSEQ_KEYS = {"input": INPUT, "output": OUTPUT, "reasoning": REASONING, "cached_input": CACHE_READ,
              "cache_write": CACHE_WRITE, "cache_write_1h": CACHE_WRITE_1H}
_SSEQ_TIERS = {"flex": "_flex", "priority": "_priority", "batch": "_batches"}

# Who served a stream (StreamUsage.provider) and the prefixes of LiteLLM's keys for it.
PROVIDER_PREFIXES = {
    "google": ("gemini",), "vertex": ("vertex_ai",), "azure": ("azure",), "anthropic": ("anthropic",),
    "groq": ("groq",), "deepseek": ("deepseek",), "openrouter": ("openrouter",), "mistral": ("mistral",),
    "together": ("together_ai",), "fireworks": ("fireworks_ai",), "xai": ("xai",), "openai": ("openai",),
}


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One model's prices, per token under LiteLLM's key names (exact
    decimals); ``search``: the web-search price per call, None when the
    table gives none."""

    name: str
    rates: dict
    search: Decimal | None = None
    search_sizes_differ: bool = False
    search_per_query: bool | None = None


@dataclass(frozen=True, slots=True)
class Cost:
    """A stream's cost: ``amount`` None when unpriced; ``note`` says what
    the amount leaves out, or why there is none."""

    amount: Decimal | None
    note: str | None = None


def _price(value, where: str, per: Decimal = Decimal(1)) -> Decimal | None:
    """A per-token price from a table value, exact as written; None when absent."""
    if value is None:
        return None
    if type(value) not in (int, float):
        raise ValueError(f"{where}: a price must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: a price must be a non-negative number, not {value!r}")
    if not math.isfinite(value / float(per) * _TOKENS_BOUND):
        raise ValueError(f"{where}: {value!r} is too large a price (a stream's cost would not be a finite number)")
    return Decimal(repr(value)) / per


def _search(value, where: str, per_call: Decimal = Decimal(1)) -> tuple[Decimal | None, bool]:
    """LiteLLM's ``search_context_cost_per_query`` (by context size; the
    medium one is used) or sseq's ``web_search`` (one number)."""
    if type(value) is dict:
        sizes = {k: _price(v, f"{where}.{k}") for k, v in value.items() if type(v) in (int, float)}
        medium = sizes.get("search_context_size_medium")
        return medium, len(set(sizes.values())) > 1
    return _price(value, where), False


def _litellm_entry(model: str, entry: dict) -> ModelPrice | None:
    rates = {}
    for key, value in entry.items():
        if _USED_KEY.match(key) and value is not None:
            rates[key] = _price(value, f"{model}.{key}")
    if rates.get(INPUT) is None or rates.get(OUTPUT) is None:
        return None
    search, differ = _search(entry.get(SEARCH), f"{model}.{SEARCH}")
    unit = entry.get("web_search_billing_unit")
    return ModelPrice(model, rates, search, differ, None if unit is None else unit == "per_query")


def _sseq_entry(model: str, entry: dict) -> ModelPrice:
    where = f"models.{model}"
    rates = {}
    for tier, suffix in [("", "")] + list(_SSEQ_TIERS.items()):
        block = entry if not tier else entry.get(tier)
        if block is None:
            continue
        if type(block) is not dict:
            raise ValueError(f"{where}.{tier}: an object of prices per million tokens")
        for name, key in _SSEQ_KEYS.items():
            price = _price(block.get(name), f"{where}.{tier + '.' if tier else ''}{name}", _MILLION)
            if price is not None:
                rates[key + suffix] = price
    if rates.get(INPUT) is None or rates.get(OUTPUT) is None:
        raise ValueError(f"{where}: needs at least \"input\" and \"output\" (per million tokens)")
    search, _ = _search(entry.get("web_search"), f"{where}.web_search")
    return ModelPrice(model, rates, search)


def parse_prices(data: bytes, name: str = "prices") -> tuple[str, str, dict[str, ModelPrice]]:
    """(format, currency, {model: ModelPrice}) from a price file's bytes;
    raises ValueError."""
    try:
        table = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if type(table) is not dict:
        raise ValueError("a price table is a JSON object")
    currency = table.get("currency", "USD")
    if type(currency) is not str or not currency.strip():
        raise ValueError(f"\"currency\" must be a currency code such as \"USD\", not {currency!r}")
    currency = currency.strip().upper()
    prices: dict[str, ModelPrice] = {}
    if type(table.get("models")) is dict:
        for model, entry in table["models"].items():
            if type(entry) is not dict:
                raise ValueError(f"models.{model}: an object of prices per million tokens")
            prices[model] = _sseq_entry(model, entry)
        return "sseq", currency, prices
    litellm = False
    for model, entry in table.items():
        if type(entry) is not dict or "input_cost_per_token" not in entry or model == "sample_spec":
            continue  # the spec and image, audio and embedding-only entries
        litellm = True
        price = _litellm_entry(model, entry)
        if price is not None:
            prices[model] = price
    if not litellm:
        raise ValueError('neither sseq\'s format ({"models": {...}}) nor LiteLLM\'s (entries with "input_cost_per_token")')
    return "litellm", currency, prices


def _undated(name: str) -> str:
    return _DATED.sub("", name)


class PriceTable:
    """A loaded price table: cost per stream, and its identity for the report."""

    def __init__(self, path: str, data: bytes, fmt: str, currency: str, prices: dict[str, ModelPrice]):
        self.path = path
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.format = fmt
        self.currency = currency
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
            fmt, currency, prices = parse_prices(data, path)
        except ValueError as exc:
            raise SseqError(f"--prices {path}: {exc}") from None
        return cls(path, data, fmt, currency, prices)

    def describe(self) -> dict:
        return {"file": self.path, "sha256": self.sha256, "format": self.format, "currency": self.currency,
                "models": len(self.prices)}

    def price_of(self, model: str | None, provider: str | None = None) -> ModelPrice | None:
        """A model's prices: its name under the provider's prefixes in
        LiteLLM's table (``vertex_ai/gemini-3-pro-preview``,
        ``gemini/gemini-2.5-pro``) then as it is, each also without a date
        suffix (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``), then the same
        for the part after a vendor prefix (``x-ai/grok-4`` -> ``grok-4``)."""
        if not model:
            return None
        prefixes = PROVIDER_PREFIXES.get(provider or "", (provider,) if provider else ())
        names = []
        for name in dict.fromkeys((model, model.rsplit("/", 1)[-1])):
            for candidate in dict.fromkeys((name, _undated(name))):
                names += [f"{prefix}/{candidate}" for prefix in prefixes]
                names.append(candidate)
        for name in names:
            price = self.prices.get(name)
            if price is None:
                price = self._lower.get(name.lower())
            if price is not None:
                return price
        return None

    def cost(self, usage: StreamUsage) -> Cost:
        """The stream's cost by its provider's billing rules; amount None
        when the stream reported no tokens or its model has no price."""
        if usage.input_tokens is None and usage.output_tokens is None:
            return Cost(None)
        price = self.price_of(usage.model, usage.provider)
        if price is None:
            return Cost(None, f"unpriced: no price for {usage.model or 'an unnamed model'} in the table")
        return cost_of(usage, price)


def _threshold(rates: dict, input_tokens: int, suffix: str) -> str | None:
    """The largest long-context threshold the input passes (``200k``), among
    the standard keys and those of the stream's service tier."""
    crossed: tuple[float, str] | None = None
    for key in rates:
        match = _THRESHOLD.match(key)
        if match is None or (match.group(3) or "") not in ("", suffix):
            continue
        value = float(match.group(1)) * (1000 if match.group(2) else 1)
        if input_tokens > value and (crossed is None or value > crossed[0]):
            crossed = (value, match.group(1) + match.group(2))
    return None if crossed is None else crossed[1]


def cost_of(usage: StreamUsage, price: ModelPrice) -> Cost:
    """One stream at one model's prices (see the module's rules)."""
    rates = price.rates
    notes: list[str] = []
    tier = usage.service_tier or "standard"
    suffix = TIER_SUFFIXES.get(tier)
    if suffix is None:
        notes.append(f"service tier {tier!r} is not priced by the table: standard rates used")
        suffix = ""
    inp = usage.input_tokens or 0
    above = _threshold(rates, inp, suffix)

    def keys(base: str) -> list[str]:
        """Most specific first: tier and long-context, long-context, tier, plain."""
        found = []
        if above:
            found += [f"{base}_above_{above}_tokens{suffix}", f"{base}_above_{above}_tokens"]
        found += [base + suffix, base]
        return list(dict.fromkeys(found))

    def rate(base: str) -> tuple[Decimal | None, str | None]:
        for key in keys(base):
            value = rates.get(key)
            if value is not None:
                return value, key
        return None, None

    input_rate, input_key = rate(INPUT)
    output_rate, _ = rate(OUTPUT)
    if input_rate is None or output_rate is None:  # (a table entry without them is not a price)
        return Cost(None, f"no input and output prices for {price.name} in the table")
    if suffix and input_key is not None and not input_key.endswith(suffix):
        notes.append(f"no {tier} prices for {price.name} in the table: standard rates used")
    cache_read = rate(CACHE_READ)[0]
    cache_read = input_rate if cache_read is None else cache_read
    cache_write = rate(CACHE_WRITE)[0]
    cache_write = input_rate if cache_write is None else cache_write
    cache_write_1h = rate(CACHE_WRITE_1H)[0]
    cache_write_1h = cache_write if cache_write_1h is None else cache_write_1h
    # Reasoning has its own price only where the table names one for this
    # exact tier; otherwise it is output.
    reasoning_rate = rates.get(keys(REASONING)[0], output_rate)

    cached = usage.cached_input_tokens or 0
    written = usage.cache_write_tokens or 0
    written_1h = min(getattr(usage, "cache_write_1h_tokens", None) or 0, written)
    plain = max(inp - cached - written, 0)
    out = usage.output_tokens or 0
    reasoning = min(usage.reasoning_tokens or 0, out)
    amount = (plain * input_rate + cached * cache_read + (written - written_1h) * cache_write
              + written_1h * cache_write_1h + (out - reasoning) * output_rate + reasoning * reasoning_rate)

    for kind, calls in sorted(usage.tool_calls.items()):
        if kind in TOKEN_ONLY_TOOLS or calls <= 0:
            continue
        if kind == "web_search" and price.search is not None:
            per_query = price.search_per_query if price.search_per_query is not None else usage.api != "gemini"
            amount += price.search * (calls if per_query else 1)
            if price.search_sizes_differ:
                notes.append("web search priced at the medium search-context size")
        elif kind == "file_search" and rates.get(FILE_SEARCH) is not None:
            amount += rates[FILE_SEARCH] * calls / 1000
        else:
            notes.append(f"leaves out {kind} calls: no fee in the table")
    return Cost(amount, "; ".join(notes) or None)
