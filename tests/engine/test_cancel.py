"""Cancelling a running flow run from outside: a Cancelling state, then SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cadenza.events import FlowRunStateChanged
from cadenza.runs import FlowRun
from cadenza.states import Cancelling, StateType
from cadenza.store import get_store
from cadenza.store.base import RunStore

SCRIPT = """
import time
from cadenza import flow, task

@task
def slow():
    time.sleep(60)

@task
def quick():
    return 1

@flow
def long_job():
    quick()
    slow.submit()
    slow()

long_job()
"""


def _wait_for_running(store: RunStore, timeout: float = 30.0) -> FlowRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = store.list_flow_runs()
        running = runs and runs[0].state is not None and runs[0].state.type is StateType.RUNNING
        if running and len(store.list_task_runs(runs[0].id)) >= 3:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError("the flow run did not start")


def _start(tmp_path: Path, cadenza_home: Path) -> subprocess.Popen[str]:
    script = tmp_path / "long_job.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "CADENZA_HOME": str(cadenza_home)}
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_after_a_cancel_request_ends_the_run_cancelled(
    tmp_path: Path, cadenza_home: Path
) -> None:
    proc = _start(tmp_path, cadenza_home)
    store = get_store()
    try:
        run = _wait_for_running(store)
        store.apply([FlowRunStateChanged(run.id, Cancelling(message="asked by a test"))])
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    final = store.read_flow_run(run.id)
    assert final is not None and final.state is not None
    assert final.state.type is StateType.CANCELLED
    states = {t.name: t.state for t in store.list_task_runs(run.id)}
    assert states["quick-0"] is not None and states["quick-0"].type is StateType.COMPLETED
    slow = [s for name, s in states.items() if name.startswith("slow")]
    assert len(slow) == 2
    assert all(s is not None and s.type is StateType.CANCELLED for s in slow)


def test_sigterm_without_a_request_is_a_crash(tmp_path: Path, cadenza_home: Path) -> None:
    proc = _start(tmp_path, cadenza_home)
    store = get_store()
    try:
        run = _wait_for_running(store)
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    final = store.read_flow_run(run.id)
    assert final is not None and final.state is not None
    assert final.state.type is StateType.CRASHED
