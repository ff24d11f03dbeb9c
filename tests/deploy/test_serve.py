"""``flow.serve()``: a process that deploys its flow and runs its runs with no worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cadenza.deploy.runs import new_deployment_run
from cadenza.deploy.serve import SERVE_POOL, prepare
from cadenza.exceptions import ScheduleError
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter
from cadenza.store.sql import SqlStore
from cadenza.utilities.entrypoints import load_flow
from tests.deploy.worker_helpers import FAST, ended, wait_for

SERVED = """
from cadenza import flow
from cadenza.runtime import flow_run


@flow(log_prints=True)
def nightly(x: int = 1) -> int:
    print("served", flow_run.name, "x =", x)
    return x


if __name__ == "__main__":
    nightly.serve("every-second", interval=1, parameters={"x": 7})
"""


def test_serve_schedules_and_runs_its_flow_until_interrupted(
    store: SqlStore, flow_file: Callable[[str], Path], cadenza_home: Path, tmp_path: Path
) -> None:
    path = flow_file(SERVED, name="served.py")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(path)],
            cwd=path.parent,
            env={**os.environ, **FAST, "CADENZA_HOME": str(cadenza_home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        d = wait_for(
            lambda: store.read_deployment_by_name("nightly", "every-second"), 60, "the deployment"
        )
        assert (d.work_pool_name, d.work_queue_name) == (SERVE_POOL, "nightly:every-second")
        assert d.parameters == {"x": 7}

        def completed() -> list[str]:
            runs = store.list_flow_runs(FlowRunFilter(state_types=[StateType.COMPLETED]))
            return [r.id for r in runs] if len(runs) >= 2 else []

        done = wait_for(completed, 60, "two scheduled runs to complete")
        # A run asked for by hand runs too.
        (now,) = store.create_scheduled_flow_runs([new_deployment_run(d, time.time())])
        finished = wait_for(lambda: ended(store, now.id), 60, "the run asked for")
        assert finished.state is not None and finished.state.type is StateType.COMPLETED
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text()
    assert "Serving nightly/every-second" in output
    assert "served" in output and "x = 7" in output
    assert all(r.deployment_id == d.id for r in map(store.read_flow_run, done) if r)
    assert store.list_workers() == []  # it left the pool when it stopped


def test_serve_checks_its_options_before_saving_anything(
    store: SqlStore, flow_file: Callable[[str], Path]
) -> None:
    flow = load_flow(f"{flow_file(SERVED, name='served.py')}:nightly")
    with pytest.raises(ScheduleError, match="minute"):
        prepare(flow, "bad", store=store, cron="61 * * * *")
    assert store.list_deployments() == []
    assert store.read_work_pool(SERVE_POOL) is None
