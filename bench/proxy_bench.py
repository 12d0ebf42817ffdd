"""make bench, proxy section: what `sseq proxy` adds between a client and
its upstream.

- Latency: an upstream on 127.0.0.1 sends LAT_EVENTS events, one every
  LAT_INTERVAL; a client reads them directly, then through `sseq proxy`
  (plain, and recording with --record).  Each event's lateness is its
  arrival minus the moment the upstream wrote it; the proxy's added latency
  is the proxied lateness minus the direct one, percentile by percentile.
- Throughput: a large stream (BULK_MB of 1 KiB events) read as fast as the
  client can, directly and through the proxy (plain and recording).

Targets: <= 2 ms p50 and <= 10 ms p99 added per event; >= 50 % of direct
throughput.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LAT_EVENTS = 300
LAT_INTERVAL = 0.01
BULK_MB = 200
_BLOCK = b"".join(
    b'data: {"type":"response.output_text.delta","sequence_number":%d,"delta":"%s"}\n\n' % (i, b"x" * 940)
    for i in range(1024))


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sent: list[float] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if split.path == "/paced":
            self._paced(int(query["n"]), float(query["interval"]))
        else:
            self._bulk(int(query["mb"]))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _paced(self, n: int, interval: float) -> None:
        sent = self.server.sent_times  # type: ignore[attr-defined]
        start = time.perf_counter()
        for i in range(n):
            wait = start + i * interval - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent.append(time.perf_counter())
            self._write(b'data: {"type":"response.output_text.delta","sequence_number":%d,"delta":"hi"}\n\n' % i)
            self.wfile.flush()

    def _bulk(self, mb: int) -> None:
        for _ in range(mb):
            for at in range(0, len(_BLOCK), 65536):
                self._write(_BLOCK[at:at + 65536])
        self._write(b"data: [DONE]\n\n")


class Upstream:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
        self.httpd.daemon_threads = True
        self.httpd.sent_times = []
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _post(url: str, path: str) -> http.client.HTTPResponse:
    split = urlsplit(url)
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=120)
    conn.request("POST", path, body=b'{"model":"bench","stream":true}', headers={"Content-Type": "application/json"})
    return conn.getresponse()


def _lateness(url: str, upstream: Upstream) -> list[float]:
    upstream.httpd.sent_times.clear()
    response = _post(url, f"/paced?n={LAT_EVENTS}&interval={LAT_INTERVAL}")
    arrivals: list[float] = []
    buffer = b""
    while True:
        block = response.read1(65536)
        if not block:
            break
        now = time.perf_counter()
        buffer += block
        complete = buffer.count(b"\n\n")
        arrivals.extend([now] * complete)
        buffer = buffer[buffer.rfind(b"\n\n") + 2:] if complete else buffer
    sent = upstream.httpd.sent_times
    if len(arrivals) != LAT_EVENTS or len(sent) != LAT_EVENTS:
        raise RuntimeError(f"latency: {len(arrivals)} events arrived, {len(sent)} sent, of {LAT_EVENTS}")
    return [got - put for got, put in zip(arrivals, sent, strict=True)]


def _throughput(url: str) -> float:
    """MB/s of body read by the client."""
    started = time.perf_counter()
    response = _post(url, f"/bulk?mb={BULK_MB}")
    size = 0
    while True:
        block = response.read1(1 << 20)
        if not block:
            break
        size += len(block)
    return size / (1 << 20) / (time.perf_counter() - started)


class _Proxy:
    def __init__(self, sseq: str, upstream: str, *args: str) -> None:
        self.proc = subprocess.Popen([sseq, "proxy", upstream, "--port", "0", "-q", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            found = re.search(r"listening on (http://\S+?)/?$", line.strip())
            if found:
                self.url = found.group(1)
                threading.Thread(target=self.proc.stderr.read, daemon=True).start()
                return
        raise RuntimeError("sseq proxy printed no URL")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run(sseq: str, rounds: int, log) -> list[dict]:
    """The proxy rows of the bench report."""
    upstream = Upstream()
    rows: list[dict] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # (--ledger: the recording's usage is counted too, as without -q.)
            variants = {"sseq proxy": (), "sseq proxy --record": ("--record", str(Path(tmp) / "cas")),
                        "sseq proxy --record --ledger": ("--record", str(Path(tmp) / "cas2"),
                                                         "--ledger", str(Path(tmp) / "ledger.db"))}
            log(f"bench: proxy latency ({LAT_EVENTS} events, one every {LAT_INTERVAL * 1000:.0f} ms) and throughput "
                f"({BULK_MB} MB stream), {rounds} rounds")
            direct_lat: list[float] = []
            direct_tp: list[float] = []
            proxied_lat: dict[str, list[float]] = {name: [] for name in variants}
            proxied_tp: dict[str, list[float]] = {name: [] for name in variants}
            proxies = {name: _Proxy(sseq, upstream.url, *args) for name, args in variants.items()}
            try:
                for name in variants:  # warm-up
                    _lateness(proxies[name].url, upstream)
                for _ in range(rounds):
                    direct_lat += _lateness(upstream.url, upstream)
                    direct_tp.append(_throughput(upstream.url))
                    for name, proxy in proxies.items():
                        proxied_lat[name] += _lateness(proxy.url, upstream)
                        proxied_tp[name].append(_throughput(proxy.url))
            finally:
                for proxy in proxies.values():
                    proxy.close()
    finally:
        upstream.close()
    d50, d99 = _pct(direct_lat, 0.5), _pct(direct_lat, 0.99)
    dtp = statistics.median(direct_tp)
    rows.append({"section": "proxy", "command": "direct (no proxy)", "p50_ms": d50 * 1000, "p99_ms": d99 * 1000,
                 "added_p50_ms": None, "added_p99_ms": None, "mb_s": dtp, "share": None, "target": "", "ok": None})
    for name in variants:
        p50, p99 = _pct(proxied_lat[name], 0.5), _pct(proxied_lat[name], 0.99)
        tp = statistics.median(proxied_tp[name])
        added50, added99 = (p50 - d50) * 1000, (p99 - d99) * 1000
        rows.append({"section": "proxy", "command": name, "p50_ms": p50 * 1000, "p99_ms": p99 * 1000,
                     "added_p50_ms": added50, "added_p99_ms": added99, "mb_s": tp, "share": tp / dtp,
                     "target": "<= 2 ms p50, <= 10 ms p99 added; >= 50 % of direct MB/s",
                     "ok": added50 <= 2 and added99 <= 10 and tp / dtp >= 0.5,
                     "samples_ms": [x * 1000 for x in sorted(proxied_lat[name])]})
    return rows


def table(rows: list[dict]) -> list[str]:
    out = ["", "| proxy | lateness p50 ms | p99 ms | added p50 ms | added p99 ms | MB/s | of direct | target | met |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        added50 = "-" if r["added_p50_ms"] is None else f"{r['added_p50_ms']:.2f}"
        added99 = "-" if r["added_p99_ms"] is None else f"{r['added_p99_ms']:.2f}"
        share = "-" if r["share"] is None else f"{r['share'] * 100:.0f} %"
        met = "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
        out.append(f"| {r['command']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {added50} | {added99} | "
                   f"{r['mb_s']:.0f} | {share} | {r['target']} | {met} |")
    return out


if __name__ == "__main__":
    import sys

    found = run(str(Path(sys.executable).parent / "sseq"), int(sys.argv[1]) if len(sys.argv) > 1 else 3,
                lambda *a: print(*a, file=sys.stderr))
    print("\n".join(table(found)))
    print(json.dumps([{k: v for k, v in r.items() if k != "samples_ms"} for r in found], indent=1))
