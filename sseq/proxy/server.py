"""The proxy server's options and lifecycle: what ``sseq proxy`` runs, and
what a test suite uses as a context manager::

    with ProxyServer("https://api.openai.com", record="cassettes/") as proxy:
        client = openai.OpenAI(base_url=proxy.url + "/v1")

Every request is forwarded to the upstream URL (its path and query appended
to the URL's) and its answer streamed back live (:mod:`.relay`), recorded
into the folder when there is one (:mod:`.recording`), edited on the way by
the gateway options (:mod:`.gateway`), or answered from the cassette as the
record mode says (:mod:`.cassette_modes`).  Stopping ends every exchange in
progress: its recording is closed with the reason ``interrupted``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

from ..parser import DEFAULT_MAX_EVENT_SIZE
from .accounting import LedgerWriter, Proxied
from .gateway import GatewayEdits
from .handler import ProxyHTTPServer
from .recording import ExchangeRecording, RecordingFolder
from .upstream import Timeouts, Upstream, upstream_socket

__all__ = ["ProxyOptions", "ProxyServer", "Proxied", "RECORD_MODES"]

RECORD_MODES = ("none", "once", "new", "all")
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ProxyOptions:
    """How every request is handled.

    ``record``: the cassette folder (None: nothing is written).  ``mode``:
    the record mode, ``none`` (replay only), ``once`` (record when the
    folder holds no recording, else replay only), ``new`` (replay what
    matches, forward and record the rest), ``all`` (forward and record
    everything; the default).  ``labels``: written into each ``sseq.open``.
    ``jq_body``, ``include_usage``: the gateway's request edits.
    ``keepalive``: seconds of upstream silence after which the client gets
    a ``: ping`` comment.  ``ledger``: a usage ledger that gets each
    finished stream; ``estimate``: count output tokens from the text when a
    stream reports none.  ``ignore``: jq paths left out of matching.
    Timeouts in seconds.
    """

    record: str | None = None
    mode: str = "all"
    labels: dict[str, str] = field(default_factory=dict)
    jq_body: str | None = None
    include_usage: bool = False
    keepalive: float | None = None
    ledger: str | None = None
    estimate: bool = False
    ignore: tuple[str, ...] = ()
    connect_timeout: float = 30.0
    idle_timeout: float = 300.0
    max_time: float | None = None
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.mode not in RECORD_MODES:
            raise ValueError(f"mode must be one of {', '.join(RECORD_MODES)}")
        if self.mode != "all" and self.record is None:
            raise ValueError(f"mode {self.mode} replays from a cassette: give the folder (record=)")
        if self.keepalive is not None and self.keepalive <= 0:
            raise ValueError("keepalive must be positive")


class ProxyServer:
    """A recording, relaying HTTP proxy to one upstream, on 127.0.0.1 by
    default.  ``on_exchange`` is called (from a server thread) with each
    finished :class:`Proxied`; ``log`` keeps the last 10,000.  ``on_error``
    gets one-line messages (a recording that could not be written, a
    ledger error); ``failures`` counts them.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, *, options: ProxyOptions | None = None,
                 on_exchange=None, on_error=None, **option_values):
        self.options = replace(options or ProxyOptions(), **option_values)
        options = self.options
        self.host = host
        self.port = port
        self.on_exchange = on_exchange
        self.on_error = on_error
        self.log: deque[Proxied] = deque(maxlen=10_000)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._errors = 0
        self.upstream = Upstream(upstream, Timeouts(options.connect_timeout, options.idle_timeout, options.max_time))
        self.edits = GatewayEdits(options.jq_body, options.include_usage)
        self.folder = RecordingFolder(options.record, options.labels, self.report)
        self.estimator = None
        if options.estimate:
            from ..usage.estimate import Estimator

            self.estimator = Estimator()
        self.cassette = None
        if options.mode != "all":
            from .cassette_modes import CassetteModes  # serve's cassette, loaded only for these modes

            if options.record is None:
                raise ValueError(f"mode {options.mode} replays from a cassette: give it with record=DIR")
            self.cassette = CassetteModes(options.record, options.mode, options.ignore, self)
        self._ledger: LedgerWriter | None = None
        self._connections: set[socket.socket] = set()
        self._exchanges: dict[int, ExchangeRecording | None] = {}  # token -> its recording (None: not recorded)
        self._upstreams: dict[int, object] = {}
        self._next_token = 0
        self._httpd: ProxyHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def wants_usage(self) -> bool:
        """Whether each stream's usage is totalled (for the ledger or the log)."""
        return self.options.ledger is not None or not self.options.quiet

    @property
    def wants_records(self) -> bool:
        """Whether answers are parsed (for a recording, or for usage)."""
        return self.options.record is not None or self.wants_usage

    @property
    def failures(self) -> int:
        """Recordings that could not be written, and ledger errors."""
        return self._errors

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, without a trailing slash."""
        if self._httpd is None:
            raise RuntimeError("the proxy is not started")
        address, port = self._httpd.server_address[:2]
        host = str(address)  # (a TCP server's address is text)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def start(self) -> ProxyServer:
        """Bind and serve in a background thread; returns at once."""
        if self._httpd is not None:
            return self
        if self.options.ledger is not None and self._ledger is None:
            self._ledger = LedgerWriter(self.options.ledger, self.report)
        if self.cassette is not None:
            self.cassette.start(self.upstream.timeouts)
        self._httpd = ProxyHTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sseq-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0, grace: float = 2.0) -> None:
        """Stop accepting; give the exchanges in progress ``grace`` seconds
        to end by themselves (a client that read to the end leaves before
        the upstream's last bytes are in), then end them (their recordings
        closed as ``interrupted``) and wait up to ``timeout`` seconds."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self._lock:
                if not self._exchanges:
                    break
            time.sleep(0.01)
        self.stopping.set()
        with self._lock:
            upstreams = list(self._upstreams.values())
            exchanges = [(token, r) for token, r in self._exchanges.items() if r is not None]
        for token, recording in exchanges:
            if recording.interrupt_if_waiting():
                self._end(token)  # its thread may wait for the upstream a while yet: nothing is left to save
        for response in upstreams:
            sock = upstream_socket(response)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._exchanges:
                    break
            time.sleep(0.02)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        if self.cassette is not None:
            self.cassette.stop()
        self.upstream.close()
        self._httpd = None

    @property
    def active(self) -> int:
        """Exchanges in progress right now."""
        with self._lock:
            return len(self._exchanges)

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # called from connection threads

    def track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _begin(self, recording) -> int:
        with self._lock:
            self._next_token += 1
            token = self._next_token
            self._exchanges[token] = recording
        return token

    def _end(self, token: int) -> None:
        with self._lock:
            self._exchanges.pop(token, None)

    def _watch_upstream(self, response) -> int:
        with self._lock:
            self._next_token += 1
            token = self._next_token
            self._upstreams[token] = response
        if self.stopping.is_set():
            sock = upstream_socket(response)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return token

    def _unwatch_upstream(self, token: int) -> None:
        with self._lock:
            self._upstreams.pop(token, None)

    def _finished(self, entry: Proxied) -> None:
        if entry.usage is not None and self._ledger is not None:
            self._ledger.add(entry.usage)
        self.log.append(entry)
        if self.on_exchange is not None:
            self.on_exchange(entry)

    def _warn(self, text: str) -> None:
        """A message that is not a failure (an unreadable cassette file)."""
        if self.on_error is not None:
            self.on_error(text)
        else:  # a library caller without a callback: the logging module's to show
            logging.getLogger("sseq.proxy").warning("%s", text)

    def report(self, text: str) -> None:
        with self._lock:
            self._errors += 1
        if self.on_error is not None:
            self.on_error(text)
        else:  # a library caller without a callback: the logging module's to show
            logging.getLogger("sseq.proxy").warning("%s", text)
