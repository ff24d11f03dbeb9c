"""What a model version's page shows of where it came from: the run that logged it,
its flow run and task runs, parameters, metrics, the datasets it read, and the
logged model's signature and requirements.

Parameters and metrics recorded with ``log_param``/``log_metric`` and the datasets
recorded with ``log_input`` come from the tracking store (``get_run_data`` and
``list_datasets``), of the run that logged the model and of its flow run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cadenza.registry.entities import LoggedModel, ModelVersion
from cadenza.runs import FlowRun, TaskRun
from cadenza.store.base import RunStore
from cadenza.store.registry_base import RegistryStore
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.entities import Dataset

TASKS_SHOWN = 100


@dataclasses.dataclass(slots=True)
class Lineage:
    flow_run: FlowRun | None
    task_run: TaskRun | None
    """The task run that logged the model, when a task did."""
    task_runs: list[TaskRun]
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    datasets: list[Dataset]
    logged: LoggedModel | None


def lineage(store: RunStore, registry: RegistryStore, version: ModelVersion) -> Lineage:
    """Everything known of the runs behind ``version``."""
    flow_run = store.read_flow_run(version.flow_run_id) if version.flow_run_id else None
    task_run = None
    if version.run_id and version.run_id != version.flow_run_id:
        task_run = store.read_task_run(version.run_id)
    task_runs = store.list_task_runs(flow_run.id, limit=TASKS_SHOWN) if flow_run else []
    parameters: dict[str, Any] = dict(flow_run.parameters) if flow_run else {}
    metrics: dict[str, Any] = {}
    datasets: list[Dataset] = []
    if isinstance(store, TrackingStore):
        for run_id in dict.fromkeys(r for r in (version.flow_run_id, version.run_id) if r):
            data = store.get_run_data(run_id)
            parameters.update(data.params)
            metrics.update(data.metrics)
            datasets += store.list_datasets(run_id)
    logged = None
    if version.run_id:
        for m in registry.list_logged_models(version.run_id):
            if m.model_uri == version.source:
                logged = m
    return Lineage(flow_run, task_run, task_runs, parameters, metrics, datasets, logged)
