"""sseq usage: token totals per stream, file, model, provider, host, label or period."""

from __future__ import annotations

import click

from .. import console
from ..errors import ExitStatus
from ..inputs import BadLines
from ..options import max_event_size, quiet, report_skipped, skip_bad
from ..output import Output
from ..usage.report import FORMATS, GROUP_KEYS, Clock, Window, build_report, check_group_key, write_report
from ..usage.streams import iter_input_paths


def _group_keys(_ctx, _param, values):
    return tuple(check_group_key(value) for value in values)


@click.command("usage")
@click.argument("inputs", nargs=-1, metavar="[FILE|DIR]...", type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--by", "by", multiple=True, metavar="KEY", callback=_group_keys,
              help=f"Group rows by {', '.join(GROUP_KEYS)} or label:KEY (repeatable; default: model).")
@click.option("--since", metavar="DATE", help="Count streams that started on or after DATE (2026-11-01, or a time).")
@click.option("--until", metavar="DATE", help="Count streams that started on or before DATE (the whole day), or before a time.")
@click.option("--timezone", "tz", metavar="ZONE", help="IANA time zone for days, weeks, months and dates (default: the machine's).")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format (default: table on a terminal, JSON otherwise).")
@click.option("--prices", metavar="FILE", type=click.Path(dir_okay=False),
              help="Price table (sseq's JSON or LiteLLM's model_prices_and_context_window.json) for a cost column.")
@click.option("--ledger", metavar="FILE|URL",
              help="SQLite file or postgresql:// URL: add the streams read (each counted once) and report from the whole ledger.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, metavar="N",
              help="Read files in N processes (default 1; the report is the same, order included).")
@click.option("--shard", metavar="I/N", help="Read only slice I of N of the input files (stable, by each file's path).")
@click.option("--estimate", is_flag=True, help="Estimate output tokens from the text of streams that report no usage.")
@click.option("--strict", is_flag=True,
              help="Exit 1 when any stream counted is missing usage, truncated or incomplete.")
@quiet
@skip_bad
@max_event_size
def command(inputs, by, since, until, tz, fmt, prices, ledger, jobs, shard, estimate, strict, quiet, skip_bad,
            max_event_size):
    """Token totals of the streams in FILES and DIRS (records or raw SSE,
    .gz too; folders are walked for *.sse, *.ndjson, *.jsonl, *.events).
    Each stream's usage is read by its provider's rules; streams without
    usage are listed as missing, never counted as zero."""
    clock = Clock(tz)
    window = Window(clock.bound(since, "--since", False) if since is not None else None,
                    clock.bound(until, "--until", True) if until is not None else None)
    table = None
    if prices:
        from ..usage.prices import PriceTable

        table = PriceTable.load(prices)
    streams = console.current()
    problems = []

    def on_problem(error):
        problems.append(error)
        streams.error(str(error))

    empty = []

    def on_source(source):
        for message in () if quiet else source.warnings():  # -q: no warnings, as its help says
            streams.warn(message)
        if source.yielded_nothing:
            empty.append(source.name)

    if shard:
        from ..usage.shard import iter_shard_paths, parse_shard

        index, count = parse_shard(shard)
        paths = list(iter_shard_paths(inputs, index, count)) if inputs else ([] if ledger else ["-"])
    else:
        paths = list(iter_input_paths(inputs, streams.warn)) if inputs else ([] if ledger else ["-"])
    progress = None
    if len(paths) > 1 and not quiet and streams.stderr_isatty:
        from ..progress import FileProgress

        progress = FileProgress(len(paths), streams.write_message, streams.command)
    bad = BadLines() if skip_bad else None
    offenders: list[str] = []
    book = None
    try:
        from ..usage.parallel import iter_usages_parallel

        usages = iter_usages_parallel(paths, jobs, on_problem, estimate, bad, max_event_size,
                                      on_file=progress.step if progress else None, on_source=on_source,
                                      stdin=streams.stdin)
        if ledger:
            from ..usage.ledger import open_ledger

            book = open_ledger(ledger)
            added, improved, known = book.add(usages)
            if paths and not quiet:
                streams.warn(f"ledger {book.target}: {added} stream(s) added, {improved} improved, {known} already counted")
            usages = book.iter_usages()
        report = build_report(_watch(usages, window, offenders), by, clock, None, table)
    finally:
        if progress:
            progress.close()
        if book is not None:
            book.close()
    Output(streams.stdout).write(write_report(report, fmt or ("table" if streams.stdout_isatty else "json")))
    report_skipped(bad)
    status = ExitStatus.OK
    if strict and offenders:
        shown = ", ".join(offenders[:5]) + (f" and {len(offenders) - 5} more" if len(offenders) > 5 else "")
        streams.warn(f"--strict: {len(offenders)} stream(s) missing usage, truncated or incomplete: {shown}")
        status = ExitStatus.BAD_INPUT
    if strict and empty:
        streams.warn(f"--strict: {len(empty)} input(s) held no events or records")
        status = ExitStatus.BAD_INPUT
    if problems:
        status = ExitStatus.BAD_INPUT
    return status


def _watch(usages, window, offenders: list):
    """The streams in the window, noting those --strict objects to."""
    for usage in usages:
        if usage not in window:
            continue
        if usage.usage_source == "missing" or usage.verdict in ("truncated", "incomplete"):
            name = usage.file if usage.stream == 1 else f"{usage.file}#{usage.stream}"
            offenders.append(f"{name} ({usage.usage_source}, {usage.verdict})")
        yield usage
