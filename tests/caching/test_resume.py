"""Resuming a failed flow run from where it failed."""

from __future__ import annotations

import pandas as pd
import pytest

from cadenza import Task, flow, task
from cadenza.engine.resume import NotResumable
from cadenza.exceptions import ObjectNotFound
from cadenza.states import StateType
from cadenza.store import get_store
from cadenza.store.base import FlowRunFilter

CALLS: list[str] = []
FAIL_ONCE: set[str] = set()


def step(name: str) -> Task[[int], int]:
    @task(name=name)
    def run(x: int) -> int:
        CALLS.append(name)
        if name in FAIL_ONCE:
            FAIL_ONCE.discard(name)
            raise RuntimeError(f"{name} failed")
        return x + 1

    return run


s1, s2, s3, s4, s5 = (step(f"step{i}") for i in range(1, 6))


@flow(persist_result=True)
def five_steps(start: int = 0) -> int:
    return s5(s4(s3(s2(s1(start)))))


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAIL_ONCE.clear()


def test_resume_skips_the_completed_steps_of_a_failed_run() -> None:
    FAIL_ONCE.add("step4")
    state = five_steps(10, return_state=True)
    assert state.is_failed()
    assert CALLS == ["step1", "step2", "step3", "step4"]
    store = get_store()
    (run,) = store.list_flow_runs()

    CALLS.clear()
    assert five_steps.retry(run.id) == 15
    assert CALLS == ["step4", "step5"]  # steps 1-3 were not run again

    again = store.read_flow_run(run.id)
    assert again is not None and again.history is not None
    names = [s.name for s in again.history]
    assert names == ["Pending", "Running", "Failed", "Retrying", "Completed"]
    assert again.run_count == 2
    task_runs = store.list_task_runs(run.id)
    first = {t.name: t for t in task_runs[:4]}
    second = {t.name: t for t in task_runs[4:]}
    for name in ("step1-0", "step2-0", "step3-0"):
        cached = store.read_task_run(second[name].id)
        assert cached is not None and cached.state is not None
        assert cached.state.name == "Cached"
        assert cached.state.data is not None
        assert cached.state.data["cached_from"] == first[name].id
    assert second["step4-0"].state is not None and second["step4-0"].state.name == "Completed"
    assert store.count_flow_runs() == 1  # the same run, not a new one


def test_only_failed_runs_of_the_same_flow_can_be_resumed() -> None:
    five_steps(0)
    (run,) = get_store().list_flow_runs()
    with pytest.raises(NotResumable, match="Completed"):
        five_steps.retry(run.id)
    with pytest.raises(ObjectNotFound, match="runs ls"):
        five_steps.retry("01a20000-0000-7000-8000-000000000000")

    @flow
    def other() -> None:
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"):
        other()
    failed = get_store().list_flow_runs(FlowRunFilter(flow_name="other"))[0]
    with pytest.raises(NotResumable, match="of flow 'other'"):
        five_steps.retry(failed.id)


@task(persist_result=True)
def total(df: pd.DataFrame) -> float:
    CALLS.append("total")
    return float(df["x"].sum())


@task
def check(value: float) -> float:
    CALLS.append("check")
    if "check" in FAIL_ONCE:
        FAIL_ONCE.discard("check")
        raise ValueError("bad value")
    return value


@flow(persist_result=True)
def with_frame(df: pd.DataFrame) -> float:
    return check(total(df))


def test_resume_with_parameters_json_cannot_hold() -> None:
    FAIL_ONCE.add("check")
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    assert with_frame(df, return_state=True).is_failed()
    (run,) = get_store().list_flow_runs()
    assert run.parameters["df"]["summary"] is True
    CALLS.clear()
    assert with_frame.retry(run.id) == 6.0
    assert CALLS == ["check"]


def test_resume_needs_stored_parameters() -> None:
    @flow
    def not_persisting(df: pd.DataFrame) -> None:
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"):
        not_persisting(pd.DataFrame({"x": [1]}))
    (run,) = get_store().list_flow_runs()
    with pytest.raises(NotResumable, match="persist_result=True"):
        not_persisting.retry(run.id)


@flow(persist_result=True)
def child(n: int) -> int:
    return s3(s2(n))


@flow(persist_result=True)
def parent(n: int) -> int:
    a = s1(n)
    return s5(child(a))


def test_subflows_resume_likewise() -> None:
    FAIL_ONCE.add("step3")
    assert parent(0, return_state=True).is_failed()
    assert CALLS == ["step1", "step2", "step3"]
    store = get_store()
    (top,) = store.list_flow_runs(FlowRunFilter(top_level_only=True))
    CALLS.clear()
    assert parent.retry(top.id) == 4
    assert CALLS == ["step3", "step5"]
    children = store.list_flow_runs(FlowRunFilter(flow_name="child"))
    assert len(children) == 1  # the child run was resumed, not replaced
    assert children[0].state is not None and children[0].state.type is StateType.COMPLETED


def test_resuming_from_a_client_of_a_server_says_how_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cadenza.settings import reset_settings

    monkeypatch.setenv("CADENZA_API_URL", "http://127.0.0.1:9")
    reset_settings()
    with pytest.raises(NotResumable, match="Retry button"):
        five_steps.retry("01a20000-0000-7000-8000-000000000000")
