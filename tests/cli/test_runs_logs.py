"""``cadenza runs logs``."""

from __future__ import annotations

import json
import threading
import time

from cadenza import flow, get_run_logger
from cadenza.store import get_store
from tests.cli.conftest import Invoke, Recorded


def _messages(out: str) -> list[str]:
    return [line.split(" | ", 3)[3] for line in out.splitlines()]


def _labels(out: str) -> list[str]:
    return [line.split(" | ", 3)[2] for line in out.splitlines()]


def test_lines_in_order_with_subflows(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "logs", recorded.pipeline.id).output
    run, sub = recorded.pipeline.name, recorded.child.name
    assert _messages(out) == [
        f"Beginning flow run '{run}' for flow 'pipeline'",
        "pipeline starts",
        "adding 0 and 1",
        "adding 1 and 1",
        "adding 2 and 1",
        f"Beginning flow run '{sub}' for flow 'child'",
        "child starts",
        "adding 5 and 10",
        "Finished in state Completed()",
        "Finished in state Completed()",
    ]
    assert _labels(out) == [run, run, "add-0", "add-1", "add-2", sub, sub, f"{sub}/add-0", sub, run]
    first = out.splitlines()[0].split(" | ")
    assert first[1].strip() == "INFO"
    assert len(first[0]) == len("2026-01-31 09:00:00.250")


def test_level_filters(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "logs", recorded.failing.id, "--level", "warning").output
    levels = [line.split(" | ")[1].strip() for line in out.splitlines()]
    assert set(levels) == {"WARNING", "ERROR"}
    assert _messages(out).count("trying 3") == 3
    assert invoke("runs", "logs", recorded.failing.id, "--level", "50").output == ""


def test_bad_level(recorded: Recorded, invoke: Invoke) -> None:
    result = invoke("runs", "logs", recorded.failing.id, "--level", "loud", exit_code=1)
    assert "--level 'loud' is not a logging level" in result.stderr


def test_one_task_run(recorded: Recorded, invoke: Invoke) -> None:
    tree = invoke("runs", "show", recorded.pipeline.id).output.split("Task runs\n")[1]
    short = next(line.split()[2] for line in tree.splitlines() if " add-2 " in line)
    task = recorded.tasks["pipeline/add-2"]
    assert task.id.startswith(short)
    by_option = invoke("runs", "logs", recorded.pipeline.id, "--task", short).output
    by_id = invoke("runs", "logs", task.id).output
    assert by_option == by_id
    assert _messages(by_id) == ["adding 2 and 1"]


def test_task_run_of_a_subflow(recorded: Recorded, invoke: Invoke) -> None:
    task = recorded.tasks["child/add-0"]
    out = invoke("runs", "logs", recorded.pipeline.id, "--task", task.id).output
    assert _messages(out) == ["adding 5 and 10"]
    assert _labels(out) == [f"{recorded.child.name}/add-0"]


def test_task_of_another_run_is_refused(recorded: Recorded, invoke: Invoke) -> None:
    task = recorded.tasks["failing/add-0"]
    result = invoke("runs", "logs", recorded.pipeline.id, "--task", task.id, exit_code=1)
    assert "is not part of flow run" in result.stderr
    flow_id = invoke("runs", "logs", recorded.pipeline.id, "--task", recorded.child.id, exit_code=1)
    assert "not of a task run" in flow_id.stderr


def test_json_lines(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "logs", recorded.pipeline.id, "--json").output
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 10
    add = records[2]
    assert add["run_name"] == "add-0"
    assert add["task_run_id"] == recorded.tasks["pipeline/add-0"].id
    assert add["flow_run_id"] == recorded.pipeline.id
    assert (add["level"], add["level_name"], add["logger"]) == (20, "INFO", "cadenza.task_runs")
    assert add["timestamp"].endswith("Z")
    assert isinstance(add["timestamp_epoch"], float)
    ids = [r["id"] for r in records]
    assert ids == sorted(ids)


def test_follow_prints_lines_until_the_run_ends(recorded: Recorded, invoke: Invoke) -> None:
    gate = threading.Event()

    @flow
    def gated() -> None:
        logger = get_run_logger()
        logger.info("before the gate")
        gate.wait(10)
        logger.info("after the gate")

    thread = threading.Thread(target=gated)
    thread.start()
    try:
        store = get_store()
        deadline = time.monotonic() + 10
        while not (found := store.list_flow_runs(limit=1)) or found[0].flow_name != "gated":
            assert time.monotonic() < deadline, "the flow run was not recorded"
            time.sleep(0.02)
        run_id = found[0].id
        threading.Timer(0.3, gate.set).start()
        started = time.monotonic()
        out = invoke("runs", "logs", run_id, "--follow", "--poll-interval", "0.05").stdout
    finally:
        gate.set()
        thread.join()
    assert time.monotonic() - started < 5
    messages = _messages(out)
    assert messages[1:] == ["before the gate", "after the gate", "Finished in state Completed()"]


def test_follow_of_a_finished_run_returns(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "logs", recorded.failing.id, "-f", "--poll-interval", "0.01").output
    assert out == invoke("runs", "logs", recorded.failing.id).output
