"""--since and --until (in-process): a date in any ISO 8601 form is the
whole day; an empty value is an error, not no bound."""

from __future__ import annotations

import orjson
import pytest
from helpers import REAL, invoke

CHAT = REAL / "openai-chat-text-usage.sse"


@pytest.fixture
def started_dec_1(tmp_path):
    path = tmp_path / "run.ndjson"
    path.write_bytes(b'{"event":"sseq.open","data":{"url":"https://api.openai.com/v1/chat/completions",'
                     b'"started":"2026-12-01T22:30:00Z"}}\n' + invoke("parse", CHAT).stdout)
    return path


def streams(*args) -> int:
    result = invoke("usage", "--format", "json", "--timezone", "UTC", *args)
    assert result.status == 0, result.stderr
    return orjson.loads(result.stdout)["totals"]["streams"]


@pytest.mark.parametrize("day", ["2026-12-01", "20261201", "2026-W49-2", "2026W492"])
def test_until_a_day_in_any_iso_form_includes_that_day(started_dec_1, day):
    assert streams("--until", day, started_dec_1) == 1
    assert streams("--since", day, started_dec_1) == 1


@pytest.mark.parametrize("day", ["2026-11-30", "20261130"])
def test_until_the_day_before_excludes_it(started_dec_1, day):
    assert streams("--until", day, started_dec_1) == 0


def test_since_the_day_after_excludes_it(started_dec_1):
    assert streams("--since", "20261202", started_dec_1) == 0


def test_a_time_is_still_a_moment(started_dec_1):
    assert streams("--until", "2026-12-01T22:00:00Z", started_dec_1) == 0
    assert streams("--until", "20261201T23:00:00Z", started_dec_1) == 1


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_bound_is_a_usage_error(started_dec_1, option, value):
    result = invoke("usage", option, value, started_dec_1)
    assert result.status == 2
    assert result.stderr.decode() == (f"sseq usage: error: {option}: {value!r} is not a date (2026-11-01) "
                                      "or a time (2026-11-01T09:00:00Z)\n")
    assert result.stdout == b""
