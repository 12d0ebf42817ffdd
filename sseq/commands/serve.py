"""sseq serve: replay recordings to HTTP clients (see sseq.serve)."""

from __future__ import annotations

import os

import click

from .. import console
from ..cassette.matching import MATCH_MODES, Matcher
from ..errors import ExitStatus, SseqError, UsageProblem
from ..options import FiniteFloat, max_event_size, quiet
from ..serve.cassette import Cassette, load_cassette
from ..serve.routes import Routes, build_routes, parse_route
from ..serve.server import ReplayOptions, ReplayServer, is_loopback


@click.command("serve")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--route", "routes", multiple=True, metavar="PATH=FILE",
              help="Serve FILE at exactly PATH (repeatable), e.g. /v1/responses=resp.ndjson.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address is reachable from other machines.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free one (the URL is printed on stderr).")
@click.option("--ignore", "ignores", multiple=True, metavar="JQPATH",
              help="Leave this field out when matching request bodies (repeatable), e.g. .user or .metadata.")
@click.option("--match", "match", type=click.Choice(MATCH_MODES), default="request", show_default=True,
              help="Match a cassette's recordings by the whole request, or by path only (the old behaviour).")
@click.option("--allow-playback-repeats", is_flag=True,
              help="When every recording of a request was played, start again from the first (else: a miss).")
@click.option("--speed", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Follow the recorded t at this speed (1 = real time); 0 = as fast as possible.")
@click.option("--ids", is_flag=True,
              help="Number the events 1, 2, ... when the recording has no ids, so clients can resume "
                   "(changes the bytes).")
@click.option("--no-ids", is_flag=True,
              help="Accepted for old scripts and ignored: events go out with their own ids or none by default.")
@click.option("--keepalive", type=FiniteFloat(min=0, min_open=True), metavar="SECONDS",
              help="Send a ': keep-alive' comment in recorded pauses longer than SECONDS (changes the bytes).")
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
def command(files, routes, host, port, ignores, match, allow_playback_repeats, speed, ids, no_ids, keepalive, rechunk,
            seed, drop_after, error_after, cors_origins, max_event_size, quiet):
    """Replay the recordings in FILES to every HTTP client that connects.

    A FOLDER is a cassette: each request is answered by the recording of
    the same request (method, path, query and body, JSON compared as
    values; --ignore for volatile fields), identical requests in recorded
    order; a request that matches nothing gets a 404 naming the nearest
    recording and the difference, and serve then exits 1 when stopped.
    With one FILE and no --route, every path serves it.  With several
    FILEs, each is served under /NAME, its file name without .ndjson, .sse
    or .gz; --route PATH=FILE serves a recording at exactly PATH.  Any
    method is answered (GET for EventSource, POST for SDKs); OPTIONS is a
    CORS preflight.  Replay is faithful: the recorded status, headers and
    events, nothing added unless --ids or --keepalive.  Stops on SIGINT or
    SIGTERM, exit status 130.
    """
    del no_ids  # the default now; kept so that old command lines still run
    streams = console.current()
    # From connection threads too; a reader of stderr that went away
    # (`2>&1 | grep -m1 listening`) does not stop the server.
    say = streams.warn

    matcher = Matcher(ignores, match)
    if any(os.path.isdir(f) for f in files):
        if routes:
            raise UsageProblem("--route serves single files; with a cassette folder, its recordings answer by request")
        table: Cassette | Routes = load_cassette(list(files), ids=ids, matcher=matcher, repeats=allow_playback_repeats,
                              max_event_size=max_event_size, warn=say)
    else:
        table = build_routes(list(files), [parse_route(r) for r in routes], ids, max_event_size, streams.stdin)
    options = ReplayOptions(
        speed=speed, keepalive=keepalive, ids=ids, rechunk=rechunk, seed=seed, drop_after=drop_after,
        error_after=error_after, cors_origins=tuple(cors_origins) or ("*",),
    )
    server = ReplayServer(table, host, port, options=options, on_served=None if quiet else (lambda s: say(s.describe())),
                          on_error=say)
    try:
        server.start()
    except OSError as exc:
        raise SseqError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", ExitStatus.NETWORK_ERROR) from None
    if not quiet:
        for label, recording in server.describe():
            answer = f"status {recording.status}" + (", a whole body" if recording.body is not None
                                                     else f", {recording.events} events")
            say(f"{label} -> {recording.name} ({answer}, ids {recording.id_mode}, {recording.family.api})")
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
        if server.misses:
            say(f"{len(server.misses)} request(s) matched no recording; the first: "
                f"{server.misses[0].method} {server.misses[0].path}")
            return ExitStatus.BAD_INPUT
        return ExitStatus.INTERRUPTED
