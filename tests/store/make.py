"""Building runs, states and the events that record them, for store tests."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from typing import Any

from cadenza.events import (
    ArtifactCreated,
    Event,
    FlowRunCreated,
    FlowRunStateChanged,
    LogEmitted,
    TaskRunCreated,
    TaskRunStateChanged,
)
from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import Completed, Failed, Pending, Running, State
from cadenza.utilities.ids import uuid7

T0 = 1_750_000_000.0
"""A fixed epoch for tests: every timestamp below is T0 plus something."""


class Clock:
    """Timestamps that go up by one millisecond at each call."""

    def __init__(self, start: float = T0) -> None:
        self._ticks = itertools.count()
        self.start = start

    def __call__(self) -> float:
        return self.start + next(self._ticks) / 1000


def flow_run(
    flow_name: str = "pipeline",
    *,
    created: float = T0,
    tags: Iterable[str] = (),
    parent: FlowRun | None = None,
    parent_task_run: TaskRun | None = None,
    **fields: Any,
) -> FlowRun:
    return FlowRun(
        id=uuid7(),
        name=fields.pop("name", f"{flow_name}-run"),
        flow_name=flow_name,
        created=created,
        tags=sorted(tags),
        parent_flow_run_id=parent.id if parent is not None else None,
        parent_task_run_id=parent_task_run.id if parent_task_run is not None else None,
        **fields,
    )


def task_run(
    flow: FlowRun | None, *, name: str = "task-0", created: float = T0, **fields: Any
) -> TaskRun:
    return TaskRun(
        id=uuid7(),
        name=name,
        task_key=fields.pop("task_key", "tests.task"),
        flow_run_id=flow.id if flow is not None else None,
        created=created,
        **fields,
    )


def create(run: FlowRun | TaskRun, first: State | None = None) -> Event:
    if isinstance(run, FlowRun):
        return FlowRunCreated(run, first)
    return TaskRunCreated(run, first)


def change(run: FlowRun | TaskRun, state: State) -> Event:
    if isinstance(run, FlowRun):
        return FlowRunStateChanged(run.id, state)
    return TaskRunStateChanged(run.id, state)


def lifecycle(run: FlowRun | TaskRun, *states: State) -> list[Event]:
    """The creation of ``run`` followed by a change to each of ``states``."""
    return [create(run), *(change(run, s) for s in states)]


def completed(run: FlowRun | TaskRun, clock: Clock) -> list[Event]:
    """Pending -> Running -> Completed, the usual path."""
    return lifecycle(
        run,
        Pending(timestamp=run.created),
        Running(timestamp=clock()),
        Completed(timestamp=clock()),
    )


def failed(run: FlowRun | TaskRun, clock: Clock, message: str = "ValueError: bad") -> list[Event]:
    return lifecycle(
        run,
        Pending(timestamp=run.created),
        Running(timestamp=clock()),
        Failed(timestamp=clock(), message=message, error_type="ValueError"),
    )


def log(
    run: FlowRun | TaskRun,
    message: str,
    *,
    timestamp: float,
    level: int = logging.INFO,
    name: str = "tests",
) -> Event:
    if isinstance(run, FlowRun):
        entry = LogEntry(run.id, None, level, name, message, timestamp)
    else:
        entry = LogEntry(run.flow_run_id, run.id, level, name, message, timestamp)
    return LogEmitted(entry)


def artifact(
    run: FlowRun | TaskRun | None = None,
    *,
    key: str | None = None,
    type: str = "markdown",
    data: str = '"# report"',
    description: str | None = None,
    created: float = T0,
) -> ArtifactCreated:
    """The creation of an artifact of ``run`` (a flow run, a task run or no run)."""
    if isinstance(run, FlowRun):
        flow_run_id, task_run_id = run.id, None
    elif isinstance(run, TaskRun):
        flow_run_id, task_run_id = run.flow_run_id, run.id
    else:
        flow_run_id = task_run_id = None
    return ArtifactCreated(
        id=uuid7(),
        type=type,
        data=data,
        key=key,
        description=description,
        flow_run_id=flow_run_id,
        task_run_id=task_run_id,
        created=created,
    )


def names(history: Iterable[State] | None) -> list[str]:
    return [s.name for s in history or ()]
