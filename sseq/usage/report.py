"""Streams grouped into report rows, and the rows written as a table, JSON,
NDJSON or CSV.

Rows are groups of streams sharing the ``--by`` keys (``file``, ``model``,
``provider``, ``host``, ``label:KEY``, ``day``, ``week``, ``month``); token
fields are summed over the streams that have them, and each row says how
many streams reported, were estimated or are missing usage, and how they
ended.  Days, ISO weeks and months are local, in the report's time zone.
``--by stream`` gives one row per stream in the versioned schema of
``schema.py``.  Costs are exact decimals until they are written: JSON and
NDJSON carry them unrounded, the table rounds them for the eye.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

import orjson

from ..errors import UsageProblem
from .model import TOKEN_FIELDS, USAGE_SOURCES, VERDICTS, StreamUsage
from .schema import stream_row

if TYPE_CHECKING:  # prices are loaded only with --prices
    from .prices import PriceTable

GROUP_KEYS = ("stream", "file", "model", "provider", "host", "day", "week", "month")
LABEL_PREFIX = "label:"
SUMMED_FIELDS = TOKEN_FIELDS + tuple(f for f in ("cache_write_1h_tokens",) if f not in TOKEN_FIELDS)
FORMATS = ("table", "json", "ndjson", "csv")
BAR_WIDTH = 30
_OPTIONAL_COLUMNS = ("cache write", "tools", "notes", "ttft ms", "tok/s")


# --- Time: local days, --since / --until ----------------------------------


class Clock:
    """Turns POSIX seconds into local days in one time zone (the machine's
    when no name is given; zoneinfo is imported only for a name)."""

    def __init__(self, name: str | None = None):
        self.name = name
        self.zone: tzinfo | None = None
        if name:
            import zoneinfo

            try:
                self.zone = zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise UsageProblem(f"--timezone: unknown time zone {name!r} (use an IANA name such as Europe/Paris or UTC)") from None

    @property
    def label(self) -> str:
        return self.name or "local"

    def local(self, seconds: float) -> datetime:
        if self.zone is None:
            return datetime.fromtimestamp(seconds).astimezone()
        return datetime.fromtimestamp(seconds, self.zone)

    def day(self, seconds: float | None) -> str | None:
        return None if seconds is None else self.local(seconds).date().isoformat()

    def week(self, seconds: float | None) -> str | None:
        """The ISO week of the local day: ``2026-W45``."""
        if seconds is None:
            return None
        year, week, _ = self.local(seconds).date().isocalendar()
        return f"{year}-W{week:02d}"

    def month(self, seconds: float | None) -> str | None:
        return None if seconds is None else self.local(seconds).strftime("%Y-%m")

    def bound(self, text: str, option: str, end: bool) -> float:
        """POSIX seconds for ``--since`` (a day's start) or ``--until`` (the
        end of that day): a date in any ISO 8601 form (2026-12-01,
        20261201), or a date and time (with an offset, or in the report's
        zone).  A bound beyond the calendar's ends (``--until 9999-12-31``)
        is infinite rather than an error."""
        whole_day = None
        try:
            whole_day = date.fromisoformat(text.strip())
        except ValueError:
            pass
        try:
            if whole_day is not None:
                moment = datetime(whole_day.year, whole_day.month, whole_day.day)
            else:
                moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageProblem(f"{option}: {text!r} is not a date (2026-11-01) or a time (2026-11-01T09:00:00Z)") from None
        try:
            if whole_day is not None and end:
                moment += timedelta(days=1)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.zone) if self.zone is not None else moment.astimezone()
            return moment.timestamp()
        except (OverflowError, ValueError, OSError):
            # Past year 9999, or before year 1 once shifted to UTC: no
            # stream lies beyond such a bound.
            return math.inf if moment.year > 1 else -math.inf


@dataclass
class Window:
    """Which streams a report counts, by their start time."""

    since: float | None = None
    until: float | None = None

    def __contains__(self, usage: StreamUsage) -> bool:
        if self.since is None and self.until is None:
            return True
        when = usage.started
        if when is None:
            return False
        if self.since is not None and when < self.since:
            return False
        if self.until is not None and when >= self.until:
            return False
        return True


# --- Groups -----------------------------------------------------------------


def check_group_key(key: str) -> str:
    """A ``--by`` key, or UsageProblem naming the choices."""
    if key in GROUP_KEYS or (key.startswith(LABEL_PREFIX) and len(key) > len(LABEL_PREFIX)):
        return key
    raise UsageProblem(f"--by: {key!r} is not one of {', '.join(GROUP_KEYS)} or label:KEY")


def group_value(key: str, usage: StreamUsage, clock: Clock):
    if key == "day":
        return clock.day(usage.started)
    if key == "week":
        return clock.week(usage.started)
    if key == "month":
        return clock.month(usage.started)
    if key.startswith(LABEL_PREFIX):
        return usage.labels.get(key[len(LABEL_PREFIX):])
    return getattr(usage, key)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value, 1)


@dataclass
class Group:
    """Sums over the streams that share one set of keys."""

    keys: dict
    streams: int = 0
    sources: dict = field(default_factory=lambda: dict.fromkeys(USAGE_SOURCES, 0))
    verdicts: dict = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    tokens: dict = field(default_factory=lambda: dict.fromkeys(SUMMED_FIELDS))
    tool_calls: dict = field(default_factory=dict)
    ttft: list = field(default_factory=list)
    rates: list = field(default_factory=list)
    cost: Decimal | None = None
    unpriced: set = field(default_factory=set)
    notes: set = field(default_factory=set)

    def add(self, usage: StreamUsage, prices=None, cost=None) -> None:
        self.streams += 1
        self.sources[usage.usage_source] += 1
        self.verdicts[usage.verdict] = self.verdicts.get(usage.verdict, 0) + 1
        for name in SUMMED_FIELDS:
            value = getattr(usage, name)
            if value is not None:
                self.tokens[name] = (self.tokens[name] or 0) + value
        for kind, count in usage.tool_calls.items():
            self.tool_calls[kind] = self.tool_calls.get(kind, 0) + count
        if usage.ttft_ms is not None:
            self.ttft.append(usage.ttft_ms)
        if usage.output_tokens_per_s is not None:
            self.rates.append(usage.output_tokens_per_s)
        if prices is not None and (usage.input_tokens is not None or usage.output_tokens is not None):
            cost = cost if cost is not None else prices.cost(usage)
            if cost.amount is None:
                self.unpriced.add(usage.model or "(unknown model)")
            else:
                self.cost = (self.cost or Decimal(0)) + cost.amount
                if cost.note:
                    self.notes.update(cost.note.split("; "))

    def to_row(self, with_prices: bool, currency: str | None = None) -> dict:
        row = dict(self.keys)
        row["streams"] = self.streams
        row.update(self.tokens)
        row["usage_source"] = dict(self.sources)
        row["verdict"] = dict(self.verdicts)
        row["tool_calls"] = dict(sorted(self.tool_calls.items()))
        row["ttft_ms"] = _median(self.ttft)
        row["output_tokens_per_s"] = _median(self.rates)
        if with_prices:
            row["cost"] = None if self.cost is None else float(self.cost)
            row["currency"] = currency
            row["cost_note"] = "; ".join(sorted(self.notes)) or None
            row["unpriced_models"] = sorted(self.unpriced)
        return row


@dataclass
class Report:
    """The rows of a report and its totals."""

    by: tuple[str, ...]
    rows: list[dict]
    totals: dict
    clock: Clock
    prices: PriceTable | None = None

    @property
    def is_streams(self) -> bool:
        return "stream" in self.by

    @property
    def currency(self) -> str | None:
        return None if self.prices is None else self.prices.currency

    def to_json(self) -> dict:
        out: dict = {"by": list(self.by), "timezone": self.clock.label, "rows": self.rows, "totals": self.totals}
        if self.prices is not None:
            out["prices"] = self.prices.describe()
            out["unpriced_models"] = self.totals.get("unpriced_models", [])
        return out


def build_report(usages: Iterable[StreamUsage], by: tuple[str, ...], clock: Clock,
                 window: Window | None = None, prices=None) -> Report:
    """Group the streams in the window by the ``by`` keys."""
    by = tuple(by) or ("model",)
    streams_only = "stream" in by
    groups: dict[tuple, Group] = {}
    rows: list[dict] = []
    total = Group({})
    currency = None if prices is None else prices.currency
    for usage in usages:
        if window is not None and usage not in window:
            continue
        cost = prices.cost(usage) if prices is not None else None
        total.add(usage, prices, cost)
        if streams_only:
            rows.append(stream_row(usage, clock, cost, currency))
            continue
        keys = {key: group_value(key, usage, clock) for key in by}
        ident = tuple(keys.values())
        group = groups.get(ident)
        if group is None:
            group = groups[ident] = Group(keys)
        group.add(usage, prices, cost)
    if not streams_only:
        ordered = sorted(groups.items(), key=lambda kv: tuple((v is None, str(v)) for v in kv[0]))
        rows = [group.to_row(prices is not None, currency) for _ident, group in ordered]
    return Report(by, rows, total.to_row(prices is not None, currency), clock, prices)


# --- Writing ------------------------------------------------------------------


def format_json(report: Report) -> bytes:
    return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n"


def format_ndjson(report: Report) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in report.rows)


def _flat(row: dict) -> dict:
    flat = {}
    for key, value in row.items():
        if key in ("usage_source", "verdict") and type(value) is dict:
            flat.update(value)
        elif key in ("tool_calls", "labels"):
            flat[key] = ";".join(f"{k}={v}" for k, v in value.items())
        elif key == "unpriced_models":
            flat[key] = ";".join(value)
        else:
            flat[key] = value
    return flat


def format_csv(report: Report) -> bytes:
    import csv

    buffer = io.StringIO()
    flat_rows = [_flat(row) for row in report.rows]
    header = list(flat_rows[0]) if flat_rows else list(_flat(report.totals))
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in flat_rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue().encode()


def _num(value) -> str:
    if value is None:
        return "-"
    if type(value) is float:
        return f"{value:,.1f}"
    return f"{value:,}"


def format_money(amount: float, currency: str | None) -> str:
    """An amount for the eye: cents and hundredths of cents from 1 cent up,
    else three significant digits, so that a tiny cost never reads as 0."""
    if amount >= 100:
        text = f"{amount:,.2f}"
    elif amount >= 0.01 or amount == 0:
        text = f"{amount:,.4f}"
    else:
        digits = 2 - math.floor(math.log10(amount))
        text = f"{amount:.{digits}f}".rstrip("0")
    if currency in (None, "USD"):
        return "$" + text
    return f"{text} {currency}"


def _cost(row: dict, currency: str | None) -> str:
    cost = row.get("cost")
    unpriced = row.get("unpriced_models") or []
    if cost is None:
        note = row.get("cost_note") or ""
        return "unpriced" if unpriced or note.startswith("unpriced") else "-"
    return format_money(cost, currency) + ("*" if unpriced or row.get("cost_note") else "")


# Control characters (C0, DEL, C1), line and paragraph separators, and the
# bidirectional overrides that reorder what a terminal shows.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every character that would move the cursor, colour or
    reorder a terminal written as an escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _tools(calls: dict) -> str:
    return " ".join(f"{k}×{v}" for k, v in calls.items()) or "-"


def _notes(row: dict) -> str:
    notes = []
    sources = row["usage_source"]
    verdicts = row["verdict"]
    if sources["estimated"]:
        notes.append(f"{sources['estimated']} estimated")
    if sources["missing"]:
        notes.append(f"{sources['missing']} missing")
    if verdicts.get("incomplete"):
        notes.append(f"{verdicts['incomplete']} incomplete")
    if verdicts["error"]:
        notes.append(f"{verdicts['error']} error")
    if verdicts["truncated"]:
        notes.append(f"{verdicts['truncated']} truncated")
    if verdicts["incomplete"]:
        notes.append(f"{verdicts['incomplete']} incomplete")
    return ", ".join(notes)


def format_table(report: Report) -> bytes:
    """A table for a person: one line per row, a total line, and a bar per
    day when the rows are days."""
    with_prices = report.prices is not None
    if report.is_streams:
        headers = ["stream", "model", "provider", "verdict", "usage", "input", "cached", "output",
                   "reasoning", "total", "tools", "ttft ms", "tok/s"]
        lines = []
        for row in report.rows:
            name = row["file"] if row["stream"] == 1 else f"{row['file']}#{row['stream']}"
            cells = [name, row["model"] or "-", row["provider"] or "-", row["verdict"], row["usage_source"],
                     _num(row["input_tokens"]), _num(row["cached_input_tokens"]), _num(row["output_tokens"]),
                     _num(row["reasoning_tokens"]), _num(row["total_tokens"]), _tools(row["tool_calls"]),
                     _num(row["ttft_ms"]), _num(row["output_tokens_per_s"])]
            if with_prices:
                cells.append(_cost(row, report.currency))
            lines.append(cells)
        if with_prices:
            headers.append("cost")
        key_count = 1
    else:
        keys = list(report.by)
        headers = keys + ["streams", "input", "cached", "cache write", "output", "reasoning", "total", "tools"]
        if with_prices:
            headers.append("cost")
        headers.append("notes")
        lines = []
        for row in report.rows:
            cells = [str(row[k]) if row[k] is not None else "-" for k in keys]
            cells += [_num(row["streams"]), _num(row["input_tokens"]), _num(row["cached_input_tokens"]),
                      _num(row["cache_write_tokens"]), _num(row["output_tokens"]), _num(row["reasoning_tokens"]),
                      _num(row["total_tokens"]), _tools(row["tool_calls"])]
            if with_prices:
                cells.append(_cost(row, report.currency))
            cells.append(_notes(row))
            lines.append(cells)
        key_count = len(keys)
    totals = report.totals
    total_line = None
    if len(report.rows) > 1 or not report.rows:
        total_line = ["TOTAL"] + [""] * (key_count - 1)
        if report.is_streams:
            total_line += ["", "", "", f"{totals['streams']} streams", _num(totals["input_tokens"]),
                           _num(totals["cached_input_tokens"]), _num(totals["output_tokens"]),
                           _num(totals["reasoning_tokens"]), _num(totals["total_tokens"]),
                           _tools(totals["tool_calls"]), _num(totals["ttft_ms"]), _num(totals["output_tokens_per_s"])]
            if with_prices:
                total_line.append(_cost(totals, report.currency))
        else:
            total_line += [_num(totals["streams"]), _num(totals["input_tokens"]), _num(totals["cached_input_tokens"]),
                           _num(totals["cache_write_tokens"]), _num(totals["output_tokens"]),
                           _num(totals["reasoning_tokens"]), _num(totals["total_tokens"]), _tools(totals["tool_calls"])]
            if with_prices:
                total_line.append(_cost(totals, report.currency))
            total_line.append(_notes(totals))
    bars = None
    if "day" in report.by and not report.is_streams and report.rows:
        measure = [row.get("total_tokens") or 0 for row in report.rows]
        peak = max(measure) or 1
        bars = ["█" * round(BAR_WIDTH * m / peak) or ("▏" if m else "") for m in measure]
        headers.append("")
    # Names come from recordings: a newline or an ESC sequence in a model
    # name must not reach the terminal as such.
    all_lines = [[printable(cell) for cell in line] for line in [headers] + lines + ([total_line] if total_line else [])]
    # Columns with nothing to say in any row are left out of the table.
    empty = {i for i, name in enumerate(headers) if name in _OPTIONAL_COLUMNS
             and all(line[i] in ("", "-", "0") for line in all_lines[1:])}
    if empty:
        all_lines = [[cell for i, cell in enumerate(line) if i not in empty] for line in all_lines]
        headers = all_lines[0]
    numeric_from = 1 if report.is_streams else key_count
    widths = [max(len(line[i]) for line in all_lines) for i in range(len(headers) - (1 if bars else 0))]
    out = []
    for n, line in enumerate(all_lines):
        cells = []
        for i, width in enumerate(widths):
            cell = line[i] if i < len(line) else ""
            right = i >= numeric_from and headers[i] not in ("model", "provider", "verdict", "usage", "tools", "notes")
            cells.append(cell.rjust(width) if right else cell.ljust(width))
        if bars and 1 <= n <= len(lines):
            cells.append(bars[n - 1])
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    if with_prices and totals.get("unpriced_models"):
        out.append("")
        out.append("unpriced (no price in the table, not counted in cost): "
                   + ", ".join(printable(str(m)) for m in totals["unpriced_models"]))
        if any(row.get("cost") is not None and row.get("unpriced_models") for row in report.rows + [totals]):
            out.append("* cost of the priced streams only")
    if with_prices and totals.get("cost_note"):
        out.append("")
        out.append("* the cost leaves out or assumes: " + totals["cost_note"])
    return ("\n".join(out) + "\n").encode()


def write_report(report: Report, fmt: str) -> bytes:
    if fmt == "json":
        return format_json(report)
    if fmt == "ndjson":
        return format_ndjson(report)
    if fmt == "csv":
        return format_csv(report)
    return format_table(report)
