"""fetch -> serve -> fetch: a recording made by fetch, replayed by the real
`sseq serve` process and fetched again, gives the same records, data bytes
included; and fetch --retry gets every event once through serve's
--drop-after."""

from __future__ import annotations

import json
import re
import subprocess
from contextlib import contextmanager

import pytest
from helpers import REAL, ROOT, SSEQ, run_sseq
from helpers.records import events_of, records

RECORDINGS = ["openai-responses-reasoning-summary.sse", "anthropic-messages-tool-use.sse", "gemini-sse-text.sse",
              "openai-chat-text-usage.sse"]


@contextmanager
def serving(*args):
    proc = subprocess.Popen(SSEQ + ["serve", "--port", "0", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=ROOT)
    try:
        url = None
        for _ in range(20):
            line = proc.stderr.readline().decode()
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "sseq serve did not print its URL"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()


def event_lines(stdout: bytes) -> list[tuple[str, str | None, bytes]]:
    """(event, id, exact data bytes) of each event line."""
    out = []
    for line in stdout.splitlines():
        record = json.loads(line)
        if record["event"].startswith("sseq."):
            continue
        out.append((record["event"], record.get("id"), line[line.index(b',"data":') + 8 : -1]))
    return out


@pytest.mark.parametrize("name", RECORDINGS)
def test_fetch_serve_fetch_round_trip(drip_server, tmp_path, name):
    wire = (REAL / name).read_bytes()

    @drip_server.route("/upstream")
    def upstream(x):
        x.start(gzip=True)
        x.drip(wire, size=97, pause=0)

    first = tmp_path / "first.ndjson"
    result = run_sseq("fetch", drip_server.url("/upstream"), "-o", first)
    assert result.returncode == 0, result.stderr
    with serving(first, "--no-ids") as url:
        again = run_sseq("fetch", url)
    assert again.returncode == 0, again.stderr
    original = event_lines(first.read_bytes())
    assert len(original) >= 3
    assert event_lines(again.stdout) == original
    parsed = run_sseq("parse", REAL / name)
    assert event_lines(parsed.stdout) == original  # and both equal a plain parse of the upstream bytes


def test_fetch_resumes_through_serves_drop_after(tmp_path):
    recording = REAL / "openai-chat-text-usage.sse"  # 28 events: three drops
    with serving(recording, "--ids", "--drop-after", "10") as url:
        result = run_sseq("fetch", url, "--retry", "1", "--until-done")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    expected = run_sseq("parse", recording).stdout
    assert [(r["event"], r["data"]) for r in events_of(recs)] == [(r["event"], r["data"]) for r in records(expected)]
    ids = [r["id"] for r in events_of(recs)]
    assert ids == [str(n) for n in range(1, len(ids) + 1)]  # serve numbers them; none lost, none repeated
    assert [r["event"] for r in recs].count("sseq.open") > 1
