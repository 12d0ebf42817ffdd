"""sseq fetch: one streamed HTTP request, recorded as NDJSON records."""

from __future__ import annotations

import re
import sys
import time

import click

from ..errors import BadInput, ExitStatus, Interrupted, SseqError, UsageProblem
from ..options import max_event_size, quiet

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SECONDS = click.FloatRange(min=0, min_open=True)


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
                   "up to N times in a row.")
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
@max_event_size
@quiet
def command(url, method, headers, data, json_body, jq_body, connect_timeout, idle_timeout, max_time, retries,
            last_event_id, until_done, raw_path, output_path, raw_data, include_all, max_event_size, quiet):
    """Make one streamed HTTP request to URL and write its events as records:
    sseq.open (status, headers with secrets redacted, request digest), each
    event with t (seconds since the request was sent), then sseq.close
    (why it ended).

    Exit status: 0 done, 1 a JSON answer instead of a stream, 2 usage, 3 an
    HTTP error status, 4 a network error or timeout, 130 interrupted.
    """
    from ..records import CLOSE, OPEN, format_record
    from ..transport import FetchRequest, FetchRun, check_url

    try:
        check_url(url)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    body = _read_body(data) if data is not None else None
    if jq_body is not None:
        body = _edit_body(body, jq_body)
    request = FetchRequest(
        url=url,
        method=method,
        headers=tuple(_read_headers(headers)),
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
    )
    progress = _Progress(enabled=not quiet and sys.stderr.isatty())
    notify = (lambda message: None) if quiet else progress.say
    sink = _open_output(output_path)
    raw = _Sink(_open_file(raw_path), raw_path, owned=True) if raw_path else None

    def after_read(run) -> None:
        # The records one read completed leave together, before the next wait.
        sink.flush()
        progress.update(run)

    run = FetchRun(request, raw=raw, notify=notify, progress=after_read)
    records = iter(run)
    try:
        for record in records:
            sink.write(format_record(record))
            if record.event in (OPEN, CLOSE):
                sink.flush()
    except KeyboardInterrupt:
        records.close()
        close = run.interrupt()
        if close is not None:
            sink.write(format_record(close))
        sink.flush()
        raise Interrupted(f"interrupted after {run.events} event(s)") from None
    finally:
        records.close()
        progress.done()
        sink.close()
        if raw is not None:
            raw.close()
    outcome = run.outcome
    if outcome is not None and outcome.status != ExitStatus.OK:
        raise SseqError(outcome.message or outcome.reason, outcome.status)


def _read_headers(values) -> list[tuple[str, str | None]]:
    """-H values to (name, value) pairs: 'Name: value', 'Name:' (remove a
    default header), 'Name;' (send it empty), or @FILE of such lines."""
    pairs: list[tuple[str, str | None]] = []
    for value in values:
        if value.startswith("@"):
            path = value[1:]
            lines = _read_file(path).decode("utf-8", "replace").splitlines()
            where = path
        else:
            lines = [value]
            where = None
        for number, line in enumerate(lines, 1):
            if where is not None and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pairs.append(_parse_header(line, where, number))
    return pairs


def _parse_header(line: str, where: str | None, number: int) -> tuple[str, str | None]:
    if ":" in line:
        name, _, value = line.partition(":")
        value = value.strip()
        result = (name.strip(), value if value else None)
    elif line.rstrip().endswith(";"):
        result = (line.rstrip()[:-1].strip(), "")
    else:
        result = ("", None)
    name = result[0]
    if not _HEADER_NAME.match(name) or (result[1] is not None and ("\r" in result[1] or "\n" in result[1])):
        # Never repeat the line: it may hold a key.
        if where is not None:
            raise BadInput(where, number, "not a header line (expected 'Name: value')")
        raise UsageProblem("-H: not a header (expected 'Name: value')")
    return result


def _read_body(data: str) -> bytes:
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        return _read_file(data[1:])
    return data.encode("utf-8")


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise BadInput(path, None, "no such file") from None
    except IsADirectoryError:
        raise BadInput(path, None, "is a directory") from None
    except OSError as exc:
        raise BadInput(path, None, exc.strerror or str(exc)) from None


def _edit_body(body: bytes | None, expression: str) -> bytes:
    """The JSON body after a jq expression (``null`` when there is no -d)."""
    import jq
    import orjson

    try:
        value = orjson.loads(body) if body is not None else None
    except orjson.JSONDecodeError as exc:
        raise UsageProblem(f"--jq-body: the request body is not JSON ({exc})") from None
    try:
        program = jq.compile(expression)
    except ValueError as exc:
        raise UsageProblem(f"--jq-body: {str(exc).strip()}") from None
    try:
        outputs = program.input_value(value).all()
    except ValueError as exc:
        raise UsageProblem(f"--jq-body: {str(exc).strip()}") from None
    if len(outputs) != 1:
        raise UsageProblem(f"--jq-body must give exactly one value, it gave {len(outputs)}")
    return orjson.dumps(outputs[0])


class _Sink:
    """Where records go; a write error (a full disk) is one clear line."""

    def __init__(self, stream, name: str, owned: bool):
        self.stream = stream
        self.name = name
        self.owned = owned

    def write(self, line: bytes) -> None:
        try:
            self.stream.write(line)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise SseqError(f"cannot write to {self.name}: {exc.strerror or exc}", ExitStatus.BAD_INPUT) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise SseqError(f"cannot write to {self.name}: {exc.strerror or exc}", ExitStatus.BAD_INPUT) from None

    def close(self) -> None:
        if self.owned:
            _close_quietly(self.stream)


def _open_output(path: str | None) -> _Sink:
    if path is None or path == "-":
        return _Sink(sys.stdout.buffer, "standard output", owned=False)
    return _Sink(_open_file(path), path, owned=True)


def _open_file(path: str):
    try:
        return open(path, "wb")
    except OSError as exc:
        raise BadInput(path, None, f"cannot write: {exc.strerror or exc}") from None


def _close_quietly(stream) -> None:
    try:
        stream.close()
    except OSError:
        pass


class _Progress:
    """One self-rewriting line on stderr (a terminal only): events, bytes,
    elapsed time, time to the first event."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.shown = False
        self.last = 0.0

    def update(self, run) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        first = f", first event after {run.first_event_t:.2f} s" if run.first_event_t is not None else ""
        line = f"sseq fetch: {run.events} events, {_size(run.bytes)}, {run.elapsed():.1f} s{first}"
        sys.stderr.write("\r\x1b[K" + line)
        sys.stderr.flush()
        self.shown = True

    def say(self, message: str) -> None:
        self._clear()
        print(f"sseq fetch: {message}", file=sys.stderr, flush=True)

    def done(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024 or unit == "MiB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"
