"""fetch --label and the recording host, as usage reports them: a real
fetch recording carries what `usage --by label:KEY` and `--by host` read."""

from __future__ import annotations

import json
import socket

from helpers import run_sseq
from helpers.http_servers import event

CHUNKS = ['{"id":"c1","model":"gpt-4o","choices":[{"delta":{"content":"hi"}}]}',
          '{"id":"c1","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}',
          "[DONE]"]


def test_usage_totals_fetch_recordings_by_label_and_host(drip_server, tmp_path):
    @drip_server.route("/v1/chat/completions")
    def chat(x):
        x.start()
        for chunk in CHUNKS:
            x.send(event(chunk))

    teams = {"search": 2, "ads": 1}
    n = 0
    for team, runs in teams.items():
        for _ in range(runs):
            n += 1
            result = run_sseq("fetch", drip_server.url("/v1/chat/completions"), "--label", f"team={team}",
                              "--label", f"run={n}", "--json", "-d", '{"model":"gpt-4o","stream":true}',
                              "-o", tmp_path / f"run{n}.ndjson")
            assert result.returncode == 0, result.stderr
    report = run_sseq("usage", "--by", "label:team", "--by", "host", "--format", "json", tmp_path)
    assert report.returncode == 0, report.stderr
    rows = {row["label:team"]: row for row in json.loads(report.stdout)["rows"]}
    assert set(rows) == {"search", "ads"}
    for team, runs in teams.items():
        assert rows[team]["streams"] == runs
        assert rows[team]["input_tokens"] == 7 * runs and rows[team]["output_tokens"] == 3 * runs
        assert rows[team]["host"] == socket.gethostname()
