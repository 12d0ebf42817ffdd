"""Cost by the provider's billing rules, with LiteLLM's table as the price
source: each rule on a hand-made stream or row, the expected cost worked
out here from the table's own numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import orjson
import pytest
from helpers import REAL, run_sseq
from helpers.usage_streams import (
    GEMINI_URL,
    LITELLM_EXCERPT,
    VERTEX_URL,
    anthropic_events,
    chat_events,
    gemini_events,
    ndjson_rows,
    recording,
    table_price,
)

from sseq.errors import SseqError
from sseq.usage.model import StreamUsage
from sseq.usage.prices import PriceTable

TABLE = PriceTable.load(str(LITELLM_EXCERPT))
P = table_price


def row(model, provider, api="openai-chat", **fields) -> StreamUsage:
    base = dict(file="f", stream=1, response_id="r", digest="d", api=api, provider=provider, model=model,
                usage_source="reported", verdict="complete", input_tokens=0, cached_input_tokens=0,
                cache_write_tokens=0, output_tokens=0, reasoning_tokens=None, total_tokens=0)
    base.update(fields)
    return StreamUsage(**base)


def cost_of_file(path, table=LITELLM_EXCERPT, *args):
    result = run_sseq("usage", "--by", "stream", "--format", "ndjson", "--prices", table, *args, path)
    assert result.returncode == 0, result.stderr
    return ndjson_rows(result.stdout)


# --- The five cases of issue 13 -----------------------------------------------


def test_one_hour_cache_writes_have_their_own_price():
    # Anthropic: 10 plain input tokens, a 10k-token cache write with a 1-hour TTL, 100 output tokens.
    u = row("claude-sonnet-4-5", "anthropic", "anthropic", input_tokens=10_010, cache_write_tokens=10_000,
            cache_write_1h_tokens=10_000, output_tokens=100)
    m = "claude-sonnet-4-5"
    expected = 10 * P(m, "input_cost_per_token") + 10_000 * P(m, "cache_creation_input_token_cost_above_1hr") \
        + 100 * P(m, "output_cost_per_token")
    assert TABLE.cost(u).amount == expected == Decimal("0.06153")
    # Split writes: 4k at 1 hour, 6k at 5 minutes.
    split = row(m, "anthropic", "anthropic", input_tokens=10_010, cache_write_tokens=10_000,
                cache_write_1h_tokens=4_000, output_tokens=100)
    assert TABLE.cost(split).amount == 10 * P(m, "input_cost_per_token") \
        + 4_000 * P(m, "cache_creation_input_token_cost_above_1hr") \
        + 6_000 * P(m, "cache_creation_input_token_cost") + 100 * P(m, "output_cost_per_token")
    # Without the 1-hour count (today's streams), every write is priced at the 5-minute price.
    plain = row(m, "anthropic", "anthropic", input_tokens=10_010, cache_write_tokens=10_000, output_tokens=100)
    assert TABLE.cost(plain).amount == Decimal("0.03903")


def test_long_context_tier_prices_every_token_above_the_threshold(tmp_path):
    m = "gemini/gemini-2.5-pro"
    path = tmp_path / "long.ndjson"
    path.write_bytes(recording(GEMINI_URL.format(model="gemini-2.5-pro"),
                               gemini_events("gemini-2.5-pro", 250_000, 1_500)))
    (r,) = cost_of_file(path)
    expected = 250_000 * P(m, "input_cost_per_token_above_200k_tokens") \
        + 1_500 * P(m, "output_cost_per_token_above_200k_tokens")
    assert Decimal(repr(r["cost"])) == expected == Decimal("0.6475")
    # At the threshold itself the standard prices hold (the tier is for prompts above it).
    at = row("gemini-2.5-pro", "google", "gemini", input_tokens=200_000, output_tokens=1_500)
    assert TABLE.cost(at).amount == 200_000 * P(m, "input_cost_per_token") + 1_500 * P(m, "output_cost_per_token")
    # Cached input above the threshold is priced at the tier's cache price.
    cached = row("gemini-2.5-pro", "google", "gemini", input_tokens=250_000, cached_input_tokens=50_000,
                 output_tokens=0)
    assert TABLE.cost(cached).amount == 200_000 * P(m, "input_cost_per_token_above_200k_tokens") \
        + 50_000 * P(m, "cache_read_input_token_cost_above_200k_tokens")


def test_service_tiers_flex_priority_batch():
    m = "vertex_ai/gemini-3-flash-preview"
    # The numbers of the real Vertex recording with trafficType ON_DEMAND_FLEX: 5 in, 101 out (100 reasoning).
    def tier(name):
        return row("gemini-3-flash-preview", "vertex", "gemini", input_tokens=5, output_tokens=101,
                   reasoning_tokens=100, service_tier=name)
    assert TABLE.cost(tier(None)).amount == 5 * P(m, "input_cost_per_token") + 101 * P(m, "output_cost_per_token")
    assert TABLE.cost(tier(None)).amount == Decimal("0.0003055")  # the 0.000305
    flex = TABLE.cost(tier("flex"))
    assert flex.amount == 5 * P(m, "input_cost_per_token_flex") + 101 * P(m, "output_cost_per_token_flex")
    assert flex.amount == Decimal("0.00015275") and flex.note is None  # the 0.000153
    assert TABLE.cost(tier("priority")).amount == \
        5 * P(m, "input_cost_per_token_priority") + 101 * P(m, "output_cost_per_token_priority")
    assert TABLE.cost(tier("batch")).amount == \
        5 * P(m, "input_cost_per_token_batches") + 101 * P(m, "output_cost_per_token_batches")
    assert TABLE.cost(tier("standard")).amount == TABLE.cost(tier(None)).amount
    # A tier the table has no prices for: standard prices, and the note says so.
    o3 = row("o3-mini-2025-01-31", "openai", input_tokens=100, output_tokens=10, service_tier="flex")
    cost = TABLE.cost(o3)
    assert cost.amount == 100 * P("o3-mini-2025-01-31", "input_cost_per_token") \
        + 10 * P("o3-mini-2025-01-31", "output_cost_per_token")
    assert cost.note == "no flex prices for o3-mini-2025-01-31 in the table: standard rates used"


def test_service_tier_and_long_context_together():
    m = "gpt-5.5"
    u = row("gpt-5.5-2026-04-23", "openai", "openai-responses", input_tokens=300_000, cached_input_tokens=100_000,
            output_tokens=1_000, service_tier="flex")
    assert TABLE.cost(u).amount == 200_000 * P(m, "input_cost_per_token_above_272k_tokens_flex") \
        + 100_000 * P(m, "cache_read_input_token_cost_above_272k_tokens_flex") \
        + 1_000 * P(m, "output_cost_per_token_above_272k_tokens_flex")


def test_web_search_calls_have_a_fee_on_a_real_responses_stream():
    (r,) = cost_of_file(REAL / "openai-responses-web-search-cached.sse")
    m = "gpt-5-2025-08-07"
    assert (r["model"], r["input_tokens"], r["cached_input_tokens"], r["output_tokens"], r["tool_calls"]) == (
        m, 9463, 8320, 582, {"web_search": 1})
    expected = (9463 - 8320) * P(m, "input_cost_per_token") + 8320 * P(m, "cache_read_input_token_cost") \
        + 582 * P(m, "output_cost_per_token") + 1 * P(m, "search_context_cost_per_query")
    assert Decimal(repr(r["cost"])) == expected
    assert round(r["cost"], 6) == 0.018289


def test_anthropic_server_tool_use_web_search_requests(tmp_path):
    m = "claude-sonnet-4-5"
    path = tmp_path / "search.ndjson"
    usage = {"input_tokens": 2000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1,
             "server_tool_use": {"web_search_requests": 3}}
    path.write_bytes(recording("https://api.anthropic.com/v1/messages", anthropic_events(m, "msg_s", usage, 400)))
    (r,) = cost_of_file(path)
    assert r["tool_calls"] == {"web_search": 3}
    assert Decimal(repr(r["cost"])) == 2000 * P(m, "input_cost_per_token") + 400 * P(m, "output_cost_per_token") \
        + 3 * P(m, "search_context_cost_per_query")


def test_gemini_grounding_per_prompt_and_per_query(tmp_path):
    # gemini-2.5-pro bills grounding per prompt: two queries, one fee.
    per_prompt = tmp_path / "g25.ndjson"
    per_prompt.write_bytes(recording(GEMINI_URL.format(model="gemini-2.5-pro"),
                                     gemini_events("gemini-2.5-pro", 100, 50, queries=["a", "b"])))
    (r,) = cost_of_file(per_prompt)
    m = "gemini/gemini-2.5-pro"
    assert r["tool_calls"] == {"web_search": 2}
    assert Decimal(repr(r["cost"])) == 100 * P(m, "input_cost_per_token") + 50 * P(m, "output_cost_per_token") \
        + P(m, "search_context_cost_per_query")
    # Gemini 3 on Vertex: the table says per_query, so three queries are three fees.
    per_query = tmp_path / "g3.ndjson"
    per_query.write_bytes(recording(VERTEX_URL.format(model="gemini-3-pro-preview"),
                                    gemini_events("gemini-3-pro-preview", 100, 50, queries=["a", "b", "c"])))
    (r,) = cost_of_file(per_query)
    m = "vertex_ai/gemini-3-pro-preview"
    assert json.loads(LITELLM_EXCERPT.read_text())[m]["web_search_billing_unit"] == "per_query"
    assert Decimal(repr(r["cost"])) == 100 * P(m, "input_cost_per_token") + 50 * P(m, "output_cost_per_token") \
        + 3 * P(m, "search_context_cost_per_query")


def test_provider_prefixes_vertex_and_gemini_keys(tmp_path):
    path = tmp_path / "vertex.ndjson"
    path.write_bytes(recording(VERTEX_URL.format(model="gemini-3-pro-preview"),
                               gemini_events("gemini-3-pro-preview", 1000, 1000)))
    (r,) = cost_of_file(path)
    m = "vertex_ai/gemini-3-pro-preview"
    assert r["provider"] == "vertex"
    assert Decimal(repr(r["cost"])) == 1000 * P(m, "input_cost_per_token") + 1000 * P(m, "output_cost_per_token") \
        == Decimal("0.014")
    # Served by Google AI Studio, the same model has no key in this table: unpriced, not $0.
    studio = tmp_path / "studio.ndjson"
    studio.write_bytes(recording(GEMINI_URL.format(model="gemini-3-pro-preview"),
                                 gemini_events("gemini-3-pro-preview", 1000, 1000)))
    (r,) = cost_of_file(studio)
    assert (r["provider"], r["cost"]) == ("google", None)
    assert r["cost_note"] == "unpriced: no price for gemini-3-pro-preview in the table"
    # gemini/ is tried first for Google: gemini-2.5-pro is priced from gemini/gemini-2.5-pro.
    assert TABLE.price_of("gemini-2.5-pro", "google").name == "gemini/gemini-2.5-pro"
    assert TABLE.price_of("gemini-2.5-pro", "vertex").name == "gemini-2.5-pro"


# --- The other rules ------------------------------------------------------------


def test_reasoning_priced_apart_where_the_table_says(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_bytes(orjson.dumps({"models": {"thinker": {"input": 1, "output": 4, "reasoning": 2}}}))
    table = PriceTable.load(str(prices))
    u = row("thinker", None, input_tokens=1000, output_tokens=300, reasoning_tokens=200)
    assert table.cost(u).amount == (1000 * 1 + 100 * 4 + 200 * 2) / Decimal(1_000_000)


def test_sseq_format_1h_writes_tiers_and_web_search(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_bytes(orjson.dumps({"currency": "USD", "models": {"c": {
        "input": 3, "cached_input": 0.3, "cache_write": 3.75, "cache_write_1h": 6, "output": 15, "web_search": 0.01,
        "batch": {"input": 1.5, "output": 7.5}}}}))
    table = PriceTable.load(str(prices))
    u = row("c", "anthropic", "anthropic", input_tokens=1_100, cached_input_tokens=100, cache_write_tokens=500,
            cache_write_1h_tokens=200, output_tokens=10, tool_calls={"web_search": 2})
    million = Decimal(1_000_000)
    assert table.cost(u).amount == (500 * 3 + 100 * Decimal("0.3") + 300 * Decimal("3.75") + 200 * 6 + 10 * 15) \
        / million + 2 * Decimal("0.01")
    batch = row("c", "anthropic", "anthropic", input_tokens=1000, output_tokens=10, service_tier="batch")
    assert table.cost(batch).amount == (1000 * Decimal("1.5") + 10 * Decimal("7.5")) / million


def test_cost_note_names_what_the_table_cannot_price():
    u = row("gpt-5-2025-08-07", "openai", "openai-responses", input_tokens=100, output_tokens=10,
            tool_calls={"code_interpreter": 2, "function": 3, "web_search": 1})
    m = "gpt-5-2025-08-07"
    cost = TABLE.cost(u)
    assert cost.amount == 100 * P(m, "input_cost_per_token") + 10 * P(m, "output_cost_per_token") \
        + P(m, "search_context_cost_per_query")
    assert cost.note == "leaves out code_interpreter calls: no fee in the table"


def test_a_tiny_cost_is_not_shown_as_zero_and_json_is_exact(tmp_path):
    path = tmp_path / "tiny.ndjson"
    path.write_bytes(recording("https://api.openai.com/v1/chat/completions",
                               chat_events("chatcmpl-t", "gpt-4o-mini", 1, 1)))
    (r,) = cost_of_file(path)
    m = "gpt-4o-mini"
    expected = P(m, "input_cost_per_token") + P(m, "output_cost_per_token")  # 7.5e-07
    assert Decimal(repr(r["cost"])) == expected
    table = run_sseq("usage", "--by", "model", "--format", "table", "--prices", LITELLM_EXCERPT, path)
    line = next(line for line in table.stdout.decode().splitlines() if line.startswith("gpt-4o-mini"))
    assert "$0.00000075" in line and "$0.0000 " not in line + " "
    # JSON carries the exact sum, not a rounding: 3 streams of 7.5e-07 are 2.25e-06.
    for n in (2, 3):
        (tmp_path / f"tiny{n}.ndjson").write_bytes(recording("https://api.openai.com/v1/chat/completions",
                                                             chat_events(f"chatcmpl-{n}", "gpt-4o-mini", 1, 1)))
    out = orjson.loads(run_sseq("usage", "--format", "json", "--prices", LITELLM_EXCERPT, tmp_path).stdout)
    assert out["totals"]["cost"] == float(3 * expected) == 2.25e-06


def test_currency_is_honoured_and_shown(tmp_path):
    prices = tmp_path / "eur.json"
    prices.write_bytes(orjson.dumps({"currency": "eur", "models": {"gpt-4o-mini": {"input": 0.14, "output": 0.55}}}))
    real = REAL / "openai-chat-text-usage.sse"
    out = orjson.loads(run_sseq("usage", "--format", "json", "--prices", prices, real).stdout)
    assert out["prices"]["currency"] == "EUR"
    assert out["rows"][0]["currency"] == "EUR"
    assert out["rows"][0]["cost"] == float((87 * Decimal("0.14") + 26 * Decimal("0.55")) / 1_000_000)
    table = run_sseq("usage", "--format", "table", "--prices", prices, real).stdout.decode()
    assert "$" not in table and "0.0000265 EUR" in table


@pytest.mark.parametrize("table", [
    {"models": {"m": {"input": 1e308, "output": 1}}},
    {"gpt-4o-mini": {"input_cost_per_token": 1e308, "output_cost_per_token": 1e-6}},
])
def test_a_price_that_would_overflow_is_refused(tmp_path, table):
    prices = tmp_path / "huge.json"
    prices.write_bytes(orjson.dumps(table))
    result = run_sseq("usage", "--format", "table", "--prices", prices, REAL / "openai-chat-text-usage.sse")
    assert result.returncode == 1
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.startswith(f"sseq usage: error: --prices {prices}: ") and "too large a price" in err
    assert "inf" not in err.lower().replace("finite", "")
    with pytest.raises(SseqError):
        PriceTable.load(str(prices))


def test_unknown_model_is_unpriced_and_dated_falls_back_to_undated(tmp_path):
    assert TABLE.cost(row("no-such-model", "openai", input_tokens=10, output_tokens=1)).amount is None
    # claude-sonnet-4-5-20260101 is not in the table; claude-sonnet-4-5 is.
    dated = row("claude-sonnet-4-5-20260101", "anthropic", "anthropic", input_tokens=10, output_tokens=1)
    m = "claude-sonnet-4-5"
    assert TABLE.cost(dated).amount == 10 * P(m, "input_cost_per_token") + P(m, "output_cost_per_token")
    # A stream without usage has no cost and is not counted as unpriced.
    assert TABLE.cost(row("gpt-5", "openai", input_tokens=None, output_tokens=None)).amount is None


def test_every_real_recording_costs_what_the_table_gives():
    """Each priced real stream: plain, cached, written and output tokens and
    web-search fees at the excerpt's prices (no tier applies to them)."""
    excerpt = json.loads(LITELLM_EXCERPT.read_text())
    rows = cost_of_file(REAL)
    priced = 0
    for r in rows:
        if r["input_tokens"] is None:
            assert r["cost"] is None
            continue
        price = TABLE.price_of(r["model"], r["provider"])
        if price is None:
            assert r["cost"] is None and r["cost_note"].startswith("unpriced")
            continue
        e = {k: Decimal(repr(v)) for k, v in excerpt[price.name].items() if type(v) in (int, float)}
        suffix = {"flex": "_flex", "priority": "_priority", "batch": "_batches"}.get(r["service_tier"], "")
        e = {**e, **{k[: -len(suffix)]: v for k, v in e.items() if suffix and k.endswith(suffix)}}
        if suffix:  # the reasoning price of the standard tier does not apply to another tier
            e.pop("output_cost_per_reasoning_token", None)
        cached, written = r["cached_input_tokens"], r["cache_write_tokens"]
        expected = (r["input_tokens"] - cached - written) * e["input_cost_per_token"] \
            + cached * e.get("cache_read_input_token_cost", e["input_cost_per_token"]) \
            + written * e.get("cache_creation_input_token_cost", e["input_cost_per_token"])
        reasoning = r["reasoning_tokens"] or 0
        expected += (r["output_tokens"] - reasoning) * e["output_cost_per_token"] \
            + reasoning * e.get("output_cost_per_reasoning_token", e["output_cost_per_token"])
        searches = r["tool_calls"].get("web_search", 0)
        if searches:
            per_query = excerpt[price.name].get("web_search_billing_unit", "per_query" if r["api"] != "gemini"
                                                else "per_prompt") == "per_query"
            expected += Decimal(repr(excerpt[price.name]["search_context_cost_per_query"]["search_context_size_medium"])) \
                * (searches if per_query else 1)
        assert Decimal(repr(r["cost"])) == expected, r["file"]
        priced += 1
    assert priced == 17


def test_the_real_vertex_flex_recording_is_priced_at_flex():
    (r,) = cost_of_file(REAL / "vertex-gemini-sse-flex.sse")
    m = "vertex_ai/gemini-3-flash-preview"
    assert (r["provider"], r["service_tier"], r["input_tokens"], r["output_tokens"]) == ("vertex", "flex", 5, 101)
    assert Decimal(repr(r["cost"])) == 5 * P(m, "input_cost_per_token_flex") + 101 * P(m, "output_cost_per_token_flex")
    assert r["cost_note"] is None


def test_a_real_anthropic_stream_with_one_hour_cache_writes(tmp_path):
    m = "claude-sonnet-4-5"
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 10_000, "cache_read_input_tokens": 0,
             "output_tokens": 1, "cache_creation": {"ephemeral_5m_input_tokens": 0,
                                                    "ephemeral_1h_input_tokens": 10_000}}
    path = tmp_path / "ttl.ndjson"
    path.write_bytes(recording("https://api.anthropic.com/v1/messages", anthropic_events(m, "msg_ttl", usage, 100)))
    (r,) = cost_of_file(path)
    assert (r["cache_write_tokens"], r["cache_write_1h_tokens"]) == (10_000, 10_000)
    assert Decimal(repr(r["cost"])) == 10 * P(m, "input_cost_per_token") \
        + 10_000 * P(m, "cache_creation_input_token_cost_above_1hr") + 100 * P(m, "output_cost_per_token") \
        == Decimal("0.06153")


def test_a_chat_stream_with_priority_service_tier(tmp_path):
    events = chat_events("chatcmpl-p", "gpt-5", 1000, 100)
    for _event, data in events:
        if type(data) is dict:
            data["service_tier"] = "priority"
    path = tmp_path / "priority.ndjson"
    path.write_bytes(recording("https://api.openai.com/v1/chat/completions", events))
    (r,) = cost_of_file(path)
    m = "gpt-5"
    assert r["service_tier"] == "priority"
    assert Decimal(repr(r["cost"])) == 1000 * P(m, "input_cost_per_token_priority") \
        + 100 * P(m, "output_cost_per_token_priority")
