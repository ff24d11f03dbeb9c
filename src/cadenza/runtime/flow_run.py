"""The current flow run: ``cadenza.runtime.flow_run.<attribute>``.

Attributes (None, or empty, outside a flow run):

* ``id``, ``name``, ``flow_name``, ``tags``, ``parameters``, ``run_count``,
  ``parent_flow_run_id``, ``deployment_id``;
* ``scheduled_start_time``: when the run was due to start, as an aware datetime in
  the timezone of the schedule that made it (UTC otherwise): for a run of a
  schedule or a backfill, the schedule's time, whatever time it actually started
  (pick the month of data to process from it); for a flow called directly, when it
  was created. Outside a flow run, the current time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

ATTRIBUTES = (
    "deployment_id",
    "flow_name",
    "id",
    "name",
    "parameters",
    "parent_flow_run_id",
    "run_count",
    "scheduled_start_time",
    "tags",
)
"""The attributes this module answers."""


def _run() -> Any:
    from cadenza.context import FlowRunContext

    ctx = FlowRunContext.get()
    return None if ctx is None else ctx.flow_run


def _schedule_data(run: Any) -> dict[str, Any]:
    """The details its schedule recorded in the run's first Scheduled state."""
    history = run.history if run.history is not None else [run.state] if run.state else []
    for state in history:
        if state.name == "Scheduled":
            return dict(state.data or {})
    return {}


def scheduled_time_of(run: Any) -> dt.datetime:
    """When ``run`` was due to start, in its schedule's timezone (see the module)."""
    data = _schedule_data(run)
    tz: dt.tzinfo = dt.UTC
    name = data.get("timezone")
    if isinstance(name, str):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            tz = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    when = data.get("schedule_time")
    if not isinstance(when, int | float):
        when = run.expected_start_time if run.expected_start_time is not None else run.created
    return dt.datetime.fromtimestamp(when, tz)


def _scheduled_start_time() -> dt.datetime:
    run = _run()
    if run is None:
        return dt.datetime.now(dt.UTC)
    return scheduled_time_of(run)


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": lambda r: r.id,
    "name": lambda r: r.name,
    "flow_name": lambda r: r.flow_name,
    "tags": lambda r: list(r.tags),
    "parameters": lambda r: dict(r.parameters),
    "run_count": lambda r: r.run_count,
    "parent_flow_run_id": lambda r: r.parent_flow_run_id,
    "deployment_id": lambda r: r.deployment_id,
}
_EMPTY: dict[str, Any] = {"tags": [], "parameters": {}, "run_count": 0}


def __getattr__(name: str) -> Any:
    if name == "scheduled_start_time":
        return _scheduled_start_time()
    getter = _FIELDS.get(name)
    if getter is None:
        raise AttributeError(
            f"cadenza.runtime.flow_run has no attribute {name!r}; it has {', '.join(ATTRIBUTES)}."
        )
    run = _run()
    if run is None:
        empty = _EMPTY.get(name)
        return type(empty)() if empty is not None else None
    return getter(run)
