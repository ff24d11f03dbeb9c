"""``cadenza runs show``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cadenza import flow, task
from cadenza.reporting import reset_reporter
from tests.cli.conftest import Invoke, Recorded


def test_flow_run_header_history_and_tree(recorded: Recorded, invoke: Invoke) -> None:
    run = recorded.pipeline
    out = invoke("runs", "show", run.id).output
    assert out.splitlines()[0].split() == ["Flow", "run", run.name, run.id]
    assert "Flow        pipeline" in out
    assert "Parameters  n=3" in out
    assert "Tags        nightly" in out
    history = out.split("State history")[1].split("Task runs")[0]
    assert [line.split()[2] for line in history.strip().splitlines()] == [
        "Pending",
        "Running",
        "Completed",
    ]
    tree = out.split("Task runs\n")[1].splitlines()
    assert tree[0].startswith(f"{run.name}  ")
    assert [line.split()[1] for line in tree[1:4]] == ["add-0", "add-1", "add-2"]
    assert tree[4].startswith(f"└── subflow child: {recorded.child.name}  ")
    assert tree[5].startswith("    └── add-0  ")
    assert "Traceback" not in out


def test_failed_run_shows_retries_errors_and_traceback(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "show", recorded.failing.id).output
    assert "State       Failed  ValueError: cannot use 3" in out
    assert "Traceback of the final state (Failed)" in out
    assert 'raise ValueError(f"cannot use {x}")' in out
    flaky = next(line for line in out.splitlines() if "flaky-0" in line)
    assert "Failed" in flaky
    assert "2 retries" in flaky
    assert flaky.rstrip().endswith("ValueError: cannot use 3")
    add = next(line for line in out.splitlines() if "add-0" in line)
    assert "retr" not in add


def test_subflow_run_names_its_parent(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "show", recorded.child.id).output
    assert f"Parent run  {recorded.pipeline.name}  {recorded.pipeline.id}" in out
    assert "Parameters  k=5" in out


def test_flow_run_json_is_a_nested_tree(recorded: Recorded, invoke: Invoke) -> None:
    data = json.loads(invoke("runs", "show", recorded.pipeline.id, "--json").output)
    assert data["kind"] == "flow_run"
    assert data["flow_run"]["id"] == recorded.pipeline.id
    assert [s["name"] for s in data["flow_run"]["history"]] == ["Pending", "Running", "Completed"]
    children = data["children"]
    assert [c["task_run"]["name"] for c in children] == ["add-0", "add-1", "add-2", "child-0"]
    slot = children[3]
    assert slot["task_run"]["kind"] == "subflow"
    assert slot["subflow_run"]["id"] == recorded.child.id
    assert [c["task_run"]["name"] for c in slot["children"]] == ["add-0"]
    assert children[0]["task_run"]["inputs"] == {
        "x": {"type": "int", "value": 0},
        "y": {"type": "int", "value": 1},
    }


def test_failed_json_carries_traceback_and_retries(recorded: Recorded, invoke: Invoke) -> None:
    data = json.loads(invoke("runs", "show", recorded.failing.id, "--json").output)
    last = data["flow_run"]["history"][-1]
    assert last["type"] == "FAILED"
    assert last["error_type"] == "ValueError"
    assert "Traceback (most recent call last)" in last["traceback"]
    flaky = data["children"][1]["task_run"]
    assert (flaky["name"], flaky["run_count"], flaky["retries"]) == ("flaky-0", 3, 2)


def test_task_run_shows_inputs_history_and_logs(recorded: Recorded, invoke: Invoke) -> None:
    task = recorded.tasks["failing/flaky-0"]
    out = invoke("runs", "show", task.id).output
    assert out.splitlines()[0].split() == ["Task", "run", "flaky-0", task.id]
    assert f"Flow run  {recorded.failing.name} (failing)  {recorded.failing.id}" in out
    assert "Inputs    x = 3 (int)" in out
    assert "Runs      3 (2 retries)" in out
    history = out.split("State history")[1].split("Traceback")[0]
    names = [line.split()[2] for line in history.strip().splitlines()]
    assert names == [
        "Pending",
        "Running",
        "AwaitingRetry",
        "Retrying",
        "AwaitingRetry",
        "Retrying",
        "Failed",
    ]
    logs = out.split("\nLogs\n")[1].splitlines()
    assert sum("trying 3" in line for line in logs) == 3
    assert all("| flaky-0 |" in line for line in logs)


def test_task_run_json(recorded: Recorded, invoke: Invoke) -> None:
    task = recorded.tasks["pipeline/add-1"]
    data = json.loads(invoke("runs", "show", task.id, "--json").output)
    assert data["kind"] == "task_run"
    assert data["task_run"]["inputs"]["x"] == {"type": "int", "value": 1}
    assert data["flow_run"]["id"] == recorded.pipeline.id
    assert [e["message"] for e in data["logs"]] == ["adding 1 and 1"]


def test_subflow_slot_points_at_the_subflow_run(recorded: Recorded, invoke: Invoke) -> None:
    slot = recorded.tasks["pipeline/child-0"]
    out = invoke("runs", "show", slot.id).output
    assert f"Subflow run  {recorded.child.id}" in out


def test_unknown_and_ambiguous_ids(recorded: Recorded, invoke: Invoke) -> None:
    unknown = invoke("runs", "show", "ffffffff", exit_code=1)
    assert unknown.stderr == (
        "Error: No flow run or task run has an id starting with 'ffffffff'. "
        "List runs with `cadenza runs ls`.\n"
    )
    ambiguous = invoke("runs", "show", recorded.pipeline.id[:4], exit_code=1)
    assert "is the start of several run ids" in ambiguous.stderr
    assert "give more characters of the id" in ambiguous.stderr
    assert "Traceback" not in ambiguous.output


def test_without_database(home: Path, invoke: Invoke) -> None:
    result = invoke("runs", "show", "0123abcd", exit_code=1)
    assert "there is no cadenza database at" in result.stderr
    assert not (home / "cadenza.db").exists()


@task
def inner(x: int) -> int:
    return x


@flow
def sub() -> int:
    return inner(1)


@task
def outer(x: int) -> int:
    sub()
    return inner(x) + 1


@flow
def top() -> int:
    return outer(2)


def test_runs_inside_a_task_sit_under_it(home: Path, invoke: Invoke) -> None:
    assert top() == 3
    reset_reporter()
    (run,) = json.loads(invoke("runs", "ls", "--json", "--flow", "top").output)
    (sub_run,) = json.loads(invoke("runs", "ls", "--json", "--flow", "sub").output)
    tree = invoke("runs", "show", run["id"]).output.split("Task runs\n")[1].splitlines()
    assert [re.sub(r"  [0-9a-f]{8}-.*", "", line) for line in tree] == [
        run["name"],
        "└── outer-0",
        f"    ├── subflow sub: {sub_run['name']}",
        "    │   └── inner-0",
        "    └── inner-0",
    ]
    data = json.loads(invoke("runs", "show", run["id"], "--json").output)
    (outer_node,) = data["children"]
    first, second = outer_node["children"]
    assert (first["task_run"], first["subflow_run"]["id"]) == (None, sub_run["id"])
    assert first["children"][0]["task_run"]["name"] == "inner-0"
    assert second["task_run"]["parent_task_run_id"] == outer_node["task_run"]["id"]
