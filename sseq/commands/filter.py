"""sseq filter: keep, drop or transform records."""

from __future__ import annotations

import fnmatch
import json
import re
from itertools import compress
from typing import BinaryIO

import click
import orjson

from .. import console
from ..errors import SseqError, UsageProblem
from ..inputs import BadLines, iter_batches, iter_sources, iter_type_batches
from ..options import input_files, max_event_size, report_skipped, skip_bad
from ..providers import is_terminal
from ..output import Output
from ..records import Record, format_record


def _compile_globs(patterns: tuple[str, ...]):
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match


@click.command("filter")
@input_files
@click.option("-t", "--type", "types", multiple=True, metavar="GLOB",
              help="Keep records whose event type matches GLOB (repeatable); data.type counts for message events.")
@click.option("-x", "--exclude", "excludes", multiple=True, metavar="GLOB",
              help="Drop records whose event type matches GLOB (repeatable).")
@click.option("--where", "where", metavar="JQ", help="Keep records for which the jq expression is true.")
@click.option("--jq", "transform", metavar="JQ", help="Write the jq expression's outputs instead of the records.")
@click.option("-r", "--raw-output", is_flag=True, help="With --jq, write strings as plain text lines.")
@click.option("--until-done", is_flag=True, help="Stop each input after its terminal marker ([DONE], response.completed, message_stop...).")
@click.option("--head", type=click.IntRange(min=0), metavar="N", help="Stop after writing N records.")
@skip_bad
@max_event_size
def command(files, types, excludes, where, transform, raw_output, until_done, head, skip_bad, max_event_size):
    """Filter records from FILES (or standard input): by event type, by a jq
    condition, or through a jq transformation.  Raw SSE input is parsed
    first."""
    from ..jqexpr import JqErrors, JqProgram

    if raw_output and transform is None:
        raise UsageProblem("-r/--raw-output works with --jq (it says how --jq's strings are written)")
    keep = _compile_globs(types)
    drop = _compile_globs(excludes)
    condition = JqProgram(where, "--where") if where else None
    program = JqProgram(transform, "--jq") if transform else None
    bad = BadLines() if skip_bad else None
    streams = console.current()
    out = Output(streams.stdout)
    warn = streams.warn
    written = 0
    jq_errors = JqErrors()
    done_source = None
    if head == 0:
        return
    if condition is None and program is None and not until_done:
        _filter_by_type(files, keep, drop, head, bad, max_event_size, out, warn, streams.stdin)
        report_skipped(bad)
        return
    for source, batch in iter_batches(files, bad, streams.stdin, warn=warn, max_event_size=max_event_size):
        if source is done_source:
            continue
        lines = []
        full = False
        for record in batch:
            stop = until_done and is_terminal(record)
            if _selected(record, keep, drop):
                try:
                    if condition is None or condition.is_true(record):
                        if program is None:
                            lines.append(record.line + b"\n" if record.line is not None else format_record(record))
                            written += 1
                        else:
                            for value in program.outputs(record):
                                lines.append(_format_value(value, raw_output))
                                written += 1
                except ValueError as exc:
                    jq_errors.add(str(exc), source.name, record.line_no)
            full = head is not None and written >= head
            if full:
                del lines[len(lines) - (written - head):]
                break
            if stop:
                done_source = source
                break
        out.write_lines(lines)
        if full:
            break
    report_skipped(bad)
    jq_errors.report(warn)
    if jq_errors.count:
        raise SseqError(f"jq failed on {jq_errors.count} record(s)")


def _filter_by_type(files, keep, drop, head, bad, max_event_size, out: Output, warn, stdin: BinaryIO) -> None:
    """The -t/-x (and --head) case, the common one: records pass through as
    their lines, checked but never built, and are picked in C-level loops
    from a table of decisions per (event, type)."""
    decided = _Decisions(keep, drop)
    written = 0
    for source in iter_sources(files, stdin):
        for events, kinds, lines in iter_type_batches(source, bad, max_event_size):
            kept = list(compress(lines, map(decided.__getitem__, zip(events, kinds, strict=True))))
            if head is not None and written + len(kept) >= head:
                del kept[head - written:]
                if kept:
                    out.write(b"\n".join(kept) + b"\n")
                return
            written += len(kept)
            if kept:
                out.write(b"\n".join(kept) + b"\n")
        for message in source.warnings():
            warn(message)


class _Decisions(dict):
    """(event, type) -> whether -t/-x keep it, worked out on first sight."""

    def __init__(self, keep, drop):
        super().__init__()
        self.keep, self.drop = keep, drop

    def __missing__(self, key):
        event, kind = key
        answer = _selected_types(event, kind, self.keep, self.drop)
        if len(self) < 4096:
            self[key] = answer
        return answer


def _selected(record: Record, keep, drop) -> bool:
    if keep is None and drop is None:
        return True
    return _selected_types(record.event, record.type, keep, drop)


def _selected_types(event: str, kind: str, keep, drop) -> bool:
    if keep is None and drop is None:
        return True
    # kind differs from event only for a message event with a data.type.
    if keep is not None and not (keep(event) or (kind != event and keep(kind))):
        return False
    if drop is not None and (drop(event) or (kind != event and drop(kind))):
        return False
    return True


def _format_value(value, raw_output: bool) -> bytes:
    if raw_output and type(value) is str:
        return value.encode("utf-8", "replace") + b"\n"
    try:
        return orjson.dumps(value) + b"\n"
    except TypeError:  # an integer beyond 64 bits: the standard library writes any
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace") + b"\n"
