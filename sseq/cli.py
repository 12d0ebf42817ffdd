"""The command line: the only module that touches argv, the process's
streams and exit statuses.

Commands live one per module under ``sseq.commands`` and are imported only
when invoked, so ``sseq parse`` does not pay for requests or jq.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import click

from .errors import ExitStatus, SseqError

COMMANDS = {
    "parse": "Raw SSE bytes to NDJSON records.",
    "filter": "Keep, drop or transform records by type or jq expression.",
    "text": "The assistant's text as it streams, for any provider.",
    "replay": "Records back to SSE wire bytes.",
    "fetch": "Make one streamed HTTP request and record its events.",
    "serve": "Replay recordings to HTTP clients on 127.0.0.1.",
    "proxy": "Forward to an upstream, relay live, record each exchange.",
    "usage": "Token totals per stream, model, provider or day.",
}


class DownstreamClosed(Exception):
    """The reader of standard output went away (`| head`)."""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def invoke(self, ctx: click.Context):
        # click turns EPIPE into exit 1 on its own; a closed pipe downstream
        # is a normal end for a filter, so it is caught before click sees it.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise DownstreamClosed from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"sseq.commands.{name}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help from the table avoids importing every command.
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sseq", prog_name="sseq")
def cli() -> None:
    """Capture, replay, filter and total Server-Sent Events streams.

    Commands read and write NDJSON records, one SSE event per line; every
    command that reads records accepts raw SSE too.  See sseq(1).
    """


def _command_name(argv: list[str]) -> str:
    for arg in argv:
        if arg in COMMANDS:
            return arg
    return "sseq"


def _quiet_broken_pipe() -> None:
    # The reader went away (`| head`): drop whatever is still buffered so
    # that the interpreter's own flush at exit cannot complain either.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the command line and exit with its status."""
    args = list(sys.argv[1:] if argv is None else argv)
    name = _command_name(args)
    prefix = "sseq" if name == "sseq" else f"sseq {name}"
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    status = ExitStatus.OK
    try:
        result = cli.main(args=args, prog_name="sseq", standalone_mode=False)
        if isinstance(result, int):
            status = result
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.exceptions.Abort:
        status = ExitStatus.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        status = exc.exit_code
    except SseqError as exc:
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        status = exc.status
    except (BrokenPipeError, DownstreamClosed):
        _quiet_broken_pipe()
        status = ExitStatus.OK
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    sys.exit(int(status))


if __name__ == "__main__":
    main()
