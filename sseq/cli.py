"""The command line: the only module that touches argv, the process's
streams and exit statuses.

Commands live one per module under ``sseq.commands`` and are imported only
when invoked, so ``sseq parse`` does not pay for requests or jq.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import signal
import sys
from collections.abc import Iterator
from typing import BinaryIO, NoReturn

import click

from .speedups import core_name

from .console import Console
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

    def invoke(self, ctx: click.Context) -> object:
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
        if isinstance(ctx.obj, Console):
            ctx.obj.command = f"sseq {name}"  # the prefix of the run's messages
        module = importlib.import_module(f"sseq.commands.{name}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help from the table avoids importing every command.
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sseq", prog_name="sseq", message=f"%(prog)s %(version)s ({core_name()} core)")
def cli() -> None:
    """Capture, replay, filter and total Server-Sent Events streams.

    Commands read and write NDJSON records, one SSE event per line; every
    command that reads records accepts raw SSE too.  See sseq(1).
    """


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command line on this process's streams and exit with its
    status; SIGTERM ends it as Ctrl-C does."""
    console = Console.for_process()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        status = run(list(sys.argv[1:] if argv is None else argv), console)
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(status)


def run(args: list[str], console: Console, catch_all: bool = True) -> int:
    """Run one command line with ``console`` as its streams; the exit status.

    The one place that turns errors into messages and statuses: an
    SseqError into its line and status, a click usage error into one line
    with the ``sseq CMD:`` prefix (2), a closed pipe downstream into a quiet
    end (0), Ctrl-C into 130.  Anything else is a bug; it is still one line,
    never a traceback, unless ``catch_all`` is False (the tests, which want
    to see it).
    """
    status: int = ExitStatus.OK
    try:
        with _click_output(console):
            result = cli.main(args=args, prog_name="sseq", standalone_mode=False, obj=console)
        if isinstance(result, int):
            status = result
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.exceptions.Abort:
        status = ExitStatus.INTERRUPTED
    except click.UsageError as exc:
        message = " ".join(exc.format_message().split()).rstrip(".")
        hint = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
        console.error(message + hint)
        status = ExitStatus.USAGE
    except click.ClickException as exc:
        console.error(exc.format_message())
        status = exc.exit_code
    except SseqError as exc:
        console.error(str(exc))
        status = exc.status
    except (BrokenPipeError, DownstreamClosed):
        console.discard_stdout()
        status = ExitStatus.OK
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except Exception as exc:
        if not catch_all:
            raise
        console.error(f"internal error ({type(exc).__name__}: {exc}); this is a bug in sseq, please report it")
        status = ExitStatus.BAD_INPUT
    try:
        console.stdout.flush()
    except BrokenPipeError:
        console.discard_stdout()
    except OSError:
        pass  # already reported by the write that failed
    return int(status)


@contextlib.contextmanager
def _click_output(console: Console) -> Iterator[None]:
    """click writes --help and --version to sys.stdout itself: they go to
    the console's stdout (a test's buffer, or a closed stdout that says so)."""
    if console.is_process and sys.stdout is not None:
        yield
        return
    out = _ClickText(console.stdout)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(contextlib.redirect_stdout(out))
            if not console.is_process and console.stderr is not None:
                stack.enter_context(contextlib.redirect_stderr(console.stderr))
            yield
    finally:
        out.detach()


class _ClickText(io.TextIOWrapper):
    """Text for click's own output; a failed write is one clear error, as
    the commands' own output failures are."""

    def __init__(self, stream: BinaryIO):
        super().__init__(stream, encoding="utf-8", errors="replace", write_through=True)

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise SseqError(f"cannot write output: {exc.strerror or exc}") from None


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
