"""The JSON of the tracking API (experiments, runs' params, metrics, tags, datasets and
artifact files), as pydantic models, and their conversion from the store's records.

Times are given twice, as the rest of the API does: ISO-8601 in UTC and seconds since
the epoch (``*_epoch``). Metric values that JSON cannot hold are the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cadenza.events_json import json_number
from cadenza.server.api.convert import iso
from cadenza.store.tracking_base import MAX_RESULTS, ExperimentKeys
from cadenza.tracking import entities
from cadenza.tracking.artifacts import ArtifactFile
from cadenza.tracking.values import MAX_EXPERIMENT_NAME, MAX_KEY_LENGTH, MAX_PARAM_LENGTH

Number = float | str
"""A number, or "NaN", "Infinity", "-Infinity"."""


# -- experiments -------------------------------------------------------------------------
class Experiment(BaseModel):
    """A named group of runs (flow runs, and the task runs that logged something)."""

    experiment_id: str
    name: str
    description: str | None
    creation_time: str | None
    creation_time_epoch: float
    run_count: int
    last_run_time: str | None
    """When its newest run was created."""
    last_run_time_epoch: float | None


class ExperimentList(BaseModel):
    items: list[Experiment]


class ExperimentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_EXPERIMENT_NAME)
    description: str | None = Field(None, max_length=10_000)


class Keys(BaseModel):
    """The keys that runs of an experiment logged, each sorted."""

    params: list[str]
    metrics: list[str]
    tags: list[str]


# -- runs ----------------------------------------------------------------------------------
class RunInfo(BaseModel):
    run_id: str
    run_name: str
    kind: str
    """``flow`` (a flow run) or ``task`` (a task run)."""
    status: str | None
    """The type of the run's current state (``COMPLETED``, ``FAILED``...)."""
    experiment_id: str | None
    """null for a task run that logged nothing."""
    flow_run_id: str | None
    start_time: str | None
    start_time_epoch: float | None
    end_time: str | None
    end_time_epoch: float | None
    created: str | None
    created_epoch: float | None
    duration_seconds: float | None


class RunData(BaseModel):
    """Params, the latest value of each metric, and tags."""

    params: dict[str, str]
    metrics: dict[str, Number]
    tags: dict[str, str]


class Dataset(BaseModel):
    name: str
    digest: str
    source: str | None
    context: str | None
    columns: dict[str, str] | None
    """Column names and dtypes."""
    num_rows: int | None
    profile: dict[str, Any] | None
    timestamp: str | None
    timestamp_epoch: float | None


class DatasetList(BaseModel):
    items: list[Dataset]


class Run(BaseModel):
    info: RunInfo
    data: RunData
    inputs: list[Dataset]


class RunPage(BaseModel):
    """One page of runs; pass ``next_page_token`` as ``page_token`` for the next one."""

    runs: list[Run]
    next_page_token: str | None


class SearchRuns(BaseModel):
    experiment_ids: list[str] = Field(max_length=1000)
    filter: str = Field("", max_length=10_000, description="See the filter grammar.")
    order_by: list[str] = Field([], max_length=20)
    max_results: int = Field(1000, ge=1, le=MAX_RESULTS)
    page_token: str | None = Field(None, max_length=200)


class MetricPoint(BaseModel):
    value: Number
    timestamp: str | None
    timestamp_epoch: float
    step: int


class MetricHistory(BaseModel):
    run_id: str
    key: str
    items: list[MetricPoint]
    """Every point, by step, then time."""


class MetricIn(BaseModel):
    key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH)
    value: Number
    timestamp: float | None = Field(None, description="Seconds since the epoch; now if null.")
    step: int = 0


class ParamIn(BaseModel):
    key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH)
    value: str = Field(max_length=MAX_PARAM_LENGTH)


class TagIn(BaseModel):
    key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH)
    value: str


class LogBatch(BaseModel):
    metrics: list[MetricIn] = Field([], max_length=100_000)
    params: list[ParamIn] = Field([], max_length=1_000)
    tags: list[TagIn] = Field([], max_length=1_000)


class DatasetIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    digest: str = Field(min_length=1, max_length=64)
    source: str | None = None
    context: str | None = Field(None, max_length=255)
    schema_: dict[str, str] | None = Field(None, alias="schema")
    num_rows: int | None = None
    profile: dict[str, Any] | None = None
    timestamp_epoch: float | None = None


class DatasetsIn(BaseModel):
    datasets: list[DatasetIn] = Field(max_length=1_000)


class Logged(BaseModel):
    run_id: str
    metrics: int
    params: int
    tags: int


# -- artifact files ------------------------------------------------------------------------
class ArtifactEntry(BaseModel):
    path: str
    """Relative to the run's root, with forward slashes."""
    is_dir: bool
    size: int | None
    """Bytes of a file; null for a folder."""


class ArtifactListing(BaseModel):
    run_id: str
    path: str
    entry: ArtifactEntry | None
    """What ``path`` is: a file, a folder, or null when there is nothing there."""
    files: list[ArtifactEntry]
    """What the folder holds (every file below it with ``recursive``)."""


class ArtifactStored(BaseModel):
    run_id: str
    path: str
    size: int


# -- from the store's records --------------------------------------------------------------
def experiment(e: entities.Experiment) -> Experiment:
    return Experiment(
        experiment_id=e.experiment_id,
        name=e.name,
        description=e.description,
        creation_time=iso(e.creation_time),
        creation_time_epoch=e.creation_time,
        run_count=e.run_count,
        last_run_time=iso(e.last_run_time),
        last_run_time_epoch=e.last_run_time,
    )


def keys(k: ExperimentKeys) -> Keys:
    return Keys(params=k.params, metrics=k.metrics, tags=k.tags)


def run_info(i: entities.RunInfo) -> RunInfo:
    duration = None
    if i.start_time is not None and i.end_time is not None:
        duration = i.end_time - i.start_time
    return RunInfo(
        run_id=i.run_id,
        run_name=i.run_name,
        kind=i.kind,
        status=i.status,
        experiment_id=i.experiment_id,
        flow_run_id=i.flow_run_id,
        start_time=iso(i.start_time),
        start_time_epoch=i.start_time,
        end_time=iso(i.end_time),
        end_time_epoch=i.end_time,
        created=iso(i.created),
        created_epoch=i.created,
        duration_seconds=duration,
    )


def run_data(d: entities.RunData) -> RunData:
    return RunData(
        params=d.params,
        metrics={k: json_number(v) for k, v in d.metrics.items()},
        tags=d.tags,
    )


def dataset(d: entities.Dataset) -> Dataset:
    return Dataset(
        name=d.name,
        digest=d.digest,
        source=d.source,
        context=d.context,
        columns=d.schema,
        num_rows=d.num_rows,
        profile=d.profile,
        timestamp=iso(d.timestamp),
        timestamp_epoch=d.timestamp,
    )


def run(r: entities.Run) -> Run:
    return Run(info=run_info(r.info), data=run_data(r.data), inputs=[dataset(d) for d in r.inputs])


def metric_point(m: entities.Metric) -> MetricPoint:
    return MetricPoint(
        value=json_number(m.value),
        timestamp=iso(m.timestamp),
        timestamp_epoch=m.timestamp,
        step=m.step,
    )


def artifact_entry(f: ArtifactFile) -> ArtifactEntry:
    return ArtifactEntry(path=f.path, is_dir=f.is_dir, size=f.size)
