"""Workers as users start them (``cadenza worker start`` in processes of their own) on
the embedded store: runs start at their time, are never run twice, survive a killed
worker, are cancelled, and a killed run is Crashed."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cadenza.deploy.runs import new_deployment_run
from cadenza.states import Cancelling, StateType
from cadenza.store.sql import SqlStore
from tests.deploy.worker_helpers import (
    FLOWS,
    WorkerProcess,
    completed,
    deploy,
    ended,
    run_now,
    state_of,
    wait_for,
)


@pytest.fixture
def flows(flow_file: Callable[[str], Path], traces: Path) -> Path:
    return flow_file(FLOWS)


@pytest.fixture
def workers(cadenza_home: Path, traces: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*args: str, **env: str) -> WorkerProcess:
        w = WorkerProcess(cadenza_home, traces, "--pool", "pool", *args, **env).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
        print(f"--- output of worker {w.args}:\n{w.output()}")  # shown when a test fails


@pytest.mark.slow
def test_a_cron_deployment_runs_at_its_time(
    store: SqlStore, flows: Path, workers: Callable[..., WorkerProcess]
) -> None:
    d = deploy(store, flows, "record", cron="* * * * *")
    (first, *_) = store.list_scheduled_flow_runs(deployment_id=d.id)
    assert first.expected_start_time is not None
    assert first.expected_start_time % 60 == 0  # cron times: whole minutes
    workers()
    done = wait_for(lambda: ended(store, first.id), 90, "the run at the next minute")
    assert done.state is not None and done.state.type is StateType.COMPLETED
    running = [s.timestamp for s in done.history or () if s.type is StateType.RUNNING]
    # Started at its time, not before it.
    assert running[0] >= first.expected_start_time
    assert [s.name for s in done.history or ()] == ["Scheduled", "Pending", "Running", "Completed"]


def test_two_workers_never_run_a_run_twice(
    store: SqlStore, flows: Path, traces: Path, workers: Callable[..., WorkerProcess]
) -> None:
    d = deploy(store, flows, "record")
    ids = run_now(store, d, 30)
    a, b = workers(), workers()
    for run_id in ids:
        done = wait_for(lambda run_id=run_id: ended(store, run_id), 120, "every run to end")
        assert done.state is not None and done.state.type is StateType.COMPLETED
        assert done.run_count == 1
    executed = Counter(line.split()[0] for line in (traces / "runs.txt").read_text().splitlines())
    assert sorted(executed) == sorted(ids)
    assert set(executed.values()) == {1}
    by_worker = Counter(run.worker_id for run_id in ids if (run := store.read_flow_run(run_id)))
    assert set(by_worker) <= {w.id for w in store.list_workers()}
    assert sum(by_worker.values()) == 30
    assert "started on work pool 'pool'" in a.output() + b.output()


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="runs die with their worker on Linux"
)
def test_a_killed_worker_crashes_its_run_and_the_retry_succeeds_elsewhere(
    store: SqlStore, flows: Path, traces: Path, workers: Callable[..., WorkerProcess]
) -> None:
    d = deploy(store, flows, "crash_once")
    assert d.flow_retries == 1
    (run_id,) = run_now(store, d)
    first = workers("--name", "first")
    wait_for(lambda: (traces / "attempted").exists(), 60, "the first attempt to start")
    child = int((traces / "attempted").read_text())
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    # The run's process died with its worker: nothing runs it any more.
    wait_for(lambda: not _alive(child), 30, "the run's process to die with its worker")
    workers("--name", "second")
    done = wait_for(lambda: completed(store, run_id), 120, "the retry to complete")
    assert done.state is not None
    assert done.state.type is StateType.COMPLETED
    names = [s.name for s in done.history or ()]
    # Its first attempt was Pending or Running when its process died.
    assert names[-5:] == ["Crashed", "AwaitingRetry", "Pending", "Running", "Completed"]
    crashed = next(s for s in done.history or () if s.name == "Crashed")
    assert "stopped sending heartbeats" in (crashed.message or "")
    assert done.run_count == names.count("Running")
    second = next(w for w in store.list_workers() if w.name == "second")
    assert done.worker_id == second.id


def test_cancelling_stops_a_running_flow(
    store: SqlStore, flows: Path, traces: Path, workers: Callable[..., WorkerProcess]
) -> None:
    from click.testing import CliRunner

    from cadenza.cli.main import cli

    d = deploy(store, flows, "sleeper")
    (run_id,) = run_now(store, d)
    workers()
    started = wait_for(
        lambda: (p := traces / f"started-{run_id}").exists() and p.read_text(),
        60,
        "the run to start",
    )
    # Once the run has recorded its process, the command signals it directly.
    wait_for(lambda: (r := store.read_flow_run(run_id)) and r.pid == int(started), 30, "its pid")
    answer = CliRunner().invoke(cli, ["runs", "cancel", run_id[:13]], catch_exceptions=False)
    assert answer.exit_code == 0, answer.output
    assert "SIGTERM sent" in answer.output
    done = wait_for(lambda: ended(store, run_id), 60, "the run to end")
    assert done.state is not None and done.state.type is StateType.CANCELLED
    assert [s.name for s in done.history or ()][-2:] == ["Cancelling", "Cancelled"]


def test_a_cancel_recorded_elsewhere_is_carried_out_by_the_worker(
    store: SqlStore, flows: Path, traces: Path, workers: Callable[..., WorkerProcess]
) -> None:
    # As when the run is cancelled from another machine: no signal, only the state.
    d = deploy(store, flows, "sleeper")
    (run_id,) = run_now(store, d)
    workers()
    wait_for(lambda: state_of(store, run_id) is StateType.RUNNING, 60, "the run to start")
    asked = Cancelling(message="Cancelled from another machine.")
    assert store.add_flow_run_state_if(run_id, asked, current=[StateType.RUNNING])
    done = wait_for(lambda: ended(store, run_id), 60, "the worker to stop the run")
    assert done.state is not None and done.state.type is StateType.CANCELLED


def test_a_run_whose_process_is_killed_is_crashed(
    store: SqlStore, flows: Path, traces: Path, workers: Callable[..., WorkerProcess]
) -> None:
    d = deploy(store, flows, "sleeper")
    (run_id,) = run_now(store, d)
    worker = workers()
    started = wait_for(
        lambda: (p := traces / f"started-{run_id}").exists() and p.read_text(),
        60,
        "the run to start",
    )
    os.kill(int(started), signal.SIGKILL)
    done = wait_for(lambda: ended(store, run_id), 60, "the run to be recorded Crashed")
    assert done.state is not None and done.state.type is StateType.CRASHED
    assert done.state.message == "Its process was killed by signal 9 before the run ended."
    wait_for(lambda: "was killed by signal 9" in worker.output(), 10, "the worker to say so")


def test_a_stopped_worker_lets_runs_finish_then_hands_the_others_back(
    store: SqlStore, flows: Path, traces: Path, workers: Callable[..., WorkerProcess]
) -> None:
    quick = deploy(store, flows, "sleeper", parameters={"seconds": 1.0})
    (short,) = run_now(store, quick)
    slow = deploy(store, flows, "sleeper", "slow", parameters={"seconds": 120.0})
    (long,) = run_now(store, slow)
    worker = workers("--shutdown-timeout", "3")
    for run_id in (short, long):
        wait_for(lambda run_id=run_id: (traces / f"started-{run_id}").exists(), 60, "both runs")
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    finished = store.read_flow_run(short)
    assert finished is not None and finished.state is not None
    assert finished.state.type is StateType.COMPLETED
    back = store.read_flow_run(long)
    assert back is not None and back.state is not None
    assert (back.state.type, back.state.name, back.worker_id) == (
        StateType.SCHEDULED,
        "Rescheduled",
        None,
    )
    assert store.list_workers() == []  # it left the pool
    assert "handed back to its pool" in worker.output()


def test_a_worker_refuses_an_unknown_pool(
    cadenza_home: Path, traces: Path, store: SqlStore
) -> None:
    import subprocess

    from tests.deploy.worker_helpers import FAST

    proc = subprocess.run(
        [sys.executable, "-m", "cadenza.cli.main", "worker", "start", "--pool", "nope"],
        env={**os.environ, **FAST, "CADENZA_HOME": str(cadenza_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "There is no work pool 'nope'. Work pools: pool." in proc.stderr


def test_a_scheduled_run_starts_within_a_second_of_its_time(
    store: SqlStore, flows: Path, workers: Callable[..., WorkerProcess]
) -> None:
    d = deploy(store, flows, "record")
    workers()
    due = time.time() + 2.0
    (run,) = store.create_scheduled_flow_runs([new_deployment_run(d, due)])
    done = wait_for(lambda: ended(store, run.id), 60, "the run")
    running = next(s for s in done.history or () if s.type is StateType.RUNNING)
    pending = next(s for s in done.history or () if s.type is StateType.PENDING)
    # Claimed at its time, not before; how soon after is measured in bench/.
    assert pending.timestamp >= due
    assert running.timestamp >= pending.timestamp


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, dead but not reaped yet, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def test_a_run_that_ignores_sigterm_is_killed_after_the_grace_period(
    store: SqlStore, flows: Path, traces: Path, cadenza_home: Path
) -> None:
    import io
    import threading

    from cadenza.deploy.worker import Worker
    from cadenza.settings import temporary_settings
    from tests.deploy.worker_helpers import FAST

    d = deploy(store, flows, "stubborn")
    (run_id,) = run_now(store, d)
    fast = {k.removeprefix("CADENZA_").lower(): v for k, v in FAST.items()}
    output = io.StringIO()
    with temporary_settings(home=cadenza_home, **fast) as settings:
        worker = Worker("pool", store=store, settings=settings, cancel_grace=0.5, output=output)
        thread = threading.Thread(target=worker.start)
        thread.start()
        try:
            wait_for(lambda: state_of(store, run_id) is StateType.RUNNING, 60, "the run")
            asked = Cancelling(message="Stop it.")
            assert store.add_flow_run_state_if(run_id, asked, current=[StateType.RUNNING])
            done = wait_for(lambda: ended(store, run_id), 60, "the run to be stopped")
        finally:
            worker.stop()
            thread.join(timeout=60)
    assert done.state is not None
    assert (done.state.type, done.state.message) == (
        StateType.CANCELLED,
        "Cancelled: its worker stopped its process, which was killed by signal 9.",
    )
    assert worker.wait_stopped(0)
    assert not thread.is_alive()


def test_worker_ls_lists_the_workers_with_their_heartbeat(store: SqlStore) -> None:
    import json

    from click.testing import CliRunner

    from cadenza.cli.main import cli
    from cadenza.deploy.records import WorkerRecord

    empty = CliRunner().invoke(cli, ["worker", "ls"])
    assert empty.output == "No workers: start one with `cadenza worker start --pool NAME`.\n"
    now = time.time()
    store.worker_heartbeat(WorkerRecord("w-1", "box:1", "pool", "box", 1), [], now=now)
    store.worker_heartbeat(WorkerRecord("w-2", "box:2", "pool", "box", 2), [], now=now - 3600)
    table = CliRunner().invoke(cli, ["worker", "ls", "--pool", "pool"])
    lines = table.output.splitlines()
    assert lines[0].split() == ["WORKER", "POOL", "STATUS", "HOST", "PID", "LAST", "HEARTBEAT"]
    assert lines[1].split()[:5] == ["box:1", "pool", "online", "box", "1"]
    assert lines[2].split()[:5] == ["box:2", "pool", "offline", "box", "2"]
    listed = json.loads(CliRunner().invoke(cli, ["worker", "ls", "--json"]).output)
    assert [(w["id"], w["online"]) for w in listed] == [("w-1", True), ("w-2", False)]
