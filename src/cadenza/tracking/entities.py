"""What tracking records and returns: experiments, runs, params, metrics, tags, datasets.

The names and fields follow MLflow's entities (``run.info.run_id``,
``run.data.metrics["rmse"]``, ``Metric(key, value, timestamp, step)``), with
cadenza's conventions: times are seconds since the epoch (floats), and a run's
status is its state type (``COMPLETED``, ``FAILED``...).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple


class Metric(NamedTuple):
    """One point of a metric: its value at a step and a time."""

    key: str
    value: float
    timestamp: float
    """Seconds since the epoch."""
    step: int = 0


class Param(NamedTuple):
    """A parameter of a run: a string, set once."""

    key: str
    value: str


class RunTag(NamedTuple):
    """A tag of a run: a string that can be set again."""

    key: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs. Flow runs join the experiment named after their flow
    unless they say otherwise (``cadenza.set_experiment``)."""

    experiment_id: str
    name: str
    creation_time: float
    """Seconds since the epoch."""
    description: str | None = None
    run_count: int = 0
    """How many runs belong to it (flow runs and the task runs that logged something)."""
    last_run_time: float | None = None
    """When its newest run was created."""


@dataclasses.dataclass(frozen=True, slots=True)
class RunInfo:
    """What a run is: its id, kind, name, state and times."""

    run_id: str
    run_name: str
    kind: str
    """``flow`` for a flow run, ``task`` for a task run."""
    status: str | None
    """The type of its current state: ``RUNNING``, ``COMPLETED``, ``FAILED``..."""
    experiment_id: str | None
    """None for a task run that has logged nothing (it joins no experiment)."""
    flow_run_id: str | None
    """For a task run, its flow run; for a flow run, its own id."""
    start_time: float | None
    end_time: float | None
    created: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RunData:
    """What a run logged: params, the latest value of each metric, and tags."""

    params: dict[str, str] = dataclasses.field(default_factory=dict)
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.params or self.metrics or self.tags)


@dataclasses.dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset a run read, as ``cadenza.log_input`` recorded it."""

    name: str
    digest: str
    """A fingerprint of the content (``cadenza.hashing.hash_objects``)."""
    source: str | None = None
    """Where it came from (a path or URL)."""
    context: str | None = None
    """How the run used it: ``training``, ``validation``..."""
    schema: dict[str, str] | None = None
    """Column names and their dtypes, for a DataFrame or a structured array."""
    num_rows: int | None = None
    timestamp: float = 0.0
    """When it was logged, in seconds since the epoch."""
    profile: dict[str, Any] | None = None
    """Other facts: the type of the object, its shape."""


@dataclasses.dataclass(frozen=True, slots=True)
class Run:
    """A run with what it logged (``info``, ``data``) and the datasets it read."""

    info: RunInfo
    data: RunData
    inputs: list[Dataset] = dataclasses.field(default_factory=list)


class RunPage(list[Run]):
    """One page of runs; ``token`` gives the next page (None on the last one)."""

    def __init__(self, runs: list[Run], token: str | None = None) -> None:
        super().__init__(runs)
        self.token = token
