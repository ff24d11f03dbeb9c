"""The bodies of the deployment and work pool routes, as pydantic models (for the
OpenAPI document and for checking requests). Responses are the JSON form of
:mod:`cadenza.deploy.serialize`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleBody(Strict):
    """One of ``cron``, ``interval`` (seconds) or ``rrule``, with its timezone."""

    id: str | None = None
    kind: str | None = None
    cron: str | None = None
    interval: float | str | None = None
    anchor_date: str | None = None
    rrule: str | None = None
    timezone: str = "UTC"
    active: bool = True
    description: str | None = None


class DeploymentBody(Strict):
    """A deployment to create, or to update when one of the same flow and name exists."""

    id: str | None = None
    flow_name: str
    name: str
    full_name: str | None = None
    entrypoint: str
    path: str | None = None
    work_pool_name: str
    work_queue_name: str = "default"
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_schema: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    version: str | None = None
    paused: bool = False
    concurrency_limit: int | None = None
    catchup: str = "all"
    flow_retries: int = 0
    schedules: list[ScheduleBody] = Field(default_factory=list)
    created: str | None = None
    created_epoch: float | None = None
    updated: str | None = None
    updated_epoch: float | None = None
    now: float | None = None
    """The time of the change (seconds since the epoch); the server's clock by default."""


class RunBody(Strict):
    """A run of a deployment to create: its parameters (over the deployment's), when."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    start_at_epoch: float | None = None
    """When it is due (seconds since the epoch); now by default."""
    start_in_seconds: float | None = Field(default=None, ge=0)
    tags: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    """A second request with the same key creates nothing and answers the same run."""


class BackfillBody(Strict):
    start: str
    """ISO date or date-time, included; naive ones are in each schedule's timezone."""
    end: str
    """ISO date or date-time, excluded."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    param_from_date: list[str] = Field(default_factory=list)
    """``NAME`` or ``NAME=FORMAT``, as ``cadenza deployment backfill --param-from-date``."""


class PoolBody(Strict):
    name: str
    description: str | None = None
    paused: bool = False
    concurrency_limit: int | None = None
    now: float | None = None


class PoolChanges(Strict):
    """The fields to change; the others keep their values."""

    description: str | None = None
    paused: bool | None = None
    concurrency_limit: int | None = None


class QueueBody(Strict):
    name: str
    priority: int = 1
    concurrency_limit: int | None = None
    paused: bool = False
    description: str | None = None
    now: float | None = None


class QueueChanges(Strict):
    description: str | None = None
    priority: int | None = None
    paused: bool | None = None
    concurrency_limit: int | None = None


class ClaimBody(Strict):
    worker_id: str
    limit: int = Field(ge=0, le=1000)
    now: float | None = None
    queues: list[str] | None = None


class ScheduledRunsBody(Strict):
    """Runs to create, each as a ``flow_run_created`` event of :mod:`cadenza.events_json`."""

    runs: list[dict[str, Any]] = Field(max_length=10_000)


class MarkLateBody(Strict):
    before: float
    now: float | None = None
    limit: int = Field(default=1000, ge=0, le=10_000)


class StateChange(Strict):
    """A compare-and-set: the state to add if the run's state type is one of ``current``."""

    state: dict[str, Any]
    current: list[str]
