"""sseq text (in-process): the assistant's text for every provider family."""

from __future__ import annotations

import pytest
from helpers import CODEX_CUT, REAL, cut_block_warning, invoke

TEXT_CASES = {
    "openai-responses-text.sse": "pong\n",
    "anthropic-messages-text.sse": "- Captain\n- Scoop\n",
    "gemini-sse-text.sse": "The capital of France is Paris.\n",
    "openai-chat-tool-calls-usage.sse": "",
    "openrouter-responses-no-event-field.sse": "4\n",
    "deepseek-chat-reasoning.sse": "Hello there! 😊 How can I help you today?\n",
}


@pytest.mark.parametrize("name,expected", TEXT_CASES.items())
def test_text_per_provider(name, expected):
    result = invoke("text", REAL / name)
    assert result.status == 0 and result.stderr == b""
    assert result.stdout.decode() == expected


def test_text_reasoning_comes_first_and_is_set_apart():
    plain = invoke("text", REAL / "anthropic-messages-thinking.sse").stdout.decode()
    with_reasoning = invoke("text", "--reasoning", REAL / "anthropic-messages-thinking.sse").stdout.decode()
    assert with_reasoning.startswith("This is a straightforward question about pedestrian safety.")
    assert with_reasoning.endswith("\n\n" + plain)


def test_text_of_every_real_recording_is_clean(real_recording):
    result = invoke("text", "--reasoning", real_recording)
    assert result.status == 0
    if real_recording == CODEX_CUT:  # it ends inside a block, which is said
        assert result.stderr.decode() == cut_block_warning("text")
    else:
        assert result.stderr == b""
