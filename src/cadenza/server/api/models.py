"""The JSON the API answers with, as pydantic models (documented in the OpenAPI schema).

Every time is given twice: as ISO-8601 in UTC (``created``) and as seconds since the
epoch (``created_epoch``), as the command line's ``--json`` does. Absent values are
``null``, never missing keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cadenza.states import StateType


class State(BaseModel):
    """One state of a run: its type (the phase) and its name (what users see)."""

    type: StateType
    name: str
    timestamp: str | None
    timestamp_epoch: float | None
    message: str | None = None
    error_type: str | None = None
    """Qualified name of the exception class of a failure."""
    traceback: str | None = None
    data: dict[str, Any] | None = None
    """Details such as ``scheduled_time``, ``result``, ``cache_key``, ``cached_from``."""


class StateSummary(BaseModel):
    """The type and name of a state, and when it was entered."""

    type: StateType
    name: str
    timestamp: str | None
    timestamp_epoch: float | None


# -- flows ---------------------------------------------------------------------------------
class Flow(BaseModel):
    """A flow known to the server, with its run count and latest run."""

    id: str
    name: str
    created: str | None
    created_epoch: float | None
    run_count: int
    last_run: str | None
    """When the latest run was created."""
    last_run_epoch: float | None
    last_state: StateSummary | None
    """The current state of the latest run."""


class FlowList(BaseModel):
    items: list[Flow]


# -- flow runs -----------------------------------------------------------------------------
class FlowRun(BaseModel):
    """A flow run as listed: everything but its state history."""

    id: str
    name: str
    flow_name: str
    state: State | None
    parameters: dict[str, Any]
    tags: list[str]
    parent_flow_run_id: str | None
    """For a subflow run, the flow run that called it."""
    parent_task_run_id: str | None
    created: str | None
    created_epoch: float | None
    start_time: str | None
    start_time_epoch: float | None
    end_time: str | None
    end_time_epoch: float | None
    duration_seconds: float | None
    run_count: int
    """How many times the run entered a Running state (more than 1 after a retry)."""
    version: str | None
    hostname: str | None
    pid: int | None
    entrypoint: str | None
    """Where the flow function lives (``path/file.py:function`` or ``module:function``)."""
    deployment_id: str | None = None
    """The deployment the run was created from (null for a flow called directly)."""
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    expected_start_time: str | None = None
    """When a run of a deployment is due to start."""
    expected_start_time_epoch: float | None = None
    idempotency_key: str | None = None
    worker_id: str | None = None
    """The worker that claimed the run."""
    heartbeat: str | None = None
    heartbeat_epoch: float | None = None


class FlowRunDetail(FlowRun):
    """A flow run with its state history and what can be done with it."""

    history: list[State]
    """Every state the run went through, oldest first."""
    task_run_counts: dict[str, int]
    """How many of its task runs are in each state type (subflows' not included)."""
    can_cancel: bool
    """Whether ``POST .../cancel`` would be accepted: the run is not in a final state."""
    can_retry: bool
    """Whether ``POST .../retry`` would be accepted: the run failed, crashed or was
    cancelled, and recorded its entrypoint."""


class FlowRunPage(BaseModel):
    """One page of flow runs; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[FlowRun]
    next_cursor: str | None = Field(description="null on the last page")


class Count(BaseModel):
    count: int


class StatsBucket(BaseModel):
    """The runs created in one time bucket, by the state type they are in now."""

    start: str
    start_epoch: float
    counts: dict[str, int]
    total: int


class FlowRunStats(BaseModel):
    """Counts of flow runs by state type, in all and per time bucket."""

    since: str
    since_epoch: float
    until: str
    until_epoch: float
    bucket_seconds: float
    totals: dict[str, int]
    """Runs created in the period, by state type."""
    total: int
    buckets: list[StatsBucket]
    """Every bucket of the period, oldest first, empty ones included."""


# -- task runs -----------------------------------------------------------------------------
class TaskRunRow(BaseModel):
    """A task run as listed in its flow run: compact, for runs of many task runs."""

    id: str
    name: str
    kind: str
    """``task``, or ``subflow`` for the slot of a subflow run."""
    subflow_run_id: str | None
    state_type: StateType | None
    state_name: str | None
    start_time: str | None
    start_time_epoch: float | None
    end_time: str | None
    end_time_epoch: float | None
    duration_seconds: float | None
    run_count: int


class TaskRunPage(BaseModel):
    """One page of task runs, oldest first; pass ``next_cursor`` as ``cursor``."""

    items: list[TaskRunRow]
    next_cursor: str | None


class ResultInfo(BaseModel):
    """Where a task run's persisted result is stored."""

    location: str
    serializer: str | None
    cache_key: str | None


class CacheInfo(BaseModel):
    """Where a cached task run's result came from."""

    cache_key: str | None
    cached_from: str | None
    """The id of the task run that computed the result."""
    expires: str | None
    expires_epoch: float | None


class TaskRunDetail(BaseModel):
    """A task run with its inputs, state history and result provenance."""

    id: str
    name: str
    task_key: str
    kind: str
    flow_run_id: str | None
    subflow_run_id: str | None
    parent_task_run_id: str | None
    dynamic_key: int
    state: State | None
    inputs: dict[str, Any] | None
    """A summary of each argument (type, size or small value), or the ids of the
    upstream task runs it came from."""
    tags: list[str]
    created: str | None
    created_epoch: float | None
    start_time: str | None
    start_time_epoch: float | None
    end_time: str | None
    end_time_epoch: float | None
    duration_seconds: float | None
    run_count: int
    retries: int
    version: str | None
    history: list[State]
    result: ResultInfo | None
    """Set when the result was persisted (or read from the cache)."""
    cache: CacheInfo | None
    """Set when the run was Cached: the result of an earlier task run was reused."""


# -- logs ----------------------------------------------------------------------------------
class LogLine(BaseModel):
    id: int
    flow_run_id: str | None
    task_run_id: str | None
    level: int
    level_name: str
    logger: str
    message: str
    timestamp: str | None
    timestamp_epoch: float | None


class LogPage(BaseModel):
    """Log lines in the order written. To follow a run, pass ``next_after_id`` as
    ``after_id`` again and again: it is the id of the last line seen."""

    items: list[LogLine]
    next_after_id: int | None
    has_more: bool
    """Whether more lines were written after these (the limit was reached)."""


# -- artifacts -----------------------------------------------------------------------------
class ArtifactSummary(BaseModel):
    """An artifact as listed (without its content)."""

    id: str
    key: str | None
    type: str
    """``markdown``, ``table`` or ``link``."""
    description: str | None
    flow_run_id: str | None
    task_run_id: str | None
    created: str | None
    created_epoch: float | None
    version: int | None
    """Its rank among the artifacts of its key, from 1 (null without a key)."""


class Artifact(ArtifactSummary):
    """An artifact with its content."""

    data: Any
    """The markdown text; ``{"columns", "rows"}`` for a table; ``{"link", "link_text"}``
    for a link."""


class ArtifactPage(BaseModel):
    """One page of artifacts, newest first; pass ``next_cursor`` as ``cursor``."""

    items: list[ArtifactSummary]
    next_cursor: str | None


# -- actions ------------------------------------------------------------------------------
class CancelResult(BaseModel):
    flow_run: FlowRunDetail
    signal_sent: bool
    """Whether SIGTERM was sent to the run's process (only on this server's machine)."""
    message: str


class RetryResult(BaseModel):
    flow_run: FlowRunDetail
    pid: int
    """The process resuming the run (``cadenza runs retry``)."""
    message: str


class Health(BaseModel):
    status: str
    version: str
