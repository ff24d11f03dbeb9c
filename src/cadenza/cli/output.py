"""Output of the command line: consoles, times, durations, states and JSON.

Readable output goes through a rich console that uses colors only on a terminal;
machine-readable output is JSON with stable keys, every timestamp given twice: as
ISO-8601 in UTC (``created``) and as seconds since the epoch (``created_epoch``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from cadenza.utilities.formatting import format_duration, iso_utc

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from cadenza.states import State


class CliError(click.ClickException):
    """An error shown as one line (``Error: ...``) with exit code 1, no traceback."""

    exit_code = 1


# -- consoles --------------------------------------------------------------------------
def console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr); colors only when it is a terminal.

    When the output is not a terminal and ``COLUMNS`` is unset, lines are laid out
    for 200 columns, so that piped tables are not folded at 80.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    is_tty = stream.isatty()
    width = None if is_tty or os.environ.get("COLUMNS") else 200
    return Console(
        file=stream,
        width=width,
        highlight=False,
        force_terminal=is_tty,
        no_color=None if is_tty else True,
        soft_wrap=False,
    )


def print_block(out: Console, renderable: Any, *, width: int | None = None) -> None:
    """Print a table or tree whole, never cut to the terminal's width.

    A terminal too narrow for it wraps its lines; off a terminal, lines are printed
    without the padding at their ends. ``width`` prints it that wide instead (for
    prose that should wrap at a readable width).
    """
    saved = out.width
    if width is None:
        from rich.measure import Measurement

        needed = Measurement.get(out, out.options.update_width(10_000), renderable).maximum
        width = max(saved, needed)
    out.width = width
    try:
        if out.is_terminal:
            out.print(renderable)
            return
        with out.capture() as captured:
            out.print(renderable)
    finally:
        out.width = saved
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    out.file.write(text + "\n")


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def echo_json_line(value: Any) -> None:
    """Print ``value`` as one line of JSON (JSON Lines) on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")))


# -- times -----------------------------------------------------------------------------
def timestamp_fields(key: str, ts: float | None) -> dict[str, Any]:
    """``{key: ISO-8601 UTC, key_epoch: seconds}`` for a JSON record."""
    return {key: iso_utc(ts), f"{key}_epoch": ts}


def local_time(ts: float | None, *, ms: bool = False) -> str:
    """``ts`` in local time: ``2026-01-31 09:00:00`` (with ``.250`` when ``ms``)."""
    if ts is None:
        return "-"
    moment = _dt.datetime.fromtimestamp(ts)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if ms:
        text += f".{moment.microsecond // 1000:03d}"
    return text


def run_duration(
    start: float | None, end: float | None, state: State | None, now: float | None = None
) -> str:
    """The duration column of a run; a running run shows its time so far, then ``…``."""
    if start is not None and end is not None:
        return format_duration(end - start)
    if start is not None and state is not None and not state.is_final():
        elapsed = (time.time() if now is None else now) - start
        return format_duration(elapsed) + "…"
    return "-"


def parse_since(value: str, now: float | None = None) -> float:
    """Seconds since the epoch for ``--since``: a span back from now or a date.

    Accepts ``90s``, ``30m``, ``1h``, ``2d``, ``1w`` and ISO dates or date-times
    (``2026-01-31``, ``2026-01-31T08:00``; local time unless an offset is given).

    Raises:
        CliError: the value is neither.
    """
    from cadenza.utilities.durations import match_duration

    amount = match_duration(value) if value.strip()[-1:].isalpha() else None
    if amount is not None:
        return (time.time() if now is None else now) - amount
    try:
        moment = _dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(
            f"--since {value!r} is neither a span nor a date. Give a span back from now "
            "(90s, 30m, 1h, 2d, 1w) or a date in local time (2026-01-31 or 2026-01-31T08:00)."
        ) from None
    return moment.timestamp()


# -- levels ----------------------------------------------------------------------------
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}
_LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}


def parse_level(value: str) -> int:
    """A logging level from its name (any case) or number.

    Raises:
        CliError: neither a known name nor a number.
    """
    text = value.strip().upper()
    if text in _LEVELS:
        return _LEVELS[text]
    if text.isdigit():
        return int(text)
    raise CliError(
        f"--level {value!r} is not a logging level; use DEBUG, INFO, WARNING, ERROR, "
        "CRITICAL or a number."
    )


def level_name(level: int) -> str:
    """``INFO`` for 20, ``Level 25`` for levels without a name."""
    return _LEVEL_NAMES.get(level, f"Level {level}")


LEVEL_STYLES = {10: "dim", 20: "", 30: "yellow", 40: "red", 50: "bold red"}


# -- states ----------------------------------------------------------------------------
_STATE_STYLES = {
    "COMPLETED": "green",
    "FAILED": "red",
    "CRASHED": "bold red",
    "CANCELLED": "magenta",
    "CANCELLING": "magenta",
    "RUNNING": "cyan",
    "PENDING": "yellow",
    "SCHEDULED": "yellow",
    "PAUSED": "yellow",
}


def state_text(state: State | None) -> Text:
    """The state's name, colored by its type (``-`` for a run without state)."""
    from rich.text import Text

    if state is None:
        return Text("-", style="dim")
    return Text(state.name, style=_STATE_STYLES.get(state.type.value, ""))


def state_json(state: State | None) -> dict[str, Any] | None:
    """A state as JSON: type, name, timestamps, message and error details."""
    if state is None:
        return None
    return {
        "type": state.type.value,
        "name": state.name,
        **timestamp_fields("timestamp", state.timestamp),
        "message": state.message,
        "error_type": state.error_type,
        "traceback": state.traceback,
        "data": state.data,
    }


def one_line(text: str | None, limit: int = 160) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"
