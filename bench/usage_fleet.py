"""usage at archive scale: wall time of ``sseq usage`` at -j 1 and -j 2 on
2,000 recordings made from the real ones, and the ledger's insert rate on
SQLite and on PostgreSQL (a throwaway cluster, as the tests start it).

    .venv/bin/python bench/usage_fleet.py [--files 2000] [--rounds 3]

Times are medians of wall-clock seconds of the whole process; the load
average is printed beside them, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.postgres import Postgres  # noqa: E402
from helpers.usage_streams import make_archive  # noqa: E402

from sseq.usage import iter_usages  # noqa: E402
from sseq.usage.ledger import open_ledger  # noqa: E402


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def insert_rate(target: str, usages: list) -> float:
    ledger = open_ledger(target)
    try:
        start = time.perf_counter()
        added, _, _ = ledger.add(usages)
        elapsed = time.perf_counter() - start
    finally:
        ledger.close()
    assert added == len(usages), (added, len(usages))
    return len(usages) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        archive = Path(work) / "archive"
        make_archive(archive, args.files)
        sseq = [sys.executable, "-m", "sseq", "usage", "--format", "json", "-q"]
        for jobs in (1, 2):
            times = [wall(sseq + ["-j", str(jobs), str(archive)]) for _ in range(args.rounds)]
            print(f"usage -j {jobs} on {args.files} recordings: {statistics.median(times):.2f} s wall "
                  f"(runs: {', '.join(f'{t:.2f}' for t in times)}; load {os.getloadavg()[0]:.1f})")
        usages = list(iter_usages([str(archive)]))
        rates = [insert_rate(str(Path(work) / f"l{n}.sqlite"), usages) for n in range(args.rounds)]
        print(f"ledger insert, SQLite: {statistics.median(rates):,.0f} streams/s ({len(usages)} streams, one run)")
        server = Postgres()
        try:
            rates = [insert_rate(server.database(), usages) for _ in range(args.rounds)]
        finally:
            server.stop()
        print(f"ledger insert, PostgreSQL: {statistics.median(rates):,.0f} streams/s ({len(usages)} streams, one run)")


if __name__ == "__main__":
    main()
