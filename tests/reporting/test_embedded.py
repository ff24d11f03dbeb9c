"""The embedded writer: when what the engine emits is in the database file.

The database is read with the sqlite3 module, from outside cadenza, as another
process (the CLI, the UI) would read it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from cadenza import flow, get_run_logger, task
from cadenza.events import Event
from cadenza.reporting import get_reporter
from cadenza.reporting.embedded import EmbeddedReporter
from cadenza.store.sql import SqlStore
from tests.reporting.conftest import Query
from tests.store import make
from tests.store.make import Clock

MakeReporter = Callable[..., EmbeddedReporter]
RunScript = Callable[..., subprocess.CompletedProcess[str]]


def finished_flow(clock: Clock, n_tasks: int) -> list[Event]:
    run = make.flow_run(created=clock())
    events = make.completed(run, clock)
    for i in range(n_tasks):
        task_run = make.task_run(run, name=f"t-{i}", created=clock())
        events += make.completed(task_run, clock)
        events.append(make.log(task_run, f"line {i}", timestamp=clock()))
    return events


def wait_until(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds it took ``condition`` to hold, or None if it did not within ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.01)
    return None


# -- flush -----------------------------------------------------------------------------------
def test_emitted_events_are_in_the_file_after_flush(
    make_reporter: MakeReporter, query: Query
) -> None:
    reporter = make_reporter()
    reporter.check()
    events = finished_flow(Clock(), 100)
    for event in events:
        reporter.emit(event)
    assert reporter.pending == len(events)
    assert query.count("task_runs") == 0  # nothing written behind our back
    assert reporter.flush()
    assert reporter.pending == 0
    assert query.count("flow_runs") == 1
    assert query.count("task_runs") == 100
    assert query.count("logs") == 100
    assert query("SELECT DISTINCT state_name FROM task_runs") == [("Completed",)]
    assert reporter.flush()  # nothing left: a no-op


def test_flush_returns_while_other_threads_keep_emitting(
    make_reporter: MakeReporter, query: Query
) -> None:
    """flush() writes what was emitted before it was called, and not forever more."""
    reporter = make_reporter()
    clock = Clock()
    mine = finished_flow(clock, 50)
    stop = threading.Event()
    emitted = [0]

    def chatter() -> None:
        while not stop.is_set():
            for event in finished_flow(clock, 20):
                reporter.emit(event)
            emitted[0] += 1

    thread = threading.Thread(target=chatter)
    thread.start()
    try:
        while emitted[0] < 5:
            time.sleep(0.001)
        for event in mine:
            reporter.emit(event)
        started = time.monotonic()
        assert reporter.flush()
        took = time.monotonic() - started
        task_ids = {e.run.id for e in mine if type(e).__name__ == "TaskRunCreated"}  # type: ignore[union-attr]
        written = {r[0] for r in query("SELECT id FROM task_runs")}
        assert task_ids <= written
    finally:
        stop.set()
        thread.join()
    assert took < 10
    assert reporter.flush()
    assert query.count("flow_runs") == emitted[0] + 1


def test_events_from_many_threads_are_written_once_each(
    make_reporter: MakeReporter, query: Query
) -> None:
    reporter = make_reporter(interval=0.005)
    reporter.check()
    clock = Clock()
    batches = [finished_flow(clock, 25) for _ in range(40)]

    def emit_all(part: Sequence[list[Event]]) -> None:
        for events in part:
            for event in events:
                reporter.emit(event)
            if len(events) % 3 == 0:
                reporter.flush()

    threads = [threading.Thread(target=emit_all, args=(batches[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reporter.flush()
    assert query.count("flow_runs") == 40
    assert query.count("task_runs") == 1000
    assert query.count("logs") == 1000
    assert query("SELECT count(*) FROM task_runs WHERE history IS NOT NULL") == [(0,)]


class InterruptedOnce(SqlStore):
    """A store on which the next apply is interrupted, as by Ctrl-C during a write."""

    armed = False

    def apply(self, events: Sequence[Event]) -> None:
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt
        super().apply(events)


def test_an_interrupted_write_keeps_its_events(
    make_reporter: MakeReporter, db: Path, query: Query
) -> None:
    store = InterruptedOnce(f"sqlite:///{db}")
    reporter = make_reporter(store=store)
    events = finished_flow(Clock(), 10)
    for event in events:
        reporter.emit(event)
    store.armed = True
    with pytest.raises(KeyboardInterrupt):
        reporter.flush()
    assert reporter.pending == len(events)
    assert reporter.flush()
    assert query.count("task_runs") == 10
    assert query.count("logs") == 10


# -- the engine's guarantees ----------------------------------------------------------------------
def test_the_final_state_is_in_the_file_when_the_flow_call_returns(
    monkeypatch: pytest.MonkeyPatch, query: Query
) -> None:
    # The background writer would not write for an hour: only the flow's own flush can.
    monkeypatch.setenv("CADENZA_FLUSH_INTERVAL", "3600")

    @task
    def double(x: int) -> int:
        get_run_logger().info("doubling %d", x)
        return 2 * x

    @flow
    def pipeline(n: int) -> int:
        return sum(double(i) for i in range(n))

    @flow
    def broken() -> None:
        double(1)
        raise RuntimeError("no")

    assert pipeline(20) == 380
    assert query("SELECT state_type, end_time IS NOT NULL FROM flow_runs") == [("COMPLETED", 1)]
    assert query("SELECT state_type, count(*) FROM task_runs GROUP BY 1") == [("COMPLETED", 20)]
    assert query.count("logs") >= 20
    with pytest.raises(RuntimeError):
        broken()
    assert query("SELECT state_type FROM flow_runs ORDER BY id") == [("COMPLETED",), ("FAILED",)]
    assert query.count("task_runs") == 21


def test_the_background_writer_writes_within_a_second(query: Query) -> None:
    """Runs outside any flow are not flushed by anyone: the writer thread writes them."""

    @task
    def step(i: int) -> int:
        return i

    for i in range(30):
        step(i)
    reporter = get_reporter()
    assert isinstance(reporter, EmbeddedReporter)
    took = wait_until(
        lambda: query("SELECT count(*) FROM task_runs WHERE state_type = 'COMPLETED'") == [(30,)],
        timeout=2,
    )
    assert took is not None
    assert took < 1
    assert reporter.pending == 0


@pytest.mark.parametrize(
    "ending",
    ["", "import sys; sys.exit(3)", "raise SystemExit('bye')", "raise ValueError('uncaught')"],
    ids=["end-of-script", "sys.exit", "SystemExit", "uncaught-exception"],
)
def test_interpreter_exit_writes_what_is_pending(
    run_script: RunScript, query: Query, ending: str
) -> None:
    result = run_script(
        f"""
from cadenza import get_run_logger, task

@task
def add(x: int, y: int) -> int:
    get_run_logger().warning("adding %d", x)
    return x + y

for i in range(50):
    add(i, 1)
{ending}
""",
        CADENZA_FLUSH_INTERVAL="3600",
    )
    assert "Traceback" not in result.stderr or "uncaught" in ending, result.stderr
    assert query("SELECT state_type, count(*) FROM task_runs GROUP BY 1") == [("COMPLETED", 50)]
    assert query("SELECT count(*) FROM logs WHERE message LIKE 'adding %'") == [(50,)]


def test_ctrl_c_crashes_the_flow_run_and_keeps_the_finished_task_runs(
    cadenza_home: Path, tmp_path: Path, query: Query
) -> None:
    script = tmp_path / "long_flow.py"
    script.write_text(
        """
import time
from cadenza import flow, task

@task
def quick(i: int) -> int:
    return i

@task
def slow() -> None:
    print("sleeping", flush=True)
    time.sleep(60)

@flow
def long_flow() -> None:
    for i in range(5):
        quick(i)
    slow()

long_flow()
"""
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "CADENZA_HOME": str(cadenza_home), "CADENZA_FLUSH_INTERVAL": "3600"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "sleeping\n"
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode != 0
    ((state, end),) = query("SELECT state_type, end_time FROM flow_runs")
    assert state == "CRASHED"
    assert end is not None
    assert query("SELECT name, state_type FROM task_runs ORDER BY id") == [
        ("quick-0", "COMPLETED"),
        ("quick-1", "COMPLETED"),
        ("quick-2", "COMPLETED"),
        ("quick-3", "COMPLETED"),
        ("quick-4", "COMPLETED"),
        ("slow-0", "CRASHED"),
    ]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_writes_its_own_events_even_if_forked_mid_write(
    make_reporter: MakeReporter, query: Query
) -> None:
    reporter = make_reporter()
    clock = Clock()
    parents = finished_flow(clock, 5)
    childs = finished_flow(clock, 7)
    for event in parents:
        reporter.emit(event)
    reporter.store.read_flow_run("warm-up")  # the pool holds a connection now
    # As if the writer thread were in the middle of a write when the process forks.
    with reporter._write_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: leave only through os._exit
        code = 1
        try:
            code = 2 if reporter.pending else 3
            if code == 3:
                for event in childs:
                    reporter.emit(event)
                code = 0 if reporter.flush(timeout=10) else 4
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child hung: a lock held at the fork was inherited")
    assert os.waitstatus_to_exitcode(status) == 0
    assert query.count("task_runs") == 7  # the child's; the parent's are still pending
    assert reporter.flush()
    assert query.count("task_runs") == 12
    assert query.count("flow_runs") == 2
