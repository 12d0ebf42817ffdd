"""What one connection is sent, without a server: sseq.serve.playback (sans IO,
fake clock), sseq.serve.rechunk, and the provider error events of sseq.providers."""

from __future__ import annotations

import pytest
from helpers import REAL

from sseq.library import parse_bytes, read_records
from sseq.providers import detect_family, maybe_error
from sseq.records import COMMENT, Record
from sseq.serve.playback import CUT, KEEPALIVE_COMMENT, Playback, Send, Sleep
from sseq.serve.rechunk import Rechunker
from sseq.serve.recording import Recording


def chat(n: int, t_step: float | None = None) -> Recording:
    records = [Record("message", {"choices": [{"delta": {"content": str(i)}}]},
                      t=None if t_step is None else i * t_step) for i in range(n)]
    return Recording.from_records("chat", records, ids=True)


def run(playback: Playback, clock: list[float] | None = None) -> list:
    """Every action, with a fake clock that moves only when told to sleep."""
    actions = []
    for action in playback:
        actions.append(action)
        if clock is not None and type(action) is Sleep:
            clock[0] += action.seconds
    return actions


def sent(actions) -> bytes:
    return b"".join(a.data for a in actions if type(a) is Send)


def test_a_new_client_gets_every_event_numbered():
    playback = Playback(chat(3))
    actions = run(playback)
    assert all(type(a) is Send for a in actions)
    received = parse_bytes(sent(actions))
    assert [(r.id, r.data["choices"][0]["delta"]["content"]) for r in received] == [("1", "0"), ("2", "1"), ("3", "2")]
    assert (playback.events, playback.outcome) == (3, "complete")


def test_a_resuming_client_gets_what_follows_its_last_event_id():
    recording = chat(5)
    playback = Playback(recording, recording.start_after("3"))
    received = parse_bytes(sent(run(playback)))
    assert [r.id for r in received] == ["4", "5"]
    assert (playback.events, playback.outcome) == (2, "complete")
    assert recording.start_after("unknown") == 0


def test_drop_after_cuts_after_n_events_unless_none_are_left():
    playback = Playback(chat(5), drop_after=2)
    actions = run(playback)
    assert actions[-1] is CUT
    assert [r.id for r in parse_bytes(sent(actions))] == ["1", "2"]
    assert (playback.events, playback.outcome) == (2, "dropped")
    whole = Playback(chat(2), drop_after=2)
    assert CUT not in run(whole)
    assert whole.outcome == "complete"


def test_error_after_ends_with_the_providers_error_event():
    recording = Recording.from_records("resp", read_records(str(REAL / "openai-responses-text.sse")))
    playback = Playback(recording, error_after=2)
    received = parse_bytes(sent(run(playback)))
    assert len(received) == 3
    error = received[-1]
    assert error.data["type"] == "error"
    assert error.data["sequence_number"] == received[-2].data["sequence_number"] + 1
    assert maybe_error(error) == "sseq serve: error injected after 2 events (--error-after)"
    assert (playback.events, playback.outcome) == (2, "error")


def test_pauses_follow_the_recorded_times_with_keepalives_in_them():
    clock = [100.0]
    records = [Record("message", {"n": i}, t=t) for i, t in enumerate((0.0, 1.0, 2.5))]
    playback = Playback(Recording.from_records("paced", records), speed=1, keepalive=1.0, clock=lambda: clock[0])
    actions = run(playback, clock)
    shape = [("sleep", a.seconds) if type(a) is Sleep else ("keep-alive" if a.data == KEEPALIVE_COMMENT else "event")
             for a in actions]
    assert shape == [("event"), ("sleep", 1.0), ("event"), ("sleep", 1.0), ("keep-alive"), ("sleep", 0.5), ("event")]
    assert clock[0] == 102.5


def test_speed_scales_the_pauses_and_zero_means_none():
    clock = [0.0]
    playback = Playback(chat(3, t_step=1.0), speed=4, clock=lambda: clock[0])
    assert [a.seconds for a in run(playback, clock) if type(a) is Sleep] == [0.25, 0.25]
    assert not [a for a in run(Playback(chat(3, t_step=1.0))) if type(a) is Sleep]


def test_an_event_counts_once_the_caller_comes_back_for_more():
    playback = Playback(chat(2))
    actions = iter(playback)
    next(actions)
    assert playback.events == 0  # the first event may not have reached the client
    next(actions)
    assert (playback.events, playback.outcome) == (1, None)


def test_comments_keep_their_place_and_carry_no_id():
    records = [Record(COMMENT, " hello"), Record("message", "a"), Record(COMMENT, " again"), Record("message", "b")]
    assert sent(run(Playback(Recording.from_records("c", records, ids=True)))) == \
        b": hello\n\nid: 1\ndata: a\n\n: again\n\nid: 2\ndata: b\n\n"
    # By default: the recording as it was, no id added.
    assert sent(run(Playback(Recording.from_records("c", records)))) == b": hello\n\ndata: a\n\n: again\n\ndata: b\n\n"


@pytest.mark.parametrize("mode", [None, "1", "random"])
def test_rechunking_keeps_every_byte_in_order(mode):
    data = b"id: 1\ndata: {\"a\": 1}\n\n"
    pieces = Rechunker(mode, seed=3).split(data)
    assert b"".join(pieces) == data
    assert all(pieces)
    assert len(pieces) == {None: 1, "1": len(data)}.get(mode, len(pieces))
    assert Rechunker(mode).split(b"") == []


def test_random_rechunking_is_repeatable_with_a_seed():
    data = bytes(range(200))
    assert Rechunker("random", seed=9).split(data) == Rechunker("random", seed=9).split(data)
    assert len(Rechunker("random", seed=9).split(data)) > 1


@pytest.mark.parametrize("name,provider", [
    ("anthropic-messages-text.sse", "anthropic"),
    ("openai-responses-text.sse", "openai-responses"),
    ("openai-chat-text-usage.sse", "openai-chat"),
    ("gemini-sse-text.sse", "gemini"),
    ("openrouter-responses-no-event-field.sse", "openai-responses"),
])
def test_each_providers_error_event_is_read_back_as_an_error(name, provider):
    records = read_records(str(REAL / name))
    family = detect_family(records)
    assert family.api == provider
    error = family.error_event("boom", records[-1])
    assert maybe_error(error) == "boom"
