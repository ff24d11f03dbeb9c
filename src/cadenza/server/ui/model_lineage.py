"""What a model version's page shows of where it came from: the run that logged it,
its flow run and task runs, parameters, metrics, the datasets it read, and the
logged model's signature and requirements.

Parameters and metrics recorded with ``log_param``/``log_metric`` and the datasets
recorded with ``log_input`` come from the tracking store methods ``get_run_data`` and
``list_datasets`` when the store has them; this module is the only place that asks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cadenza.registry.entities import LoggedModel, ModelVersion
from cadenza.runs import FlowRun, TaskRun
from cadenza.store.base import RunStore
from cadenza.store.registry_base import RegistryStore

TASKS_SHOWN = 100


@dataclasses.dataclass(slots=True)
class Lineage:
    flow_run: FlowRun | None
    task_run: TaskRun | None
    """The task run that logged the model, when a task did."""
    task_runs: list[TaskRun]
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    datasets: list[Any]
    logged: LoggedModel | None


def _run_data(store: Any, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    reader = getattr(store, "get_run_data", None)
    if reader is None:
        return {}, {}
    data = reader(run_id)
    if data is None:
        return {}, {}
    params = getattr(data, "params", None) or {}
    metrics = getattr(data, "metrics", None) or {}
    return dict(params), dict(metrics)


def _datasets(store: Any, run_id: str) -> list[Any]:
    reader = getattr(store, "list_datasets", None)
    return list(reader(run_id)) if reader is not None else []


def lineage(store: RunStore, registry: RegistryStore, version: ModelVersion) -> Lineage:
    """Everything known of the runs behind ``version``."""
    flow_run = store.read_flow_run(version.flow_run_id) if version.flow_run_id else None
    task_run = None
    if version.run_id and version.run_id != version.flow_run_id:
        task_run = store.read_task_run(version.run_id)
    task_runs = store.list_task_runs(flow_run.id, limit=TASKS_SHOWN) if flow_run else []
    parameters: dict[str, Any] = dict(flow_run.parameters) if flow_run else {}
    metrics: dict[str, Any] = {}
    datasets: list[Any] = []
    for run_id in dict.fromkeys(r for r in (version.flow_run_id, version.run_id) if r):
        params, found = _run_data(store, run_id)
        parameters.update(params)
        metrics.update(found)
        datasets += _datasets(store, run_id)
    logged = None
    if version.run_id:
        for m in registry.list_logged_models(version.run_id):
            if m.model_uri == version.source:
                logged = m
    return Lineage(flow_run, task_run, task_runs, parameters, metrics, datasets, logged)
