"""sseq usage on the 30 real recordings: every total, read off the streams by
hand (see the comment on each row for where the numbers come from)."""

from __future__ import annotations

import orjson
import pytest
from helpers import REAL, REAL_FILES, cut_block_warning, invoke

from sseq.usage.streams import iter_file_usages

N = None
# file: (api, provider, model, usage_source, verdict,
#        input, cached, cache_write, output, reasoning, total, tool_calls)
EXPECTED = {
    # message_start usage input 100 / cache_read 55096 / output 7, message_delta input 181, output 8,
    # iterations [{input 100, cache_read 55096, output 83}, {input 181, output 8}] -> sums:
    # input 100+181+55096 = 55377, cached 55096, output 83+8 = 91.
    "anthropic-messages-cache-read-compaction": ("anthropic", "anthropic", "claude-sonnet-4-6", "reported", "complete",
                                                 55377, 55096, 0, 91, N, 55468, {}),
    # message_start output 88, message_delta input 92, output 189.
    "anthropic-messages-redacted-thinking": ("anthropic", "anthropic", "claude-sonnet-4-5-20250929", "reported", "complete",
                                             92, 0, 0, 189, N, 281, {}),
    "anthropic-messages-text": ("anthropic", "anthropic", "claude-sonnet-4-5-20250929", "reported", "complete",
                                17, 0, 0, 10, N, 27, {}),
    "anthropic-messages-thinking": ("anthropic", "anthropic", "claude-sonnet-4-20250514", "reported", "complete",
                                    43, 0, 0, 282, N, 325, {}),
    # two tool_use blocks; message_start already says output 62.
    "anthropic-messages-tool-use": ("anthropic", "anthropic", "claude-haiku-4-5-20251001", "reported", "complete",
                                    542, 0, 0, 62, N, 604, {"function": 2}),
    # message_start input 2068, final message_delta input 22397 (cumulative), output 637,
    # server_tool_use.web_search_requests 2.
    "anthropic-messages-web-search": ("anthropic", "anthropic", "claude-sonnet-4-20250514", "reported", "complete",
                                      22397, 0, 0, 637, N, 23034, {"web_search": 2}),
    # no include_usage: no usage anywhere; [DONE] seen.
    "azure-chat-content-filter-no-usage": ("openai-chat", "azure", "gpt-4o-mini-2024-07-18", "missing", "complete",
                                           N, N, N, N, N, N, {}),
    # the response.completed block has no blank line after it: never dispatched.
    "codex-responses-fixture": ("openai-responses", "openai", N, "missing", "truncated",
                                N, N, N, N, N, N, {}),
    # prompt 6, completion 212 (reasoning 198), prompt_cache_hit_tokens 0.
    "deepseek-chat-reasoning": ("openai-chat", "deepseek", "deepseek-reasoner", "reported", "complete",
                                6, 0, 0, 212, 198, 218, {}),
    # prompt 29, candidates 10, thoughts 202, total 241; one functionCall part.
    "gemini-sse-function-call": ("gemini", "google", "gemini-3-pro-preview", "reported", "complete",
                                 29, 0, 0, 212, 202, 241, {"function": 1}),
    # last usageMetadata: prompt 13 (was 15 earlier), candidates 8, total 21.
    # No thoughtsTokenCount: proto3 leaves a zero count out.
    "gemini-sse-text": ("gemini", "google", "gemini-2.0-flash-exp", "reported", "complete",
                        13, 0, 0, 8, 0, 21, {}),
    # last: prompt 34, candidates 469, thoughts 787, total 1290.
    "gemini-sse-thinking": ("gemini", "google", "gemini-2.5-pro", "reported", "complete",
                            34, 0, 0, 1256, 787, 1290, {}),
    # last: prompt 17 + toolUsePrompt 102, candidates 241 + thoughts 412, total 772; one search query.
    "gemini-sse-web-search": ("gemini", "google", "gemini-2.5-pro", "reported", "complete",
                              119, 0, 0, 653, 412, 772, {"web_search": 1}),
    # event: error mid-stream, no [DONE], no usage.
    "groq-chat-error-event": ("openai-chat", "groq", "openai/gpt-oss-120b", "missing", "error",
                              N, N, N, N, N, N, {}),
    # usage and x_groq.usage both: prompt 304, completion 49, reasoning 23.
    "groq-chat-tool-call": ("openai-chat", "groq", "openai/gpt-oss-120b", "reported", "complete",
                            304, 0, 0, 49, 23, 353, {"function": 1}),
    # only x_groq.usage: prompt 21, completion 988, total 1009.
    "groq-chat-x-groq-usage-only": ("openai-chat", "groq", "deepseek-r1-distill-llama-70b", "reported", "complete",
                                    21, 0, 0, 988, N, 1009, {}),
    "openai-chat-text-usage": ("openai-chat", "openai", "gpt-4o-mini-2024-07-18", "reported", "complete",
                               87, 0, 0, 26, 0, 113, {}),
    "openai-chat-tool-calls-usage": ("openai-chat", "openai", "gpt-4o-mini-2024-07-18", "reported", "complete",
                                     54, 0, 0, 20, 0, 74, {"function": 1}),
    # the usage chunk is followed by a moderation chunk.
    "openai-chat-usage-then-moderation": ("openai-chat", "openai", "gpt-5-2025-08-07", "reported", "complete",
                                          13, 0, 0, 11, 0, 24, {}),
    # error event, then response.failed with usage null.
    "openai-responses-failed-reconstructed": ("openai-responses", "openai", "gpt-5-nano-2025-08-07", "missing", "error",
                                              N, N, N, N, N, N, {}),
    "openai-responses-function-call": ("openai-responses", "openai", "gpt-5.5-2026-04-23", "reported", "complete",
                                       58, 0, 0, 23, 0, 81, {"function": 1}),
    # response.incomplete carries the usage and ends the stream.
    # response.incomplete, reason max_output_tokens.
    "openai-responses-incomplete": ("openai-responses", "openai", "gpt-4o-2024-08-06", "reported", "incomplete",
                                    14, 0, 0, 50, 0, 64, {}),
    "openai-responses-reasoning-summary": ("openai-responses", "openai", "o3-mini-2025-01-31", "reported", "complete",
                                           13, 0, 0, 1680, 1408, 1693, {}),
    "openai-responses-text": ("openai-responses", "openai", "gpt-5.5-2026-04-23", "reported", "complete",
                              11, 0, 0, 5, 0, 16, {}),
    # cached_tokens 8320, reasoning_tokens 512, one web_search_call item.
    "openai-responses-web-search-cached": ("openai-responses", "openai", "gpt-5-2025-08-07", "reported", "complete",
                                           9463, 8320, 0, 582, 512, 10045, {"web_search": 1}),
    # an error chunk (with usage) then [DONE]: the error wins.
    "openrouter-chat-error-chunk": ("openai-chat", "openrouter", "minimax/minimax-m2:free", "reported", "error",
                                    43, 0, 0, 10, 11, 53, {}),
    "openrouter-chat-reasoning-cached": ("openai-chat", "openrouter", "x-ai/grok-4", "reported", "complete",
                                         687, 679, 0, 187, 118, 874, {}),
    # no event: lines; type only in data.type.
    "openrouter-responses-no-event-field": ("openai-responses", "openrouter", "openai/gpt-oss-20b", "reported", "complete",
                                            78, 0, 0, 37, 22, 115, {}),
    # prompt 5, candidates 1, thoughts 100; createTime says Vertex.
    "vertex-gemini-sse-flex": ("gemini", "vertex", "gemini-3-flash-preview", "reported", "complete",
                               5, 0, 0, 101, 100, 106, {}),
    "vllm-chat-crusoe": ("openai-chat", "vllm", "meta-llama/Llama-3.3-70B-Instruct", "reported", "complete",
                         46, 0, 0, 14, N, 60, {}),
}

FIELDS = ("api", "provider", "model", "usage_source", "verdict", "input_tokens", "cached_input_tokens",
          "cache_write_tokens", "output_tokens", "reasoning_tokens", "total_tokens", "tool_calls")


def test_every_recording_has_expected_totals():
    assert sorted(EXPECTED) == [p.stem for p in REAL_FILES]
    assert len(EXPECTED) == 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recording_totals(name):
    usages = list(iter_file_usages(str(REAL / f"{name}.sse")))
    assert len(usages) == 1
    got = tuple(getattr(usages[0], f) for f in FIELDS)
    assert dict(zip(FIELDS, got, strict=True)) == dict(zip(FIELDS, EXPECTED[name], strict=True))


def test_cli_stream_rows_match_the_table():
    result = invoke("usage", "--by", "stream", "--format", "ndjson", REAL)
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode() == cut_block_warning("usage")
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 30
    for row in rows:
        name = row["file"].rsplit("/", 1)[-1].removesuffix(".sse")
        assert tuple(row[f] for f in FIELDS) == EXPECTED[name]


def test_by_provider_totals_of_the_real_recordings():
    result = invoke("usage", "--by", "provider", "--format", "json", REAL)
    assert result.returncode == 0, result.stderr
    report = orjson.loads(result.stdout)
    rows = {row["provider"]: row for row in report["rows"]}
    expected: dict[str, dict] = {}
    for values in EXPECTED.values():
        row = dict(zip(FIELDS, values, strict=True))
        sums = expected.setdefault(row["provider"], {"streams": 0, "input_tokens": None, "output_tokens": None,
                                                     "total_tokens": None, "missing": 0})
        sums["streams"] += 1
        sums["missing"] += row["usage_source"] == "missing"
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            if row[key] is not None:
                sums[key] = (sums[key] or 0) + row[key]
    assert set(rows) == set(expected)
    for provider, sums in expected.items():
        row = rows[provider]
        assert (row["streams"], row["input_tokens"], row["output_tokens"], row["total_tokens"],
                row["usage_source"]["missing"]) == (sums["streams"], sums["input_tokens"], sums["output_tokens"],
                                                    sums["total_tokens"], sums["missing"])
    # The grand totals, added up by hand from the table above.
    totals = report["totals"]
    assert (totals["streams"], totals["input_tokens"], totals["output_tokens"], totals["total_tokens"]) == (
        30, 89566, 7395, 96961)
    assert totals["usage_source"] == {"reported": 26, "estimated": 0, "missing": 4}
    assert totals["verdict"] == {"complete": 25, "error": 3, "truncated": 1, "incomplete": 1}


def test_demo_table():
    result = invoke("usage", "--format", "table", REAL / "openai-responses-reasoning-summary.sse")
    assert result.returncode == 0
    assert result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert lines[0].split() == ["model", "streams", "input", "cached", "output", "reasoning", "total"]
    assert lines[2].split() == ["o3-mini-2025-01-31", "1", "13", "0", "1,680", "1,408", "1,693"]
    assert len(lines) == 3
