"""Query parameters shared by the routes, parsed and checked with errors that name them.

Times are ISO-8601 (``2026-01-31``, ``2026-01-31T08:00:00Z``, with an offset or
without, which means UTC) or seconds since the epoch (``1769846400``). States are
state types (``FAILED``) or state names (``Cached``, ``TimedOut``), in any case,
repeated or separated by commas.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

from fastapi import Query

from cadenza.server.api.errors import invalid
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter

MAX_PAGE = 500
"""The largest ``limit`` of a page of runs or artifacts."""
MAX_LOG_PAGE = 1000
"""The largest ``limit`` of a page of log lines or task runs."""

STATE_NAMES = (
    "Late",
    "AwaitingRetry",
    "Retrying",
    "Cached",
    "TimedOut",
)
"""State names that are not state types (those are accepted as types)."""
_TYPES = {t.value.lower(): t for t in StateType}
_NAMES = {n.lower(): n for n in STATE_NAMES}

_TIME_HELP = "ISO-8601 (2026-01-31T08:00:00Z; no offset means UTC) or seconds since the epoch"


def parse_time(field: str, value: str | None) -> float | None:
    """Seconds since the epoch from ``value`` (see the module); None stays None."""
    if value is None:
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or not 0 <= number < 253402300800:
            raise invalid(field, f"{value!r} is not a time: give {_TIME_HELP}.")
        return number
    try:
        moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise invalid(field, f"{value!r} is not a time: give {_TIME_HELP}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def parse_states(field: str, values: Iterable[str]) -> tuple[list[StateType], list[str]]:
    """State types and state names from ``values``."""
    types: list[StateType] = []
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            word = part.strip().lower()
            if not word:
                continue
            if word in _TYPES:
                types.append(_TYPES[word])
            elif word in _NAMES:
                names.append(_NAMES[word])
            else:
                allowed = ", ".join([*(t.value for t in StateType), *STATE_NAMES])
                raise invalid(
                    field,
                    f"{part.strip()!r} is neither a state type nor a state name: use {allowed}.",
                )
    return types, names


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}


def parse_level(field: str, value: str | None) -> int:
    """A minimum logging level from a name (any case) or a number; 0 for None."""
    if value is None:
        return 0
    text = value.strip().upper()
    if text in _LEVELS:
        return _LEVELS[text]
    if text.isdigit() and int(text) <= 100:
        return int(text)
    raise invalid(
        field,
        f"{value!r} is not a logging level: use DEBUG, INFO, WARNING, ERROR, CRITICAL "
        "or a number from 0 to 100.",
    )


_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_span(field: str, value: str) -> float:
    """Seconds from ``3600``, ``90s``, ``30m``, ``1h``, ``1d`` or ``1w``; above zero."""
    match = _SPAN.match(value)
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()] if match else 0.0
    if seconds <= 0:
        raise invalid(
            field, f"{value!r} is not a duration: give seconds (3600) or 90s, 30m, 1h, 1d, 1w."
        )
    return seconds


# -- the filters of flow runs, as one dependency ---------------------------------------------
def flow_run_filter(
    flow: str | None = Query(None, description="Only runs of the flow with this name."),
    state: list[str] = Query(
        [],
        description="Only runs whose current state has one of these types (FAILED) or "
        "names (Cached, TimedOut); repeat the parameter or separate values with commas.",
    ),
    tag: list[str] = Query([], description="Only runs having every one of these tags."),
    since: str | None = Query(None, description=f"Runs created at or after: {_TIME_HELP}."),
    until: str | None = Query(None, description=f"Runs created before: {_TIME_HELP}."),
    parent: str | None = Query(None, description="Only subflow runs of the flow run with this id."),
    top_level: bool = Query(False, description="Only runs that are not subflow runs."),
) -> FlowRunFilter:
    """The flow-run filter of a request's query parameters."""
    types, names = parse_states("state", state)
    start = parse_time("since", since)
    end = parse_time("until", until)
    if start is not None and end is not None and start >= end:
        raise invalid("until", "must be later than 'since'.")
    for t in tag:
        if not t:
            raise invalid("tag", "a tag cannot be empty.")
    return FlowRunFilter(
        flow_name=flow or None,
        state_types=types or None,
        state_names=names or None,
        tags=list(tag) or None,
        since=start,
        until=end,
        parent_flow_run_id=parent or None,
        top_level_only=top_level,
    )


def cursor_param(
    cursor: str | None = Query(
        None,
        min_length=1,
        max_length=64,
        description="The next_cursor of the previous page; omit it for the first page.",
    ),
) -> str | None:
    return cursor
