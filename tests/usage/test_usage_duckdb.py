"""Per-stream NDJSON rows load into DuckDB as they are and add up to
sseq's own totals: the path for archives larger than one machine."""

from __future__ import annotations

import duckdb
import orjson
import pytest
from helpers import REAL, run_sseq
from helpers.usage_streams import LITELLM_EXCERPT, make_archive


def test_duckdb_totals_equal_sseqs(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 120)
    rows = tmp_path / "rows.ndjson"
    args = ("--prices", LITELLM_EXCERPT, "--timezone", "UTC", REAL, archive)
    result = run_sseq("usage", "--by", "stream", "--format", "ndjson", *args)
    assert result.returncode == 0, result.stderr
    rows.write_bytes(result.stdout)
    report = orjson.loads(run_sseq("usage", "--by", "model", "--format", "json", *args).stdout)

    db = duckdb.connect()
    count, inp, cached, out, total, cost = db.execute(
        "SELECT count(*), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), sum(total_tokens), "
        "sum(cost) FROM read_json_auto(?)", [str(rows)]).fetchone()
    totals = report["totals"]
    assert (count, inp, cached, out, total) == (totals["streams"], totals["input_tokens"],
                                                totals["cached_input_tokens"], totals["output_tokens"],
                                                totals["total_tokens"])
    assert cost == pytest.approx(totals["cost"], rel=1e-12)
    by_model = db.execute(
        "SELECT model, count(*), sum(total_tokens), sum(cost) FROM read_json_auto(?) GROUP BY model",
        [str(rows)]).fetchall()
    theirs = {model: (n, t, c) for model, n, t, c in by_model}
    for row in report["rows"]:
        n, t, c = theirs[row["model"]]
        assert (n, t) == (row["streams"], row["total_tokens"])
        assert (c is None and row["cost"] is None) or c == pytest.approx(row["cost"], rel=1e-12)
    (schemas,) = db.execute("SELECT list(DISTINCT schema) FROM read_json_auto(?)", [str(rows)]).fetchone()
    assert schemas == ["sseq.usage.stream/1"]
