"""sseq replay (in-process): records back to wire bytes, paced by t."""

from __future__ import annotations

import time

from helpers import invoke


def test_replay_then_parse_gives_the_same_records(real_recording):
    recorded = invoke("parse", "--all", real_recording).stdout
    wire = invoke("replay", input=recorded).stdout
    assert invoke("parse", "--all", input=wire).stdout == recorded


def test_replay_speed_follows_t(tmp_path):
    path = tmp_path / "paced.ndjson"
    path.write_bytes(b'{"event":"a","t":0.0,"data":"1"}\n{"event":"a","t":3.0,"data":"2"}\n')
    start = time.monotonic()
    fast = invoke("replay", "--speed", "0", path)
    fast_time = time.monotonic() - start
    start = time.monotonic()
    paced = invoke("replay", "--speed", "2", path)
    paced_time = time.monotonic() - start
    assert paced.stdout == fast.stdout == b"event: a\ndata: 1\n\nevent: a\ndata: 2\n\n"
    # 3 s of recording at twice the speed: 1.5 s more than as fast as possible
    # (with room for a slow start under load, and none for ignoring t).
    assert 1.2 < paced_time - fast_time < 4
