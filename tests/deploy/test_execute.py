"""Executing a flow run created ahead of time, and the process recorded on a run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.execute import execute_flow_run
from cadenza.deploy.runs import new_deployment_run
from cadenza.events import FlowRunProcessChanged
from cadenza.events_json import decode_events, encode_events
from cadenza.exceptions import DeploymentError
from cadenza.states import StateType
from cadenza.store.sql import SqlStore
from cadenza.utilities.entrypoints import load_flow
from tests.store import make

FLOWS = """
import datetime as dt

from cadenza import flow, task
from cadenza.runtime import flow_run


@task
def double(x: int) -> int:
    return 2 * x


@flow
def monthly(month: int = 1, factor: int = 1) -> dict:
    when = flow_run.scheduled_start_time
    return {"value": double(month) * factor, "when": when.isoformat(), "id": flow_run.id}


@flow
def broken():
    raise ValueError("no data for this month")
"""


def deploy(store: SqlStore, path: Path, function: str = "monthly", **fields: object) -> Deployment:
    return store.save_deployment(
        Deployment(
            flow_name=function,
            name="d",
            entrypoint=f"{path.name}:{function}",
            path=str(path.parent),
            work_pool_name="pool",
            **fields,  # type: ignore[arg-type]
        )
    )


def test_a_scheduled_run_executes_as_itself(
    store: SqlStore, flow_file: Callable[[str], Path]
) -> None:
    d = deploy(store, flow_file(FLOWS), parameters={"factor": 10})
    due = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    (run,) = store.create_scheduled_flow_runs(
        [new_deployment_run(d, due, parameters={"month": 3}, timezone="Europe/Zurich")]
    )
    state = execute_flow_run(run.id)
    assert state.is_completed()
    result = state.result()
    assert result == {"value": 60, "when": "2027-01-15T09:00:00+01:00", "id": run.id}
    done = store.read_flow_run(run.id)
    assert done is not None
    assert [s.name for s in done.history or ()] == ["Scheduled", "Running", "Completed"]
    assert (done.hostname, done.pid) == (socket.gethostname(), os.getpid())
    assert done.run_count == 1
    assert len(store.list_task_runs(run.id)) == 1
    with pytest.raises(DeploymentError, match="only Scheduled or Pending runs"):
        execute_flow_run(run.id)


def test_the_command_runs_it_in_its_own_process(
    store: SqlStore, flow_file: Callable[[str], Path], cadenza_home: Path
) -> None:
    d = deploy(store, flow_file(FLOWS))
    (ok,) = store.create_scheduled_flow_runs([new_deployment_run(d, time.time())])
    d2 = deploy(store, flow_file(FLOWS), "broken")
    (bad,) = store.create_scheduled_flow_runs([new_deployment_run(d2, time.time())])
    env = {**os.environ, "CADENZA_HOME": str(cadenza_home)}
    for run, code in ((ok, 0), (bad, 1)):
        proc = subprocess.run(
            [sys.executable, "-m", "cadenza.deploy.execute", run.id],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == code, proc.stderr
        found = store.read_flow_run(run.id)
        assert found is not None
        assert found.pid not in (None, os.getpid())
    done = store.read_flow_run(ok.id)
    failed = store.read_flow_run(bad.id)
    assert done is not None and failed is not None
    assert done.state is not None and done.state.type is StateType.COMPLETED
    assert failed.state is not None and failed.state.type is StateType.FAILED
    assert "no data for this month" in (failed.state.message or "")


@pytest.mark.parametrize(
    ("entrypoint", "parameters", "message"),
    [
        ("missing.py:monthly", {}, "does not exist"),
        ("flows.py:nothing", {}, "has no 'nothing'"),
        ("flows.py:monthly", {"month": "March"}, "month"),
        ("flows.py:monthly", {"day": 3}, "unexpected parameter"),
    ],
    ids=["no-file", "no-flow", "bad-value", "unknown-parameter"],
)
def test_a_run_that_cannot_start_ends_failed_with_the_reason(
    store: SqlStore,
    flow_file: Callable[[str], Path],
    entrypoint: str,
    parameters: dict[str, object],
    message: str,
) -> None:
    path = flow_file(FLOWS)
    d = store.save_deployment(Deployment("monthly", "d", entrypoint, "pool", path=str(path.parent)))
    (run,) = store.create_scheduled_flow_runs(
        [new_deployment_run(d, time.time(), parameters=parameters)]
    )
    state = execute_flow_run(run.id)
    assert state.type is StateType.FAILED
    assert message in (state.message or "")
    found = store.read_flow_run(run.id)
    assert found is not None and found.state is not None
    assert found.state.type is StateType.FAILED
    assert "could not start" in (found.state.message or "")


def test_a_resumed_run_records_the_process_that_resumes_it(
    store: SqlStore, flow_file: Callable[[str], Path]
) -> None:
    path = flow_file(FLOWS.replace('raise ValueError("no data for this month")', "return 1"))
    run = make.flow_run("broken", hostname="elsewhere", pid=1, entrypoint=f"{path}:broken")
    store.apply(make.failed(run, make.Clock()))
    flow = load_flow(f"{path}:broken")
    assert flow.retry(run.id) == 1
    found = store.read_flow_run(run.id)
    assert found is not None
    assert (found.hostname, found.pid) == (socket.gethostname(), os.getpid())


def test_the_process_event_round_trips_and_ignores_unknown_runs(store: SqlStore) -> None:
    run = make.flow_run()
    events = [make.create(run), FlowRunProcessChanged(run.id, "host-b", 42)]
    events.append(FlowRunProcessChanged("01890000-0000-7000-8000-000000000000", "x", 1))
    store.apply(decode_events(encode_events(events)))
    found = store.read_flow_run(run.id)
    assert found is not None
    assert (found.hostname, found.pid) == ("host-b", 42)
