"""How the pages show times, durations, states, values and log levels."""

from __future__ import annotations

import datetime as _dt
import json
import time
from typing import Any

from cadenza.states import State, StateType
from cadenza.utilities.formatting import format_duration

_LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}

STATE_CLASSES: dict[str, str] = {
    "Completed": "completed",
    "Cached": "cached",
    "Failed": "failed",
    "TimedOut": "failed",
    "Crashed": "crashed",
    "Cancelled": "cancelled",
    "Cancelling": "cancelled",
    "Running": "running",
    "Retrying": "running",
    "Pending": "pending",
    "Scheduled": "scheduled",
    "AwaitingRetry": "scheduled",
    "Late": "late",
    "Paused": "paused",
}
"""CSS class of each state name; other names take their type's class."""

_TYPE_CLASSES: dict[StateType, str] = {
    StateType.COMPLETED: "completed",
    StateType.FAILED: "failed",
    StateType.CRASHED: "crashed",
    StateType.CANCELLED: "cancelled",
    StateType.CANCELLING: "cancelled",
    StateType.RUNNING: "running",
    StateType.PENDING: "pending",
    StateType.SCHEDULED: "scheduled",
    StateType.PAUSED: "paused",
}


def state_class(state: State | None) -> str:
    """The CSS class of a state's badge and bars (``none`` without a state)."""
    if state is None:
        return "none"
    return STATE_CLASSES.get(state.name) or _TYPE_CLASSES.get(state.type, "none")


def type_class(state_type: StateType | str) -> str:
    return _TYPE_CLASSES.get(StateType(state_type), "none")


def iso_utc(ts: float | None) -> str:
    """``2026-01-31T08:00:00.250Z``; empty for None."""
    if ts is None:
        return ""
    moment = _dt.datetime.fromtimestamp(ts, tz=_dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def short_time(ts: float | None, *, ms: bool = False) -> str:
    """A time in UTC for the page (the browser turns it into its own local time)."""
    if ts is None:
        return "-"
    moment = _dt.datetime.fromtimestamp(ts, tz=_dt.UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if ms:
        text += f".{moment.microsecond // 1000:03d}"
    return text + " UTC"


def clock_time(ts: float | None) -> str:
    """``08:00:00.250`` (UTC) for log lines."""
    if ts is None:
        return "-"
    moment = _dt.datetime.fromtimestamp(ts, tz=_dt.UTC)
    return moment.strftime("%H:%M:%S") + f".{moment.microsecond // 1000:03d}"


def duration(seconds: float | None) -> str:
    """``850ms``, ``1.2s``, ``3m04s``, ``2h05m``, ``3d04h``; ``-`` if None."""
    return format_duration(seconds)


def run_duration(run: Any, now: float | None = None) -> str:
    """The duration of a flow run or task run; a running one shows its time so far."""
    start, end, state = run.start_time, run.end_time, run.state
    if start is not None and end is not None:
        return duration(end - start)
    if start is not None and state is not None and not state.is_final():
        return duration((time.time() if now is None else now) - start) + "…"
    return "-"


def ago(ts: float | None, now: float | None = None) -> str:
    """``5s ago``, ``3m ago``, ``2h ago``, ``4d ago``."""
    if ts is None:
        return "-"
    delta = max((time.time() if now is None else now) - ts, 0.0)
    if delta < 60:
        return f"{int(delta)}s ago"
    if delta < 3600:
        return f"{int(delta // 60)}m ago"
    if delta < 86400:
        return f"{int(delta // 3600)}h ago"
    return f"{int(delta // 86400)}d ago"


def level_name(level: int) -> str:
    return _LEVEL_NAMES.get(level, f"Level {level}")


def level_class(level: int) -> str:
    if level >= 40:
        return "error"
    if level >= 30:
        return "warning"
    if level < 20:
        return "debug"
    return "info"


def json_value(value: Any, limit: int = 2000) -> str:
    """A value as indented JSON text, cut at ``limit`` characters."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return text


def one_line(text: str | None, limit: int = 160) -> str:
    """The first line of ``text``, cut at ``limit`` characters."""
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) > limit:
        return first[: limit - 1] + "…"
    if first != text.strip():
        return first + " …"
    return first


def input_text(summary: Any) -> str:
    """One stored input of a task run: its value, its type and size, or its source."""
    if not isinstance(summary, dict):
        return json.dumps(summary, ensure_ascii=False, default=str)
    if "upstream" in summary:
        ids = summary["upstream"]
        ids = ids if isinstance(ids, list) else [ids]
        return "from task run " + ", ".join(str(i) for i in ids)
    kind = str(summary.get("type", "?"))
    if "value" in summary:
        value = json.dumps(summary["value"], ensure_ascii=False, default=str)
        return f"{one_line(value, 300)} ({kind})"
    if "shape" in summary:
        return f"{kind} of shape {'x'.join(str(n) for n in summary['shape'])}"
    if "len" in summary:
        return f"{kind} of length {summary['len']}"
    return kind


def retries(run_count: int) -> str:
    """``1 retry``, ``3 retries``; empty for a run that ran once or never."""
    n = run_count - 1
    if n < 1:
        return ""
    return f"{n} {'retry' if n == 1 else 'retries'}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


FILTERS = {
    "state_class": state_class,
    "type_class": type_class,
    "iso_utc": iso_utc,
    "short_time": short_time,
    "clock_time": clock_time,
    "duration": duration,
    "run_duration": run_duration,
    "ago": ago,
    "level_name": level_name,
    "level_class": level_class,
    "json_value": json_value,
    "one_line": one_line,
    "input_text": input_text,
    "retries": retries,
    "plural": plural,
}
"""The filters every template can use."""
