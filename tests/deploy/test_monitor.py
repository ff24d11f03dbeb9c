"""The crash monitor: passes driven with explicit times over a real SQLite file, with real
processes for the runs whose process is gone, and its service in a live server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.monitor import Monitor
from cadenza.deploy.records import WorkerRecord
from cadenza.deploy.runs import new_deployment_run
from cadenza.runs import FlowRun
from cadenza.server.services.monitor import MonitorService
from cadenza.states import Cancelling, Pending, Running, State, StateType
from cadenza.store.sql import SqlStore
from tests.deploy.worker_helpers import wait_for
from tests.server.api.conftest import LiveServer
from tests.store import make

HOST = socket.gethostname()


@pytest.fixture
def ended_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def record(store: SqlStore, run: FlowRun, *states: State) -> FlowRun:
    store.apply(make.lifecycle(run, *states))
    return run


def state_of(store: SqlStore, run_id: str) -> tuple[StateType, str, str | None]:
    run = store.read_flow_run(run_id)
    assert run is not None and run.state is not None
    return run.state.type, run.state.name, run.state.message


def test_runs_whose_process_is_gone_are_crashed(
    store: SqlStore, ended_pid: int, live_pid: int
) -> None:
    now = time.time()
    gone = record(
        store,
        make.flow_run(created=now, hostname=HOST, pid=ended_pid),
        Pending(timestamp=now),
        Running(timestamp=now + 0.001),
    )
    asked = record(
        store,
        make.flow_run(created=now, hostname=HOST, pid=ended_pid),
        Pending(timestamp=now),
        Running(timestamp=now + 0.001),
        Cancelling(timestamp=now + 0.002),
    )
    alive = record(
        store,
        make.flow_run(created=now, hostname=HOST, pid=live_pid),
        Pending(timestamp=now),
        Running(timestamp=now + 0.001),
    )
    elsewhere = record(
        store,
        make.flow_run(created=now, hostname="another-machine", pid=ended_pid),
        Pending(timestamp=now),
        Running(timestamp=now + 0.001),
    )
    report = Monitor(store, heartbeat_timeout=30).tick(now=now + 1)
    assert report.orphaned == 2
    assert state_of(store, gone.id) == (
        StateType.CRASHED,
        "Crashed",
        f"Its process (pid {ended_pid} on {HOST}) ended without a final state.",
    )
    assert state_of(store, asked.id)[:2] == (StateType.CANCELLED, "Cancelled")
    assert state_of(store, alive.id)[0] is StateType.RUNNING
    assert state_of(store, elsewhere.id)[0] is StateType.RUNNING
    assert Monitor(store, heartbeat_timeout=30).tick(now=now + 2).orphaned == 0


def test_a_live_process_that_took_a_dead_runs_pid_is_not_the_run(
    store: SqlStore, live_pid: int
) -> None:
    # The run's attempt started an hour ago; the live process with its pid started since.
    an_hour_ago = time.time() - 3600
    reused = record(
        store,
        make.flow_run(created=an_hour_ago, hostname=HOST, pid=live_pid),
        Pending(timestamp=an_hour_ago),
        Running(timestamp=an_hour_ago + 1),
    )
    Monitor(store, heartbeat_timeout=30).tick()
    assert state_of(store, reused.id)[0] is StateType.CRASHED


def test_a_silent_workers_run_crashes_and_runs_again_when_it_has_retries(
    store: SqlStore,
) -> None:
    d = store.save_deployment(
        Deployment("train", "nightly", "flows.py:train", "pool", flow_retries=1)
    )
    assert d.id is not None
    t0 = 1_800_000_000.0
    (run,) = store.create_scheduled_flow_runs([new_deployment_run(d, t0, now=t0)])
    store.worker_heartbeat(WorkerRecord("w1", "w1", "pool"), [], now=t0)
    store.claim_flow_runs("pool", "w1", 1, now=t0)
    store.add_flow_run_state_if(run.id, Running(timestamp=t0 + 1), current=[StateType.PENDING])
    monitor = Monitor(store, heartbeat_timeout=30)
    assert monitor.tick(now=t0 + 20).unresponsive == 0  # within the timeout
    report = monitor.tick(now=t0 + 31)
    assert (report.unresponsive, report.retried) == (1, 1)
    names = [s.name for s in store.read_flow_run(run.id).history or ()]  # type: ignore[union-attr]
    assert names == ["Scheduled", "Pending", "Running", "Crashed", "AwaitingRetry"]
    # A second crash uses up its retries: it stays Crashed.
    store.claim_flow_runs("pool", "w2", 1, now=t0 + 40)
    store.add_flow_run_state_if(run.id, Running(timestamp=t0 + 41), current=[StateType.PENDING])
    report = monitor.tick(now=t0 + 80)
    assert (report.unresponsive, report.retried) == (1, 0)
    assert state_of(store, run.id)[0] is StateType.CRASHED
    # Workers silent for a day are forgotten.
    assert monitor.tick(now=t0 + 86_401).forgotten_workers == 1


def test_the_servers_monitor_service_crashes_runs_whose_process_is_gone(
    store: SqlStore, ended_pid: int
) -> None:
    now = time.time()
    gone = record(
        store,
        make.flow_run(created=now, hostname=HOST, pid=ended_pid),
        Pending(timestamp=now),
        Running(timestamp=now + 0.001),
    )
    live = LiveServer(store)
    live.app.state.services = [MonitorService(interval=0.1)]
    live.start()
    try:
        wait_for(lambda: state_of(store, gone.id)[0] is StateType.CRASHED, 30, "the monitor")
    finally:
        live.stop()
