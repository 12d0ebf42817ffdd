"""The threaded HTTP server under ``serve`` and ``proxy``: one daemon thread
per connection, every open connection tracked (so a stop can close them),
and a handler's failure reported instead of printed."""

from __future__ import annotations

import socket
import socketserver
import traceback
from collections.abc import Callable
from http.server import ThreadingHTTPServer


class TrackedHTTPServer(ThreadingHTTPServer):
    """``track(connection, opened)`` hears of each connection as it opens
    and closes; ``report(message)`` of each handler failure."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, address, handler, track: Callable[[socket.socket, bool], None],
                 report: Callable[[str], None]):
        self._track_connection = track
        self._report_failure = report
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up (getfqdn), which can
        # wait for DNS on a machine without a network; the name is unused.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port

    def process_request(self, request, client_address):
        self._track_connection(request, True)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self._track_connection(request, False)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # A handler bug must not go unnoticed, but one connection's failure
        # is not the server's: report it through the callback.
        self._report_failure(f"error while serving {client_address[0]}:{client_address[1]}:\n{traceback.format_exc()}")
