"""make bench: sseq against the alternatives, on the same inputs, in one run.

Generates the workloads (bench/workloads.py) into bench/work/, runs each
group of commands alternating -- one warm-up round, then ROUNDS rounds in a
rotating order -- and prints medians and ratios as a Markdown table; every
sample goes to bench/results.json.  Times are wall-clock seconds of the whole
process (start-up included), with CPU seconds (user + system, from wait4)
beside them because the machine may be shared; peak memory is the child's
ru_maxrss.

    .venv/bin/python bench/run.py [--rounds 5] [--only parse,w4,...] [--quick]

Sections: parse (W1-W3 vs the floor and the alternatives), w4, filter (-t
and -x on W5 vs jq), readers (text and usage on W1 and W5 vs parse on W1),
tiny (a million tiny events), jobs (usage -j 2 vs -j 1 on a folder of
recordings), startup, latency, memory (10 MB vs 1 GB), proxy (added latency
per event and throughput against going direct; bench/proxy_bench.py).  The
run ends with every target of the benchmark, its ratio and whether it is
met.

--quick: small inputs (in bench/work/quick/) and one round, for
development; its ratios are indicative only (start-up weighs more).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
NODE_WORK = BENCH / "work"  # npm's eventsource-parser is installed here
WORK = NODE_WORK  # the inputs: bench/work, or bench/work/quick with --quick
sys.path.insert(0, str(BENCH))

import proxy_bench  # noqa: E402
import workloads  # noqa: E402

PY = sys.executable
SSEQ = str(Path(PY).parent / "sseq")
DRIVERS = BENCH / "drivers"
WORKLOAD_VERSION = "3"  # bump when a generator changes
FILTER_TYPES = ("response.output_text.delta", "response.completed")  # common, rare


class Scale:
    """Input sizes: the full benchmark, or --quick's small ones."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.factor = 0.05 if quick else 1.0  # W1-W4: 5 MB instead of 100 MB
        self.tiny = 100_000 if quick else 1_000_000  # W6 events
        self.recordings = 200 if quick else 2_000  # W7 files
        self.memory_small = 1_000_000 if quick else 10_000_000
        self.memory_big = 100_000_000 if quick else 1_000_000_000


SCALE = Scale(False)


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- running one command ----------------------------------------------------


class Failed(Exception):
    pass


def run_once(argv: list[str], stdin: str | Path | None = None, feed=None) -> dict:
    """Run argv with stdin from a file (or from the ``feed`` iterable of
    bytes, written by this process), stdout to /dev/null.  Returns wall and
    CPU seconds and the child's peak RSS in MB.  With ``feed``, the command
    runs under bench/peak.py, so that this process's own memory (the input
    blocks) cannot count in the child's peak."""
    peak_file = None
    if feed is not None:
        peak_file = tempfile.NamedTemporaryFile(prefix="sseq-bench-peak-", delete=False)
        peak_file.close()
        argv = [PY, str(BENCH / "peak.py"), peak_file.name, *argv]
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        source = open(stdin, "rb") if stdin is not None else None
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                stdin=source if source is not None else (subprocess.PIPE if feed is not None else subprocess.DEVNULL),
                stdout=devnull,
                stderr=err,
            )
            if feed is not None:
                try:
                    for block in feed:
                        proc.stdin.write(block)
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        finally:
            if source is not None:
                source.close()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise Failed(f"{' '.join(map(str, argv))}: exit {code}: {err.read().decode(errors='replace')[-500:]}")
    rss_kb = usage.ru_maxrss
    if peak_file is not None:
        rss_kb = int(Path(peak_file.name).read_text())
        os.unlink(peak_file.name)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": rss_kb / 1024}


def compare(variants: dict[str, tuple[list[str], Path | None]], rounds: int) -> dict[str, dict]:
    """Each variant once to warm up, then ``rounds`` rounds, the order
    rotating each round.  Returns per variant the samples and medians."""
    names = list(variants)
    samples: dict[str, list[dict]] = {name: [] for name in names}
    for name in names:
        run_once(*variants[name])
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            samples[name].append(run_once(*variants[name]))
    out = {}
    for name in names:
        runs = samples[name]
        out[name] = {
            "wall": statistics.median(s["wall"] for s in runs),
            "cpu": statistics.median(s["cpu"] for s in runs),
            "rss_mb": max(s["rss_mb"] for s in runs),
            "samples": runs,
        }
    return out


# -- workloads ----------------------------------------------------------------


def prepare(log_npm: list[str]) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    stamp = WORK / "workloads.json"
    info = json.loads(stamp.read_text()) if stamp.exists() else {}
    made = workloads.generators(SCALE.factor, SCALE.tiny)
    if (info.get("version") != WORKLOAD_VERSION or not all((WORK / n).exists() for n in made)
            or not (WORK / "w7").is_dir()):
        info = {"version": WORKLOAD_VERSION, "sizes": {}}
        for name, make in made.items():
            log(f"bench: generating {name}")
            info["sizes"][name] = workloads.write(WORK / name, make())
        log(f"bench: generating w7 ({SCALE.recordings} recordings)")
        info["sizes"]["w7"] = workloads.write_recordings(WORK / "w7", SCALE.recordings)
        stamp.write_text(json.dumps(info))
    # W5 is sseq's own output: regenerate it every run, so it is the records
    # this sseq writes.
    log("bench: writing w5.ndjson (sseq parse w1.sse)")
    with open(WORK / "w1.sse", "rb") as src, open(WORK / "w5.ndjson", "wb") as dst:
        subprocess.run([SSEQ, "parse"], stdin=src, stdout=dst, check=True)
    info["sizes"]["w5.ndjson"] = (WORK / "w5.ndjson").stat().st_size
    info["node"] = prepare_node(log_npm)
    return info


def prepare_node(notes: list[str]) -> str | None:
    """npm's eventsource-parser in bench/work (installed once); None when
    node or the package is not available."""
    node = shutil.which("node")
    if node is None:
        notes.append("node is not installed: the eventsource-parser column is skipped")
        return None
    if not (NODE_WORK / "node_modules" / "eventsource-parser").exists():
        npm = shutil.which("npm")
        if npm is None:
            notes.append("npm is not installed: the eventsource-parser column is skipped")
            return None
        log("bench: npm install eventsource-parser")
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(NODE_WORK),
                               "eventsource-parser@3"], capture_output=True, text=True)
        if done.returncode != 0:
            notes.append(f"npm install eventsource-parser failed ({done.stderr.strip()[-200:]}): column skipped")
            return None
    return node


def first_part(path: Path, size: int, boundary: bytes) -> bytes:
    """The first ``size`` bytes of a file, cut just after the last
    ``boundary`` (so that the block can be repeated as a valid input)."""
    with open(path, "rb") as fh:
        head = fh.read(size)
    cut = head.rfind(boundary)
    return head[: cut + len(boundary)]


# -- sections -----------------------------------------------------------------


def section_parse(rounds: int, info: dict) -> list[dict]:
    rows = []
    for w in ("w1", "w2", "w3"):
        path = WORK / f"{w}.sse"
        variants = {
            "sseq parse": ([SSEQ, "parse"], path),
            FLOOR: ([PY, str(DRIVERS / "floor_orjson.py")], path),
            "sseclient-py + orjson": ([PY, str(DRIVERS / "sseclient_orjson.py")], path),
            "httpx-sse + orjson": ([PY, str(DRIVERS / "httpx_sse_orjson.py")], path),
        }
        if info.get("node"):
            variants["node eventsource-parser"] = ([info["node"], str(DRIVERS / "eventsource_parser.mjs"), str(NODE_WORK)], path)
        log(f"bench: parse {w} ({len(variants)} commands x {rounds + 1})")
        res = compare(variants, rounds)
        base = res["sseq parse"]
        targets = {"sseclient-py + orjson": 2.5, "httpx-sse + orjson": 1.5, "node eventsource-parser": 1.0}
        for name, r in res.items():
            row = {"section": "parse", "workload": w.upper(), "command": name, **{k: r[k] for k in ("wall", "cpu", "rss_mb")},
                   "samples": r["samples"]}
            if name == FLOOR:
                # The one ratio the other way round: sseq's time over the floor's.
                row["ratio"] = base["wall"] / r["wall"]
                row["cpu_ratio"] = base["cpu"] / r["cpu"]
                row["target"] = "sseq parse <= 1.5x the floor's time"
                row["ok"] = row["ratio"] <= 1.5
            elif name != "sseq parse":
                row["ratio"] = r["wall"] / base["wall"]
                row["cpu_ratio"] = r["cpu"] / base["cpu"]
                need = targets[name]
                row["target"] = f"sseq >= {need}x faster" if need > 1 else "sseq faster"
                row["ok"] = row["ratio"] >= need if need > 1 else row["ratio"] > 1
            rows.append(row)
    return rows


FLOOR = "floor: orjson validating each payload, writing nothing"


def section_w4(rounds: int, info: dict) -> list[dict]:
    log(f"bench: parse w4 (2 commands x {rounds + 1})")
    mb = 50 * SCALE.factor
    big_name, many_name = f"sseq parse, 1 event of {mb:g} MB", f"sseq parse, 50 events of {mb / 50:g} MB"
    res = compare({
        big_name: ([SSEQ, "parse"], WORK / "w4-big.sse"),
        many_name: ([SSEQ, "parse"], WORK / "w4-many.sse"),
    }, rounds)
    big, many = res[big_name], res[many_name]
    rows = []
    for name, r in res.items():
        rows.append({"section": "w4", "workload": "W4", "command": name, **{k: r[k] for k in ("wall", "cpu", "rss_mb")},
                     "samples": r["samples"]})
    rows[0]["ratio"] = big["wall"] / many["wall"]
    rows[0]["cpu_ratio"] = big["cpu"] / many["cpu"]
    rows[0]["target"] = "<= 2x the 50 small events' time"
    rows[0]["ok"] = rows[0]["ratio"] <= 2
    return rows


def section_filter(rounds: int, info: dict) -> list[dict]:
    """-t (keep) and -x (drop) for a common type and a rare one, each
    beside the jq program that does the same."""
    rows = []
    path = WORK / "w5.ndjson"
    for option, op in (("-t", "=="), ("-x", "!=")):
        for kind in FILTER_TYPES:
            rows += _filter_pair(rounds, path, option, op, kind)
    return rows


def _filter_pair(rounds: int, path: Path, option: str, op: str, kind: str) -> list[dict]:
    log(f"bench: filter {option} {kind} on w5 (2 commands x {rounds + 1})")
    res = compare({
        f"sseq filter {option} {kind}": ([SSEQ, "filter", option, kind], path),
        f"jq -c 'select(.event{op}\"{kind}\")'": (["jq", "-c", f'select(.event{op}"{kind}")'], path),
    }, rounds)
    (sname, s), (jname, j) = res.items()
    return [
        {"section": "filter", "workload": "W5", "command": sname, **{k: s[k] for k in ("wall", "cpu", "rss_mb")},
         "samples": s["samples"]},
        {"section": "filter", "workload": "W5", "command": jname, **{k: j[k] for k in ("wall", "cpu", "rss_mb")},
         "samples": j["samples"], "ratio": j["wall"] / s["wall"], "cpu_ratio": j["cpu"] / s["cpu"],
         "target": "sseq >= 3x faster", "ok": j["wall"] / s["wall"] >= 3},
    ]


def has_command(name: str) -> bool:
    return (BENCH.parent / "sseq" / "commands" / f"{name}.py").exists()


def section_readers(rounds: int, info: dict) -> list[dict]:
    """text and usage on the same stream, raw (W1) and as records (W5),
    each against parse on W1: they need less than parse writes."""
    base_name = "sseq parse (W1)"
    variants = {base_name: ([SSEQ, "parse"], WORK / "w1.sse")}
    limits = {}
    readers = [("sseq text", [SSEQ, "text"], 1.0)]
    if has_command("usage"):
        readers.append(("sseq usage --format json", [SSEQ, "usage", "--format", "json"], 0.7))
    for name, argv, limit in readers:
        for w, file in (("W1", "w1.sse"), ("W5", "w5.ndjson")):
            variants[f"{name} ({w})"] = (argv, WORK / file)
            limits[f"{name} ({w})"] = limit
    log(f"bench: text/usage on w1 and w5 vs parse on w1 ({len(variants)} commands x {rounds + 1})")
    res = compare(variants, rounds)
    base = res[base_name]
    rows = []
    for name, r in res.items():
        row = {"section": "readers", "workload": "W5" if "W5" in name else "W1", "command": name,
               **{k: r[k] for k in ("wall", "cpu", "rss_mb")}, "samples": r["samples"]}
        if name != base_name:
            row["ratio"] = r["wall"] / base["wall"]
            row["cpu_ratio"] = r["cpu"] / base["cpu"]
            row["target"] = f"<= {limits[name]}x parse on W1"
            row["ok"] = row["ratio"] <= limits[name]
        rows.append(row)
    return rows


def section_tiny(rounds: int, info: dict) -> list[dict]:
    """W6, a million tiny events: the cost per event, against sseclient-py +
    orjson and node's eventsource-parser on the same stream."""
    path = WORK / "w6-tiny.sse"
    variants = {
        "sseq parse": ([SSEQ, "parse"], path),
        "sseclient-py + orjson": ([PY, str(DRIVERS / "sseclient_orjson.py")], path),
    }
    if info.get("node"):
        variants["node eventsource-parser"] = ([info["node"], str(DRIVERS / "eventsource_parser.mjs"), str(NODE_WORK)], path)
    log(f"bench: parse w6, {SCALE.tiny} tiny events ({len(variants)} commands x {rounds + 1})")
    res = compare(variants, rounds)
    base = res["sseq parse"]
    targets = {"sseclient-py + orjson": 2.5, "node eventsource-parser": 1.5}
    rows = []
    for name, r in res.items():
        per_event = f", {r['wall'] / SCALE.tiny * 1e6:.2f} us/event"
        row = {"section": "tiny", "workload": "W6", "command": name + per_event,
               **{k: r[k] for k in ("wall", "cpu", "rss_mb")}, "samples": r["samples"]}
        if name in targets:
            row["ratio"] = r["wall"] / base["wall"]
            row["cpu_ratio"] = r["cpu"] / base["cpu"]
            row["target"] = f"sseq >= {targets[name]}x faster"
            row["ok"] = row["ratio"] >= targets[name]
        rows.append(row)
    return rows


def usage_has_jobs() -> bool:
    """Whether this sseq's usage takes -j (parallel files)."""
    done = subprocess.run([SSEQ, "usage", "--help"], capture_output=True, text=True)
    return re.search(r"(^|[\s,])-j\b|--jobs\b", done.stdout) is not None


def section_jobs(rounds: int, info: dict) -> list[dict]:
    """usage -j 2 against -j 1 on W7, a folder of recordings."""
    target = "-j 2 >= 1.7x faster than -j 1"
    if not has_command("usage") or not usage_has_jobs():
        log("bench: usage -j: not available in this sseq (usage --help has no -j)")
        return [{"section": "jobs", "workload": "W7", "command": "sseq usage -j (not available: usage --help has no -j)",
                 "target": target, "skipped": True}]
    folder = WORK / "w7"
    variants = {f"sseq usage -j {j} --format json (W7, {SCALE.recordings} files)":
                ([SSEQ, "usage", "-j", str(j), "--format", "json", str(folder)], None) for j in (1, 2)}
    log(f"bench: usage -j 1 / -j 2 on w7 (2 commands x {rounds + 1})")
    res = compare(variants, rounds)
    (one_name, one), (two_name, two) = res.items()
    return [
        {"section": "jobs", "workload": "W7", "command": one_name, **{k: one[k] for k in ("wall", "cpu", "rss_mb")},
         "samples": one["samples"]},
        {"section": "jobs", "workload": "W7", "command": two_name, **{k: two[k] for k in ("wall", "cpu", "rss_mb")},
         # (No CPU ratio: the CPU of -j's worker processes need not reach wait4.)
         "samples": two["samples"], "ratio": one["wall"] / two["wall"], "cpu_ratio": None,
         "target": target, "ok": one["wall"] / two["wall"] >= 1.7},
    ]


def section_memory(rounds: int, info: dict) -> list[dict]:
    """Each command on a 10 MB input and on a 1 GB one (the 10 MB block
    written 100 times into its stdin, never stored); 1 MB and 100 MB with
    --quick."""
    sse = _whole_responses(WORK / "w1.sse", SCALE.memory_small)
    records = first_part(WORK / "w5.ndjson", SCALE.memory_small, b"\n")
    commands = [("sseq parse", [SSEQ, "parse"], sse),
                ("sseq filter -t response.output_text.delta", [SSEQ, "filter", "-t", "response.output_text.delta"], records),
                ("sseq text", [SSEQ, "text"], records),
                ("sseq replay", [SSEQ, "replay", "-"], records)]
    if has_command("usage"):
        commands.append(("sseq usage --format json", [SSEQ, "usage", "--format", "json"], records))
    rows = []
    for name, argv, block in commands:
        repeat = max(1, SCALE.memory_big // len(block))
        log(f"bench: memory {name} ({SCALE.memory_small // 1_000_000} MB, then {SCALE.memory_big // 1_000_000} MB)")
        small = run_once(argv, feed=[block])
        big = run_once(argv, feed=(block for _ in range(repeat)))
        ratio = big["rss_mb"] / small["rss_mb"]
        rows.append({"section": "memory", "workload": "W1" if block is sse else "W5", "command": name,
                     "rss_10mb": small["rss_mb"], "rss_1gb": big["rss_mb"], "wall_1gb": big["wall"],
                     "input_1gb": repeat * len(block), "ratio": ratio,
                     "target": "big input's peak <= 1.2x small input's, < 100 MB",
                     "ok": ratio <= 1.2 and big["rss_mb"] < 100})
    return rows


def _whole_responses(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of W1, cut after the last whole response."""
    with open(path, "rb") as fh:
        head = fh.read(size)
    at = head.rfind(b"event: response.completed\n")
    end = head.find(b"\n\n", at)
    if end < 0:
        at = head.rfind(b"event: response.completed\n", 0, at)
        end = head.find(b"\n\n", at)
    return head[: end + 2]


def section_startup(rounds: int, info: dict) -> list[dict]:
    n = max(20, rounds * 4)
    log(f"bench: start-up ({n} rounds)")
    variants = {"sseq parse </dev/null": ([SSEQ, "parse"], None),
                "python3 -c pass": ([PY, "-c", "pass"], None)}
    res = compare(variants, n)
    s, p = res["sseq parse </dev/null"], res["python3 -c pass"]
    return [
        {"section": "startup", "workload": "-", "command": "sseq parse </dev/null", **{k: s[k] for k in ("wall", "cpu", "rss_mb")},
         "ratio": s["wall"] / p["wall"], "cpu_ratio": s["cpu"] / p["cpu"], "target": "<= 6x python3 -c pass",
         "ok": s["wall"] / p["wall"] <= 6, "samples": s["samples"]},
        {"section": "startup", "workload": "-", "command": f"python3 -c pass ({PY})", **{k: p[k] for k in ("wall", "cpu", "rss_mb")},
         "samples": p["samples"]},
    ]


# -- latency ------------------------------------------------------------------

LAT_EVENTS = 300
LAT_INTERVAL = 0.01


def _delta(i: int) -> dict:
    return {"type": "response.output_text.delta", "sequence_number": i, "item_id": "msg_1", "output_index": 0,
            "content_index": 0, "delta": f"token {i}\n"}


def _sse_event(i: int) -> bytes:
    return b"event: response.output_text.delta\ndata: " + json.dumps(_delta(i), separators=(",", ":")).encode() + b"\n\n"


def _record(i: int, t: float | None = None) -> bytes:
    record = {"event": "response.output_text.delta"}
    if t is not None:
        record["t"] = round(t, 3)
    record["data"] = _delta(i)
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


class LineClock:
    """Reads a pipe in a thread and notes when each line arrived."""

    def __init__(self, fd: int, skip: int = 0):
        self.fd, self.skip, self.times = fd, skip, []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            block = os.read(self.fd, 1 << 16)
            if not block:
                return
            now = time.perf_counter()
            self.times.extend([now] * block.count(b"\n"))


def _paced_stage(argv: list[str], make) -> list[float]:
    """Write LAT_EVENTS inputs, one every LAT_INTERVAL, into argv; the
    latency of each is the time from its write to its output line."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    clock = LineClock(proc.stdout.fileno())
    time.sleep(1.0)  # let the command start up before the clock runs
    sent = []
    start = time.perf_counter()
    fd = proc.stdin.fileno()
    for i in range(LAT_EVENTS):
        wait = start + i * LAT_INTERVAL - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        sent.append(time.perf_counter())
        os.write(fd, make(i))
    proc.stdin.close()
    proc.wait()
    clock.thread.join()
    if len(clock.times) < LAT_EVENTS:
        raise Failed(f"{argv}: {len(clock.times)} lines out of {LAT_EVENTS}")
    return [got - put for got, put in zip(clock.times, sent, strict=False)]


class PacedServer:
    """A one-shot HTTP server on 127.0.0.1 that sends LAT_EVENTS SSE events,
    one every LAT_INTERVAL, and notes when it wrote each."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.sent: list[float] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Connection: close\r\n\r\n")
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start = time.perf_counter()
            for i in range(LAT_EVENTS):
                wait = start + i * LAT_INTERVAL - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                self.sent.append(time.perf_counter())
                conn.sendall(_sse_event(i))
        self.sock.close()


def _latency_fetch() -> list[float]:
    server = PacedServer()
    proc = subprocess.Popen([SSEQ, "fetch", f"http://127.0.0.1:{server.port}/"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    clock = LineClock(proc.stdout.fileno())
    proc.wait()
    clock.thread.join()
    server.thread.join()
    arrivals = clock.times[1:1 + LAT_EVENTS]  # after sseq.open
    if len(arrivals) < LAT_EVENTS:
        raise Failed(f"fetch: {len(arrivals)} events out of {LAT_EVENTS}")
    return [got - put for got, put in zip(arrivals, server.sent, strict=False)]


def _start_serve(tmp: Path) -> tuple[subprocess.Popen, int]:
    recording = tmp / "paced.ndjson"
    recording.write_bytes(b"".join(_record(i, i * LAT_INTERVAL) for i in range(LAT_EVENTS)))
    proc = subprocess.Popen([SSEQ, "serve", str(recording), "--port", "0", "--speed", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if found:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(found.group(1))
    raise Failed("serve printed no URL")


def _latency_serve(port: int) -> list[float]:
    """serve --speed 1: how late each event arrives against its recorded t."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    start = time.perf_counter()
    conn.request("GET", "/", headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    arrivals, buffer = [], b""
    while len(arrivals) < LAT_EVENTS:
        block = response.read1(1 << 16)
        if not block:
            break
        now = time.perf_counter()
        buffer += block
        arrivals.extend([now] * buffer.count(b"\n\n"))
        buffer = buffer[buffer.rfind(b"\n\n") + 2:] if b"\n\n" in buffer else buffer
    conn.close()
    return [got - (start + i * LAT_INTERVAL) for i, got in enumerate(arrivals)]


def _latency_pipeline(port: int) -> list[float]:
    """serve --speed 1 | fetch | filter | text, each event's lateness against
    its recorded t, taking the first event as the origin (so that the
    pipeline's start-up does not count)."""
    shell = (f"{SSEQ} fetch http://127.0.0.1:{port}/ | {SSEQ} filter -t response.output_text.delta"
             f" | {SSEQ} text")
    proc = subprocess.Popen(["/bin/sh", "-c", shell], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    clock = LineClock(proc.stdout.fileno())
    proc.wait()
    clock.thread.join()
    times = clock.times
    if len(times) < LAT_EVENTS:
        raise Failed(f"pipeline: {len(times)} lines out of {LAT_EVENTS}")
    return [(got - times[0]) - i * LAT_INTERVAL for i, got in enumerate(times)]


def section_latency(rounds: int, info: dict) -> list[dict]:
    log(f"bench: latency ({LAT_EVENTS} events, one every {LAT_INTERVAL * 1000:.0f} ms, per stage)")
    results = {
        "sseq parse": _paced_stage([SSEQ, "parse"], _sse_event),
        "sseq filter -t response.output_text.delta": _paced_stage(
            [SSEQ, "filter", "-t", "response.output_text.delta"], _record),
        "sseq text": _paced_stage([SSEQ, "text"], _record),
    }
    if has_command("fetch"):
        results["sseq fetch (paced server on 127.0.0.1)"] = _latency_fetch()
    if has_command("serve") and has_command("fetch"):
        with tempfile.TemporaryDirectory() as tmp:
            proc, port = _start_serve(Path(tmp))
            try:
                results["sseq serve --speed 1 (lateness vs recorded t)"] = _latency_serve(port)
                results["serve --speed 1 | fetch | filter | text (end to end, vs first event)"] = _latency_pipeline(port)
            finally:
                proc.terminate()
                proc.wait()
    rows = []
    for name, lat in results.items():
        lat = sorted(lat)
        median, p99 = statistics.median(lat) * 1000, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        end_to_end = "end to end" in name
        rows.append({"section": "latency", "workload": "paced", "command": name, "median_ms": median, "p99_ms": p99,
                     "target": "<= 5 ms median, <= 25 ms p99 per stage" + (" (x4 stages)" if end_to_end else ""),
                     "ok": (median <= 20 and p99 <= 100) if end_to_end else (median <= 5 and p99 <= 25),
                     "samples_ms": [x * 1000 for x in lat]})
    return rows


def section_proxy(rounds: int, info: dict) -> list[dict]:
    return proxy_bench.run(SSEQ, rounds, log) if has_command("proxy") else []


SECTIONS = {
    "parse": section_parse,
    "w4": section_w4,
    "filter": section_filter,
    "readers": section_readers,
    "tiny": section_tiny,
    "jobs": section_jobs,
    "startup": section_startup,
    "latency": section_latency,
    "memory": section_memory,
    "proxy": section_proxy,
}


# -- report -------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python3 = shutil.which("python3")
    version = subprocess.run(["python3", "--version"], capture_output=True, text=True).stdout.strip() if python3 else "-"
    # Which core the sseq under test runs on (its own interpreter, its own environment).
    core = subprocess.run([PY, "-c", "from sseq.speedups import core_name; print(core_name())"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    return {"cores": os.cpu_count(), "cpu": cpu, "python3": version, "sseq_python": platform.python_version(),
            "platform": platform.platform(), "load_before": os.getloadavg(), "core": core}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _fmt(x, unit="") -> str:
    return "-" if x is None else f"{x:.2f}{unit}"


def _size(n: int) -> str:
    return f"{n / 1e9:g} GB" if n >= 1e9 else f"{n / 1e6:g} MB"


def table(rows: list[dict]) -> str:
    out = []
    timed = [r for r in rows if "wall" in r]
    if timed:
        out.append("| workload | command | median s | CPU s | peak MB | ratio (wall) | ratio (CPU) | target | met |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
        for r in timed:
            out.append(f"| {r['workload']} | {_cell(r['command'])} | {r['wall']:.3f} | {r['cpu']:.3f} | {r['rss_mb']:.0f} | "
                       f"{_fmt(r.get('ratio'), 'x')} | {_fmt(r.get('cpu_ratio'), 'x')} | {r.get('target', '')} | "
                       f"{'' if 'ok' not in r else ('yes' if r['ok'] else '**no**')} |")
    memory = [r for r in rows if r["section"] == "memory"]
    if memory:
        small, big = _size(SCALE.memory_small), _size(SCALE.memory_big)
        out.append("")
        out.append(f"| memory | input | peak MB, {small} in | peak MB, {big} in | {big} / {small} | {big} time s | met |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | --- |")
        for r in memory:
            out.append(f"| {_cell(r['command'])} | {r['workload']} | {r['rss_10mb']:.1f} | {r['rss_1gb']:.1f} | {r['ratio']:.2f}x | "
                       f"{r['wall_1gb']:.1f} | {'yes' if r['ok'] else '**no**'} |")
    latency = [r for r in rows if r["section"] == "latency"]
    if latency:
        out.append("")
        out.append("| latency | median ms | p99 ms | target | met |")
        out.append("| --- | ---: | ---: | --- | --- |")
        for r in latency:
            out.append(f"| {_cell(r['command'])} | {r['median_ms']:.2f} | {r['p99_ms']:.2f} | {r['target']} | "
                       f"{'yes' if r['ok'] else '**no**'} |")
    proxied = [r for r in rows if r["section"] == "proxy"]
    if proxied:
        out.extend(proxy_bench.table(proxied))
    return "\n".join(out)


def _measured(r: dict) -> str:
    if r.get("skipped"):
        return "not available"
    if r["section"] == "latency":
        return f"{r['median_ms']:.2f} ms median, {r['p99_ms']:.2f} ms p99"
    if r["section"] == "proxy":
        return (f"+{r['added_p50_ms']:.2f} ms p50, +{r['added_p99_ms']:.2f} ms p99, "
                f"{r['share'] * 100:.0f} % of direct")
    cpu = f" (CPU {r['cpu_ratio']:.2f}x)" if r.get("cpu_ratio") is not None else ""
    return f"{r['ratio']:.2f}x{cpu}"


def targets_table(rows: list[dict]) -> str:
    """Every target measured in this run, one line each, and a count."""
    aimed = [r for r in rows if r.get("target") and (r.get("ok") is not None or r.get("skipped"))]
    out = ["| workload | command | target | measured | met |", "| --- | --- | --- | --- | --- |"]
    for r in aimed:
        met = "skipped" if r.get("skipped") else ("yes" if r["ok"] else "**no**")
        out.append(f"| {r.get('workload', '-')} | {_cell(r['command'])} | {r['target']} | {_measured(r)} | {met} |")
    met = sum(1 for r in aimed if r.get("ok"))
    missed = sum(1 for r in aimed if not r.get("skipped") and not r.get("ok"))
    skipped = sum(1 for r in aimed if r.get("skipped"))
    out.append("")
    out.append(f"Targets: {met} met, {missed} missed, {skipped} not available.")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after the warm-up (default 5)")
    parser.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--json", default=str(BENCH / "results.json"), help="where to write every sample")
    parser.add_argument("--quick", action="store_true",
                        help="small inputs (bench/work/quick) and 1 round unless --rounds says otherwise")
    args = parser.parse_args()
    if args.quick:
        global WORK, SCALE
        WORK, SCALE = NODE_WORK / "quick", Scale(True)
        if not any(a.startswith("--rounds") for a in sys.argv[1:]):
            args.rounds = 1
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    started = time.time()
    about = machine()  # (its load average is the one before the run)
    notes: list[str] = []
    if shutil.which("jq") is None and "filter" in chosen:
        notes.append("the jq binary is not installed (apt-get install jq): the filter comparison is skipped")
        chosen.remove("filter")
    info = prepare(notes)
    rows: list[dict] = []
    for name in chosen:
        rows.extend(SECTIONS[name](args.rounds, info))
    elapsed = time.time() - started
    report = table(rows)
    about["load_after"] = os.getloadavg()
    header = (f"Machine: {about['cores']} cores, {about['cpu']}, {about['python3']} "
              f"(sseq on Python {about['sseq_python']}, its {about['core']} core), {about['platform']}. "
              f"{args.rounds} rounds after a warm-up, alternating; medians. Bench took {elapsed:.0f} s. "
              f"Load average {about['load_before'][0]:.1f} before, {about['load_after'][0]:.1f} after."
              + (" QUICK run: small inputs, ratios indicative only." if args.quick else ""))
    print(header)
    for note in notes:
        print(f"Note: {note}")
    print()
    print(report)
    print()
    print(targets_table(rows))
    Path(args.json).write_text(json.dumps({"machine": about, "workloads": info, "notes": notes, "rounds": args.rounds,
                                           "seconds": elapsed, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
