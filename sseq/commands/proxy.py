"""sseq proxy: forward to an upstream, relay live, record (see sseq.proxy)."""

from __future__ import annotations

import os

import click

from .. import console
from ..errors import BadInput, ExitStatus, SseqError, UsageProblem
from ..options import FiniteFloat, max_event_size, quiet

_SECONDS = FiniteFloat(min=0, min_open=True)


@click.command("proxy")
@click.argument("url")
@click.option("--record", "record", metavar="DIR",
              help="Write each exchange into DIR as a cassette recording (secrets redacted in the file only).")
@click.option("--mode", type=click.Choice(["none", "once", "new", "all"]), default="all", show_default=True,
              help="Record mode: none (replay DIR only), once (record when DIR holds no recording, else replay), "
                   "new (replay what matches, forward and record the rest), all (forward and record everything).")
@click.option("--ignore", "ignore", multiple=True, metavar="JQPATH",
              help="A request body field left out when matching against the cassette (repeatable), e.g. .user.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="Write a label into each recording's sseq.open (repeatable), for usage --by label:KEY.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address is reachable from other machines.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free one (the URL is printed on stderr).")
@click.option("--jq-body", metavar="EXPR",
              help="Edit each JSON request body with a jq expression before forwarding "
                   "(overrides, del(.field), model mapping).")
@click.option("--include-usage", is_flag=True,
              help="Ask Chat Completions upstreams for the final usage chunk when a streaming client did not; "
                   "the client does not get that chunk, the recording keeps it.")
@click.option("--keepalive", type=_SECONDS, metavar="SECONDS",
              help="Send the client a ': ping' comment after this many seconds of upstream silence "
                   "(between events only; never recorded).")
@click.option("--ledger", metavar="FILE", type=click.Path(dir_okay=False),
              help="Add each finished stream's usage to this SQLite usage ledger as it completes.")
@click.option("--estimate", is_flag=True, help="Estimate output tokens from the text of streams that report no usage.")
@click.option("--connect-timeout", type=_SECONDS, default=30.0, show_default=True, metavar="SECONDS",
              help="Longest wait for a connection to the upstream (then 504).")
@click.option("--idle-timeout", type=_SECONDS, default=300.0, show_default=True, metavar="SECONDS",
              help="Longest upstream silence allowed, before its answer and between two reads.")
@click.option("--max-time", type=_SECONDS, metavar="SECONDS", help="Longest time for one exchange.")
@click.option("--max-body", type=click.IntRange(min=1), default=32 * 1024 * 1024, show_default=True, metavar="BYTES",
              help="Largest request body accepted; a larger one is answered 413.")
@max_event_size
@quiet
def command(url, record, mode, ignore, labels, host, port, jq_body, include_usage, keepalive, ledger, estimate,
            connect_timeout, idle_timeout, max_time, max_body, max_event_size, quiet):
    """Forward every request to URL (its path and query appended to URL's)
    and stream each answer back live, chunk by chunk, as the upstream sends
    it.  A log line per request goes to stderr: method, path, status, model,
    tokens, time to first byte, duration, recording file.

    Stops on SIGINT or SIGTERM: exchanges in progress are recorded as
    interrupted, exit status 130 (1 when a recording could not be written).
    """
    from ..cassette.records import parse_labels
    from ..proxy.server import ProxyOptions, ProxyServer
    from ..serve.server import is_loopback

    if record is not None and ("\x00" in record or os.path.isfile(record)):
        # (click.Path would stat it, and a NUL byte makes os.stat raise ValueError)
        raise UsageProblem(f"--record {record!r}: not a folder")
    if mode != "all" and record is None:
        raise UsageProblem(f"--mode {mode} replays from a cassette: give it with --record DIR")
    # From connection threads too; a reader of stderr that went away does
    # not stop the proxy.
    say = console.current().warn

    options = ProxyOptions(
        record=record, mode=mode, labels=parse_labels(labels), jq_body=jq_body, include_usage=include_usage,
        keepalive=keepalive, ledger=ledger, estimate=estimate, ignore=tuple(ignore), connect_timeout=connect_timeout,
        idle_timeout=idle_timeout, max_time=max_time, max_body_bytes=max_body, max_event_size=max_event_size,
        quiet=quiet,
    )
    try:
        server = ProxyServer(url, host, port, options=options,
                             on_exchange=None if quiet else (lambda entry: say(entry.describe())), on_error=say)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    except OSError as exc:  # the folder, or the ledger, cannot be made
        raise BadInput(exc.filename or record or "", None, exc.strerror or str(exc)) from None
    try:
        server.start()
    except OSError as exc:
        raise SseqError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", ExitStatus.NETWORK_ERROR) from None
    if not quiet:
        if not is_loopback(host):
            say(f"warning: listening on {host}: reachable from other machines")
        where = f", recording into {record} (mode {mode})" if record else ""
        say(f"forwarding to {server.upstream.base_url}{where}")
    say(f"listening on {server.url}/")
    try:
        while not server.stopping.wait(3600):
            pass
    except KeyboardInterrupt:
        server.stop(grace=0)
        if not quiet:
            say(f"stopped after {len(server.log)} requests")
    if server.failures:
        say(f"{server.failures} error(s) while recording; see above")
        return ExitStatus.BAD_INPUT
    return ExitStatus.INTERRUPTED
