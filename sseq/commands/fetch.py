"""sseq fetch: one streamed HTTP request, recorded as NDJSON records."""

from __future__ import annotations

import click

from .. import console
from ..errors import ExitStatus, Interrupted, SseqError, UsageProblem
from ..options import FiniteFloat, max_event_size, quiet

_SECONDS = FiniteFloat(min=0, min_open=True)


@click.command("fetch")
@click.argument("url")
@click.option("-X", "--request", "method", metavar="METHOD", help="HTTP method (default: POST with -d, else GET).")
@click.option("-H", "--header", "headers", multiple=True, metavar="'NAME: VALUE'|@FILE",
              help="Send a header (repeatable); @FILE reads one header per line, so keys stay out of the process list. "
                   "'NAME:' removes a default header.")
@click.option("-d", "--data", metavar="TEXT|@FILE|@-", help="Request body: the text, a file's bytes, or standard input.")
@click.option("--json", "json_body", is_flag=True,
              help="The body is JSON: Content-Type application/json, and JSON is accepted as well as the stream.")
@click.option("--jq-body", metavar="EXPR", help="Edit the JSON body with a jq expression before sending (implies --json).")
@click.option("--connect-timeout", type=_SECONDS, default=30.0, show_default=True, metavar="SECONDS",
              help="Longest wait for the connection.")
@click.option("--idle-timeout", type=_SECONDS, default=300.0, show_default=True, metavar="SECONDS",
              help="Longest silence allowed between two reads; keep-alive comments count as traffic.")
@click.option("--max-time", type=_SECONDS, metavar="SECONDS", help="Longest time for the whole run, retries included.")
@click.option("--retry", "retries", type=click.IntRange(min=0), default=0, metavar="N",
              help="Retry a 429/5xx answer or a failed connection, and reconnect a dropped stream with Last-Event-ID, "
                   "up to N times without progress (a new event), and 10 x N times in all.")
@click.option("--last-event-id", metavar="ID", help="Resume a stream: send Last-Event-ID: ID.")
@click.option("--until-done", is_flag=True,
              help="Stop at the terminal marker ([DONE], response.completed, message_stop, a Gemini finish...).")
@click.option("--raw", "raw_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write the exact body bytes of the stream (after content decoding) to FILE.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="Write the records to FILE instead of standard output.")
@click.option("--raw-data", is_flag=True, help="Keep data as the raw string, even when it is JSON.")
@click.option("--all", "include_all", is_flag=True,
              help="Also write comment lines (sseq.comment) and retry-only blocks (sseq.retry).")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="Write a label into sseq.open (repeatable), for usage --by label:KEY.")
@max_event_size
@quiet
def command(url, method, headers, data, json_body, jq_body, connect_timeout, idle_timeout, max_time, retries,
            last_event_id, until_done, raw_path, output_path, raw_data, include_all, labels, max_event_size, quiet):
    """Make one streamed HTTP request to URL and write its events as records:
    sseq.open (status, headers and the request with secrets redacted, host,
    labels), each
    event with t (seconds since the request was sent), then sseq.close
    (why it ended).

    Exit status: 0 done, 1 a JSON answer instead of a stream, 2 usage, 3 an
    HTTP error status, 4 a network error or timeout, 130 interrupted.
    """
    from ..cassette.records import parse_labels
    from ..output import open_file_output, open_output
    from ..progress import FetchProgress
    from ..records import CLOSE, OPEN, format_record
    from ..fetch.request import check_url, edit_body, read_body, read_headers
    from ..fetch.transport import FetchRequest, FetchRun

    streams = console.current()
    try:
        check_url(url)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    label_map = parse_labels(labels)
    body = read_body(data, streams.stdin) if data is not None else None
    if jq_body is not None:
        body = edit_body(body, jq_body)
    request = FetchRequest(
        url=url,
        method=method,
        headers=tuple(read_headers(headers)),
        body=body,
        json=json_body or jq_body is not None,
        connect_timeout=connect_timeout,
        idle_timeout=idle_timeout,
        max_time=max_time,
        retries=retries,
        last_event_id=last_event_id,
        until_done=until_done,
        include_all=include_all,
        raw_data=raw_data,
        max_event_size=max_event_size,
        labels=tuple(label_map.items()),
    )
    progress = FetchProgress(not quiet and streams.stderr_isatty, streams.write_message, streams.command)
    out = open_output(output_path, streams.stdout)
    raw = open_file_output(raw_path) if raw_path else None
    pending: list[bytes] = []  # the records of the read in progress

    def send() -> None:
        lines = pending[:]
        pending.clear()  # before writing: a failed write is not tried again
        out.write_lines(lines)

    def write(record) -> None:
        pending.append(format_record(record))
        if record.event in (OPEN, CLOSE):
            send()

    def after_read(run) -> None:
        # The records one read completed leave together, before the next wait.
        send()
        progress.update(run)

    run = FetchRun(request, raw=raw, notify=None if quiet else progress.say, progress=after_read)
    try:
        outcome = run.deliver(write)
    except KeyboardInterrupt:
        send()
        raise Interrupted(f"interrupted after {run.events} event(s)") from None
    finally:
        progress.done()
        try:
            send()  # whatever a failed run completed still reaches the output
        finally:
            out.close()
            if raw is not None:
                raw.close()
    if outcome.status != ExitStatus.OK:
        raise SseqError(outcome.message or outcome.reason, outcome.status)
