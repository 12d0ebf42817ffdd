"""sseq serve: replay recordings to HTTP clients (see sseq.serve)."""

from __future__ import annotations

import click

from .. import console
from ..errors import ExitStatus, SseqError
from ..options import FiniteFloat, max_event_size, quiet
from ..serve.routes import build_routes, parse_route
from ..serve.server import ReplayOptions, ReplayServer, is_loopback


@click.command("serve")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--route", "routes", multiple=True, metavar="PATH=FILE",
              help="Serve FILE at exactly PATH (repeatable), e.g. /v1/responses=resp.ndjson.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address is reachable from other machines.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free one (the URL is printed on stderr).")
@click.option("--speed", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Follow the recorded t at this speed (1 = real time); 0 = as fast as possible.")
@click.option("--keepalive", type=FiniteFloat(min=0, min_open=True), metavar="SECONDS",
              help="Send a ': keep-alive' comment after this many seconds without an event.")
@click.option("--no-ids", is_flag=True,
              help="Do not number the events 1, 2, ... when the recording has no ids (clients cannot resume).")
@click.option("--rechunk", type=click.Choice(["1", "random"]),
              help="Send the bytes one at a time (1), or each event split at random places (random).")
@click.option("--seed", type=int, help="Seed for --rechunk random, so that every connection gets the same splits.")
@click.option("--drop-after", type=click.IntRange(min=1), metavar="N",
              help="Cut each connection after N events (a client resuming with Last-Event-ID gets the next N).")
@click.option("--error-after", type=click.IntRange(min=0), metavar="N",
              help="After N events, send the provider's in-band error event and end the stream.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Origin allowed to read the streams (repeatable; default '*', any origin).")
@max_event_size
@quiet
def command(files, routes, host, port, speed, keepalive, no_ids, rechunk, seed, drop_after, error_after,
            cors_origins, max_event_size, quiet):
    """Replay the recordings in FILES to every HTTP client that connects.

    With one FILE and no --route, every path serves it.  With several FILEs,
    each is served under /NAME, its file name without .ndjson, .sse or .gz
    (chat.ndjson at /chat and every path below it); --route PATH=FILE serves
    a recording at exactly PATH.  Any other path is 404.  Any method is
    answered (GET for EventSource, POST for SDKs); OPTIONS is a CORS
    preflight.  Stops on SIGINT or SIGTERM, exit status 130.
    """
    streams = console.current()
    table = build_routes(list(files), [parse_route(r) for r in routes], not no_ids, max_event_size, streams.stdin)
    options = ReplayOptions(
        speed=speed, keepalive=keepalive, ids=not no_ids, rechunk=rechunk, seed=seed, drop_after=drop_after,
        error_after=error_after, cors_origins=tuple(cors_origins) or ("*",),
    )
    # From connection threads too; a reader of stderr that went away
    # (`2>&1 | grep -m1 listening`) does not stop the server.
    say = streams.warn
    server = ReplayServer(table, host, port, options=options, on_served=None if quiet else (lambda s: say(s.describe())),
                          on_error=say)
    try:
        server.start()
    except OSError as exc:
        raise SseqError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", ExitStatus.NETWORK_ERROR) from None
    if not quiet:
        for path, recording in table.describe():
            say(f"{path} -> {recording.name} ({recording.events} events, ids {recording.id_mode}, {recording.provider})")
        if not is_loopback(host):
            say(f"warning: listening on {host}: reachable from other machines")
    say(f"listening on {server.url}/")
    try:
        while not server.stopping.wait(3600):
            pass
    except KeyboardInterrupt:
        server.stop()
        if not quiet:
            say(f"stopped after {len(server.log)} requests")
        return ExitStatus.INTERRUPTED
