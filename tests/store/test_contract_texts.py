"""Texts that users give (names, versions, entrypoints, logger names, state names) are
kept whole on every backend: SQLite has no length limits, and on PostgreSQL these
columns are ``TEXT`` too, so a long run name never stops the writer there."""

from __future__ import annotations

import logging

import pytest

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.pools import WorkPool
from cadenza.states import State, StateType
from cadenza.store.sql import SqlStore
from tests.store import make
from tests.store.backends import BACKENDS
from tests.store.make import T0, Clock

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True, ids=str)


def long(prefix: str, n: int) -> str:
    return (prefix + "-" + "x" * n)[:n]


def test_long_names_of_runs_flows_and_loggers_are_kept_whole(store: SqlStore) -> None:
    clock = Clock()
    flow_name = long("flow", 400)
    run = make.flow_run(
        flow_name,
        name=long("run", 2000),
        version=long("version", 700),
        entrypoint=long("path/to/flows.py", 3000) + ":train",
    )
    task = make.task_run(
        run, name=long("task", 2000), task_key=long("key", 1500), version=long("v", 700)
    )
    custom = State(StateType.COMPLETED, name=long("Completed-with-a-long-name", 100))
    events = [
        *make.lifecycle(run, make.Pending(timestamp=T0), make.Running(timestamp=clock())),
        *make.lifecycle(task, make.Pending(timestamp=T0), State(StateType.RUNNING)),
        make.change(task, custom),
        make.log(task, "a line", timestamp=clock(), name=long("a.logger", 600)),
        make.change(run, State(StateType.COMPLETED, name=custom.name, timestamp=clock())),
    ]
    store.apply(events)
    found = store.read_flow_run(run.id)
    assert found is not None
    assert (found.name, found.flow_name, found.version) == (run.name, flow_name, run.version)
    assert found.entrypoint == run.entrypoint
    assert found.state is not None and found.state.name == custom.name
    (found_task,) = store.list_task_runs(run.id)
    assert (found_task.name, found_task.task_key) == (task.name, task.task_key)
    assert found_task.version == task.version
    assert found_task.state is not None and found_task.state.name == custom.name
    (line,) = store.read_logs(run.id)
    assert (line.name, line.level) == (long("a.logger", 600), logging.INFO)
    assert [f.name for f in store.list_flows()] == [flow_name]


def test_long_paths_and_versions_of_deployments_are_kept_whole(store: SqlStore) -> None:
    store.create_work_pool(WorkPool("pool"), now=T0)
    deployment = Deployment(
        flow_name=long("flow", 400),
        name="nightly",
        entrypoint=long("a/deep/folder/flows.py", 2000) + ":train",
        path=long("/srv/checkouts/project", 2000),
        version=long("version", 700),
        work_pool_name="pool",
    )
    saved = store.save_deployment(deployment, now=T0)
    found = store.read_deployment(str(saved.id))
    assert found is not None
    assert (found.flow_name, found.entrypoint, found.path, found.version) == (
        deployment.flow_name,
        deployment.entrypoint,
        deployment.path,
        deployment.version,
    )
