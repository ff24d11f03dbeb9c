"""Records of flows, flow runs, task runs, log lines and artifacts.

The engine creates and updates these while a run executes; the store returns them
when runs are read back. Hooks receive them (``on_failure(task, task_run, state)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cadenza.states import State


@dataclasses.dataclass(slots=True, eq=False)
class FlowRun:
    """One execution of a flow.

    The identity fields are set when the run is created and never change; ``state``,
    ``run_count``, ``start_time`` and ``end_time`` follow the run.
    """

    id: str
    name: str
    flow_name: str
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    tags: list[str] = dataclasses.field(default_factory=list)
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    created: float = 0.0
    version: str | None = None
    hostname: str | None = None
    pid: int | None = None
    state: State | None = None
    run_count: int = 0
    start_time: float | None = None
    end_time: float | None = None
    history: list[State] | None = None
    """Every state the run went through, oldest first (only when read from the store)."""
    entrypoint: str | None = None
    """Where the flow function lives: ``path/to/file.py:function`` or ``module:function``."""
    deployment_id: str | None = None
    """The deployment this run was created from (None for a flow called directly)."""
    work_pool_name: str | None = None
    """The work pool whose workers may run it."""
    work_queue_name: str | None = None
    expected_start_time: float | None = None
    """When the run is due to start (its scheduled time), for runs of a deployment."""
    idempotency_key: str | None = None
    """Unique among the runs of its deployment: creating a run with a key taken
    already creates nothing (``scheduled:<time>`` for the scheduler's runs)."""
    worker_id: str | None = None
    """The worker that claimed the run."""
    heartbeat: float | None = None
    """When the worker running it last said it was alive."""

    @property
    def duration(self) -> float | None:
        if self.start_time is None:
            return None
        if self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclasses.dataclass(slots=True, eq=False)
class TaskRun:
    """One execution of a task (or the slot of a subflow run inside a flow run).

    ``parameters`` holds the live argument values while the run executes and is never
    stored; ``inputs`` holds what is stored about them: a short summary of each
    value, or the id of the upstream task run it came from.
    """

    id: str
    name: str
    task_key: str
    flow_run_id: str | None
    dynamic_key: int = 0
    created: float = 0.0
    tags: list[str] = dataclasses.field(default_factory=list)
    parent_task_run_id: str | None = None
    kind: str = "task"
    """``task``, or ``subflow`` for the slot of a subflow run."""
    subflow_run_id: str | None = None
    version: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: dict[str, Any] | None = None
    upstream: dict[str, list[str]] | None = None
    """Ids of the task runs each parameter's value came from (futures, ``wait_for``)."""
    state: State | None = None
    run_count: int = 0
    start_time: float | None = None
    end_time: float | None = None
    history: list[State] | None = None

    @property
    def duration(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclasses.dataclass(slots=True)
class FlowRecord:
    """A flow known to the store."""

    id: str
    name: str
    created: float
    run_count: int = 0
    last_run_created: float | None = None
    last_state: State | None = None


@dataclasses.dataclass(slots=True)
class LogEntry:
    """One log line of a flow run or task run."""

    flow_run_id: str | None
    task_run_id: str | None
    level: int
    name: str
    message: str
    timestamp: float
    id: int | None = None


@dataclasses.dataclass(slots=True)
class Artifact:
    """A markdown text, a table or a link created by a run (or outside any run).

    ``data`` depends on ``type``: the markdown text for ``markdown``; for ``table``,
    ``{"columns": [...] or None, "rows": [[...], ...]}``; for ``link``,
    ``{"link": ..., "link_text": ... or None}``. Artifacts sharing a ``key`` are the
    versions of one artifact; the newest is the current one.
    """

    id: str
    type: str
    """``markdown``, ``table`` or ``link``."""
    data: Any
    key: str | None = None
    description: str | None = None
    flow_run_id: str | None = None
    task_run_id: str | None = None
    created: float = 0.0
    version: int | None = None
    """Its rank among the artifacts of its key, oldest first, from 1 (None without a key)."""
