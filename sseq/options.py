"""Options that several commands share, each defined once."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from . import console
from .inputs import BadLines
from .parser import DEFAULT_MAX_EVENT_SIZE


# The largest size or count an option takes: what a 64-bit signed integer
# holds, so that no later arithmetic or library overflows on it.
LARGEST = (1 << 63) - 1


class FiniteFloat(click.FloatRange):
    """A float option in a range, never nan or infinity: a speed or a
    number of seconds that arithmetic and sleeping can use."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int:
    if value is None:
        return DEFAULT_MAX_EVENT_SIZE
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    number = text[:-1] if scale != 1 else text
    try:
        amount = float(number) * scale
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a size such as 65536, 512K or 64M") from None
    if not math.isfinite(amount) or amount > LARGEST:
        raise click.BadParameter(f"{value!r} is not a size such as 65536, 512K or 64M (at most 2^63-1 bytes)")
    size = int(amount)
    if size <= 0:
        raise click.BadParameter("must be positive")
    return size


def input_files(func):
    """FILE... arguments: records or raw SSE; none or ``-`` is standard input."""
    return click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))(func)


def max_event_size(func):
    return click.option(
        "--max-event-size",
        metavar="SIZE",
        callback=_size,
        help="Largest event data accepted, e.g. 512K or 64M; a larger event is an error (default 64M).",
    )(func)


def skip_bad(func):
    return click.option(
        "--skip-bad",
        is_flag=True,
        help="Skip lines that are not records, count them on stderr, and go on.",
    )(func)


def quiet(func):
    return click.option("-q", "--quiet", is_flag=True, help="No progress or warnings on stderr.")(func)


def report_skipped(bad: BadLines | None) -> None:
    """After a --skip-bad run: how many lines were skipped, and the first."""
    if bad is not None and bad.count:
        console.current().warn(f"skipped {bad.count} bad line(s); first: {bad.first}")


def warner(command: str | None = None) -> Callable[[str], None]:
    """A ``warn`` callback for the reading layer: the console's, one line
    on stderr with the running command's prefix (``command`` is kept for
    callers that name it; the console knows it)."""
    return console.current().warn
