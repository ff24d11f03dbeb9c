"""Helpers of the worker tests: worker processes started as users start them, with
short intervals, flows that leave traces in files, and waiting for conditions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.runs import new_deployment_run
from cadenza.runs import FlowRun
from cadenza.states import StateType
from cadenza.store.deploy_base import DeploymentStore
from cadenza.utilities.entrypoints import load_flow

T = TypeVar("T")

FAST = {
    "CADENZA_HEARTBEAT_INTERVAL": "0.2",
    "CADENZA_HEARTBEAT_TIMEOUT": "20",
    "CADENZA_MONITOR_INTERVAL": "0.2",
    "CADENZA_SCHEDULER_INTERVAL": "0.2",
    "CADENZA_WORKER_POLL_INTERVAL": "0.1",
}
"""Settings that make workers, heartbeats and the monitor quick to react."""

FLOWS = """
import os
import pathlib
import signal
import time

from cadenza import flow, task
from cadenza.runtime import flow_run

TRACES = pathlib.Path(os.environ["TEST_TRACES"])


@flow
def record(n: int = 0) -> int:
    with open(TRACES / "runs.txt", "a") as f:
        f.write(f"{flow_run.id} {os.getpid()}\\n")
    return n


@flow(retries=1)
def crash_once() -> str:
    marker = TRACES / "attempted"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)
    return "second attempt"


@flow
def sleeper(seconds: float = 120) -> None:
    (TRACES / f"started-{flow_run.id}").write_text(str(os.getpid()))
    time.sleep(seconds)


@flow
def stubborn() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    (TRACES / f"started-{flow_run.id}").write_text(str(os.getpid()))
    time.sleep(120)
"""


def wait_for(check: Callable[[], T], timeout: float = 60.0, what: str = "a condition") -> T:
    """Poll ``check`` until it returns something true; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def deploy(
    store: DeploymentStore, path: Path, function: str, name: str | None = None, **options: Any
) -> Deployment:
    """Deploy the flow ``function`` of the file ``path`` on the pool ``pool``, as
    ``name`` (the function's name by default)."""
    flow = load_flow(f"{path}:{function}")
    deployment: Deployment = flow.deploy(
        name or function, work_pool_name="pool", path=path.parent, **options
    )
    return deployment


def run_now(store: DeploymentStore, deployment: Deployment, n: int = 1, **params: Any) -> list[str]:
    """Create ``n`` runs of the deployment due now; their ids."""
    now = time.time()
    runs = [new_deployment_run(deployment, now, parameters=dict(params), now=now) for _ in range(n)]
    return [r.id for r in store.create_scheduled_flow_runs(runs)]


def state_of(store: DeploymentStore, run_id: str) -> StateType | None:
    run = store.read_flow_run(run_id)
    return None if run is None or run.state is None else run.state.type


def ended(store: DeploymentStore, run_id: str) -> FlowRun | None:
    """The run, once it is in a final state."""
    run = store.read_flow_run(run_id)
    return run if run is not None and run.state is not None and run.state.is_final() else None


def completed(store: DeploymentStore, run_id: str) -> FlowRun | None:
    """The run, once it is Completed (a crashed run waiting for its retry is Crashed
    for a moment before it is scheduled again)."""
    run = store.read_flow_run(run_id)
    done = run is not None and run.state is not None
    return run if done and run.state.type is StateType.COMPLETED else None


class WorkerProcess:
    """``cadenza worker start`` in a process of its own, as a user starts it."""

    def __init__(self, home: Path, traces: Path, *args: str, **env: str) -> None:
        self.log = traces / f"worker-{time.monotonic_ns()}.log"
        self.args = args
        self.env = {
            **os.environ,
            **FAST,
            "CADENZA_HOME": str(home),
            "TEST_TRACES": str(traces),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cadenza.cli.main", "worker", "start", *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: "started on work pool" in self.output(), 60, "the worker to start")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
