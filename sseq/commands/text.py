"""sseq text: the assistant's text as it streams."""

from __future__ import annotations

import click

from .. import console
from ..inputs import BadLines, iter_batches
from ..runs import RecordRun
from ..options import input_files, max_event_size, report_skipped, skip_bad
from ..output import Output
from ..providers import RUN_SHAPES
from ..text import TextAssembler


@click.command("text")
@input_files
@click.option("--reasoning", is_flag=True, help="Include the reasoning (thinking) text, set off by a blank line.")
@skip_bad
@max_event_size
def command(files, reasoning, skip_bad, max_event_size):
    """Write the assistant's text from FILES (records or raw SSE) as it
    streams: OpenAI Chat Completions and Responses, Anthropic, Gemini and
    the OpenAI-compatible relays."""
    bad = BadLines() if skip_bad else None
    streams = console.current()
    out = Output(streams.stdout)
    assembler = TextAssembler(reasoning)
    try:
        source = None
        feed, feed_run = assembler.feed, assembler.feed_run
        for this, batch in iter_batches(files, bad, streams.stdin, warn=streams.warn, max_event_size=max_event_size,
                                        runs=RUN_SHAPES):
            if this is not source:
                if source is not None:
                    assembler.new_input()
                source = this
            text = "".join([feed_run(r) if type(r) is RecordRun else feed(r) for r in batch])
            out.write(text.encode("utf-8", "replace"))
    finally:
        out.write(assembler.finish().encode())
    report_skipped(bad)
