"""``POST /api/flow_runs/{id}/cancel`` and ``.../retry`` on real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cadenza.runs import FlowRun
from cadenza.states import Cancelling, Pending, Running, Scheduled
from cadenza.store.sql import SqlStore
from tests.server.api.conftest import Api
from tests.store import make
from tests.store.make import Clock

SLOW_FLOW = """
import time
from cadenza import flow, task

@task
def slow():
    time.sleep(60)

@flow
def long_job():
    slow()

long_job()
"""

FAILING_FLOW = """
import os
from cadenza import flow, task

@task
def load(x):
    print("load ran")
    return x + 1

@task
def train(x):
    if os.environ.get("BREAK_TRAIN"):
        raise RuntimeError("training diverged")
    return x * 2

@flow(persist_result=True)
def pipeline(x: int = 1):
    return train(load(x))

if __name__ == "__main__":
    pipeline(5)
"""


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_script(tmp_path: Path, home: Path, source: str, **env: str) -> subprocess.Popen[str]:
    script = tmp_path / "job.py"
    script.write_text(source)
    return subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "CADENZA_HOME": str(home), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cancel_stops_a_running_flow_in_its_process(
    api: Api, tmp_path: Path, cadenza_home: Path
) -> None:
    proc = start_script(tmp_path, cadenza_home, SLOW_FLOW)
    try:

        def running_task() -> dict[str, Any] | None:
            runs = api.get("/flow_runs")["items"]
            if not runs or runs[0]["state"]["type"] != "RUNNING":
                return None
            tasks = api.get(f"/flow_runs/{runs[0]['id']}/task_runs")["items"]
            return runs[0] if tasks and tasks[0]["state_type"] == "RUNNING" else None

        run = wait_for(running_task, what="the flow run to start its task")
        assert run["pid"] == proc.pid
        answer = api.post(f"/flow_runs/{run['id']}/cancel", expect=202)
        assert answer["signal_sent"] is True
        assert f"pid {proc.pid}" in answer["message"]
        assert answer["flow_run"]["state"]["type"] == "CANCELLING"
        assert answer["flow_run"]["history"][-1]["message"] == (
            "Cancellation requested through the API."
        )
        assert answer["flow_run"]["can_cancel"] is True
        proc.communicate(timeout=30)  # the process received SIGTERM and ended
    finally:
        proc.kill()
    final = wait_for(
        lambda: (r := api.get(f"/flow_runs/{run['id']}"))["state"]["type"] == "CANCELLED" and r,
        timeout=10,
        what="the run to end Cancelled",
    )
    assert [s["name"] for s in final["history"]][-2:] == ["Cancelling", "Cancelled"]
    assert final["task_run_counts"] == {"CANCELLED": 1}
    body = api.post(f"/flow_runs/{run['id']}/cancel", expect=409)
    assert body == {
        "code": "INVALID_STATE",
        "message": f"Flow run {run['name']!r} is Cancelled: only runs that have not "
        "finished can be cancelled.",
        "error_type": "RunStateError",
    }


def record(store: SqlStore, run: FlowRun, *states: Any) -> FlowRun:
    store.apply(make.lifecycle(run, *states))
    return run


def test_cancel_marks_a_run_elsewhere_without_signalling(api: Api, store: SqlStore) -> None:
    run = record(
        store,
        make.flow_run(created=time.time(), hostname="another-machine", pid=os.getpid()),
        Pending(),
        Running(),
    )
    answer = api.post(f"/flow_runs/{run.id}/cancel", expect=202)
    assert answer["signal_sent"] is False
    assert answer["message"] == (
        "Marked Cancelling; no signal sent: its process runs on another-machine, "
        "not on this machine."
    )
    assert answer["flow_run"]["state"]["name"] == "Cancelling"
    again = api.post(f"/flow_runs/{run.id}/cancel", expect=202)
    assert again["message"] == "The run is being cancelled already."
    history = api.get(f"/flow_runs/{run.id}")["history"]
    assert [s["name"] for s in history] == ["Pending", "Running", "Cancelling"]


def test_cancel_signals_the_process_of_a_later_attempt(api: Api, store: SqlStore) -> None:
    # A run created an hour ago, resumed (or started by a worker) by a process started
    # since: the process that recorded itself with the new attempt is the run's.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        an_hour_ago = time.time() - 3600
        run = record(
            store,
            make.flow_run(created=an_hour_ago, hostname=socket.gethostname(), pid=sleeper.pid),
            Pending(timestamp=an_hour_ago),
            Running(timestamp=an_hour_ago + 1),
            Running(name="Retrying", timestamp=time.time() + 1),
        )
        answer = api.post(f"/flow_runs/{run.id}/cancel", expect=202)
        assert answer["signal_sent"] is True
        assert sleeper.wait(timeout=20) == -15
    finally:
        sleeper.kill()
        sleeper.wait()


def test_cancel_never_signals_a_process_that_is_not_the_runs(api: Api, store: SqlStore) -> None:
    host = socket.gethostname()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    dead = record(store, make.flow_run(hostname=host, pid=ended.pid), Pending(), Running())
    assert "has ended" in api.post(f"/flow_runs/{dead.id}/cancel", expect=202)["message"]

    # A live process started after the run's attempt started: its pid was reused.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        an_hour_ago = time.time() - 3600
        old = record(
            store,
            make.flow_run(created=an_hour_ago, hostname=host, pid=sleeper.pid),
            Pending(timestamp=an_hour_ago),
            Running(timestamp=an_hour_ago + 1),
        )
        answer = api.post(f"/flow_runs/{old.id}/cancel", expect=202)
        assert answer["signal_sent"] is False
        assert "now belongs to another" in answer["message"]
        # A run claiming to be created later than now cannot vouch for any process.
        future = record(
            store,
            make.flow_run(created=time.time() + 3600, hostname=host, pid=sleeper.pid),
            Pending(),
            Running(),
        )
        answer = api.post(f"/flow_runs/{future.id}/cancel", expect=202)
        assert "created in the future" in answer["message"]
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()

    own = record(store, make.flow_run(hostname=host, pid=os.getpid()), Pending(), Running())
    answer = api.post(f"/flow_runs/{own.id}/cancel", expect=202)
    assert "inside the server's own process" in answer["message"]


def test_cancel_of_a_scheduled_run_cancels_it_at_once(api: Api, store: SqlStore) -> None:
    run = record(store, make.flow_run(), Scheduled(scheduled_time=time.time() + 600))
    answer = api.post(f"/flow_runs/{run.id}/cancel", expect=202)
    assert answer["signal_sent"] is False
    assert answer["message"] == "The run had not started; it is cancelled."
    assert answer["flow_run"]["state"]["type"] == "CANCELLED"
    assert answer["flow_run"]["end_time_epoch"] is not None
    assert answer["flow_run"]["can_retry"] is False  # no entrypoint


def test_cancel_refuses_finished_and_unknown_runs(api: Api, store: SqlStore) -> None:
    done = make.flow_run(name="done-run")
    store.apply(make.completed(done, Clock()))
    assert api.post(f"/flow_runs/{done.id}/cancel", expect=409) == {
        "code": "INVALID_STATE",
        "message": "Flow run 'done-run' is Completed: only runs that have not finished can "
        "be cancelled.",
        "error_type": "RunStateError",
    }
    assert api.post("/flow_runs/nope/cancel", expect=404)["code"] == "NOT_FOUND"
    cancelling = record(store, make.flow_run(), Pending(), Cancelling())
    assert api.post(f"/flow_runs/{cancelling.id}/cancel", expect=202)["signal_sent"] is False


def test_retry_resumes_a_failed_script_run(api: Api, tmp_path: Path, cadenza_home: Path) -> None:
    proc = start_script(tmp_path, cadenza_home, FAILING_FLOW, BREAK_TRAIN="1")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "training diverged" in err
    (run,) = api.get("/flow_runs")["items"]
    assert run["state"]["name"] == "Failed"
    assert run["entrypoint"].endswith("job.py:pipeline")
    assert api.get(f"/flow_runs/{run['id']}")["can_retry"] is True

    answer = api.post(f"/flow_runs/{run['id']}/retry", expect=202)
    assert answer["pid"] > 0
    assert answer["flow_run"]["id"] == run["id"]
    busy = api.post(f"/flow_runs/{run['id']}/retry", expect=409)
    assert busy["message"] == (
        f"Flow run {run['name']!r} is being retried already (process {answer['pid']})."
    )
    final = wait_for(
        lambda: (r := api.get(f"/flow_runs/{run['id']}"))["state"]["type"] == "COMPLETED" and r,
        timeout=90,
        what="the retried run to complete",
    )
    assert final["run_count"] == 2
    states = [t["state_name"] for t in api.get(f"/flow_runs/{run['id']}/task_runs")["items"]]
    assert states == ["Completed", "Failed", "Cached", "Completed"]
    output = cadenza_home / "server" / f"retry-{run['id']}.log"
    assert "resumed and completed" in wait_for(output.read_text, what="the retry's output")

    body = api.post(f"/flow_runs/{run['id']}/retry", expect=409)
    assert body == {
        "code": "INVALID_STATE",
        "message": f"Flow run {run['name']!r} is Completed: only failed, crashed or cancelled "
        "runs can be retried.",
    }


def test_retry_needs_the_entrypoint(api: Api, store: SqlStore) -> None:
    lost = make.flow_run(name="lost-run")
    store.apply(make.failed(lost, Clock()))
    body = api.post(f"/flow_runs/{lost.id}/retry", expect=409)
    assert body["code"] == "INVALID_STATE"
    assert body["message"].startswith("Flow run 'lost-run' did not record where its flow lives")
    assert f"cadenza runs retry {lost.id} --entrypoint" in body["message"]
    assert api.post("/flow_runs/nope/retry", expect=404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_actions_take_no_query_parameters(api: Api, store: SqlStore, action: str) -> None:
    run = record(store, make.flow_run(), Pending(), Running())
    response = api.client.post(f"/flow_runs/{run.id}/{action}", params={"force": "true"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Unknown query parameter 'force'")
