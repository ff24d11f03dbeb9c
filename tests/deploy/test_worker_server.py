"""Workers against a real server on 127.0.0.1 (CADENZA_API_URL): the waiting claim, the
heartbeats, and the server's monitor crashing and retrying the run of a killed worker."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cadenza.client import close_clients
from cadenza.deploy.runs import new_deployment_run
from cadenza.reporting import reset_reporter
from cadenza.server.services.monitor import MonitorService
from cadenza.server.services.scheduler import SchedulerService
from cadenza.settings import reset_settings
from cadenza.states import StateType
from cadenza.store.sql import SqlStore
from tests.deploy.worker_helpers import (
    FAST,
    FLOWS,
    WorkerProcess,
    completed,
    deploy,
    ended,
    wait_for,
)
from tests.server.api.conftest import LiveServer


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlStore]:
    """A live server with its scheduler and monitor; this process is its client."""
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    store = SqlStore(f"sqlite:///{tmp_path / 'server.db'}")
    live = LiveServer(store, api_key="k3y")
    live.app.state.services = [SchedulerService(), MonitorService()]
    live.start()
    monkeypatch.setenv("CADENZA_API_URL", live.url)
    monkeypatch.setenv("CADENZA_API_KEY", "k3y")
    reset_settings()
    try:
        yield store
    finally:
        close_clients()
        reset_reporter()
        live.stop()
        store.close()


@pytest.fixture
def workers(
    cadenza_home: Path, traces: Path, server: SqlStore
) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []
    env = {"CADENZA_API_URL": os.environ["CADENZA_API_URL"], "CADENZA_API_KEY": "k3y"}

    def start(*args: str) -> WorkerProcess:
        w = WorkerProcess(cadenza_home, traces, "--pool", "pool", *args, **env).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
        print(f"--- output of worker {w.args}:\n{w.output()}")  # shown when a test fails


def test_a_worker_of_a_server_runs_a_run_at_its_time(
    server: SqlStore,
    flow_file: Callable[[str], Path],
    traces: Path,
    workers: Callable[..., WorkerProcess],
) -> None:
    path = flow_file(FLOWS)
    d = deploy(server, path, "record")
    worker = workers()
    due = time.time() + 1.5
    (run,) = server.create_scheduled_flow_runs([new_deployment_run(d, due, parameters={"n": 3})])
    done = wait_for(lambda: ended(server, run.id), 60, "the run on the server's worker")
    assert done.state is not None and done.state.type is StateType.COMPLETED
    pending = next(s for s in done.history or () if s.type is StateType.PENDING)
    assert pending.timestamp >= due
    (registered,) = server.list_workers(pool_name="pool")
    assert done.worker_id == registered.id
    assert registered.last_heartbeat > registered.started
    assert f"{run.name} | " in worker.output()  # its output, prefixed with its name
    assert "with the scheduler and the crash monitor" not in worker.output()  # the server's


def test_the_servers_monitor_retries_the_run_of_a_killed_worker(
    server: SqlStore,
    flow_file: Callable[[str], Path],
    traces: Path,
    workers: Callable[..., WorkerProcess],
) -> None:
    path = flow_file(FLOWS)
    d = deploy(server, path, "crash_once")
    (run,) = server.create_scheduled_flow_runs([new_deployment_run(d, time.time())])
    first = workers("--name", "first")
    wait_for(lambda: (traces / "attempted").exists(), 60, "the first attempt")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    workers("--name", "second")
    done = wait_for(lambda: completed(server, run.id), 120, "the retry to complete")
    assert done.state is not None and done.state.type is StateType.COMPLETED
    names = [s.name for s in done.history or ()]
    assert names[-5:] == ["Crashed", "AwaitingRetry", "Pending", "Running", "Completed"]


def test_cancelling_through_the_server_stops_a_run_on_a_worker(
    server: SqlStore,
    flow_file: Callable[[str], Path],
    traces: Path,
    workers: Callable[..., WorkerProcess],
) -> None:
    from click.testing import CliRunner

    from cadenza.cli.main import cli

    path = flow_file(FLOWS)
    d = deploy(server, path, "sleeper")
    (run,) = server.create_scheduled_flow_runs([new_deployment_run(d, time.time())])
    workers()
    wait_for(lambda: (traces / f"started-{run.id}").exists(), 60, "the run to start")
    answer = CliRunner().invoke(cli, ["runs", "cancel", run.id, "--json"], catch_exceptions=False)
    assert answer.exit_code == 0, answer.output
    assert '"flow_run_id": "' + run.id in answer.output
    done = wait_for(lambda: ended(server, run.id), 60, "the run to end")
    assert done.state is not None and done.state.type is StateType.CANCELLED
    again = CliRunner().invoke(cli, ["runs", "cancel", run.id])
    assert again.exit_code == 1
    assert "is Cancelled: only runs that have not finished can be cancelled" in again.output
