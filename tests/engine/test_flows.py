"""Flows and tasks: calling, recording, names, parameters, results, errors."""

from __future__ import annotations

import pytest

from cadenza import Flow, State, Task, flow, get_run_logger, tags, task
from cadenza.context import MissingContextError
from cadenza.exceptions import ParameterTypeError
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter, RunStore


class Custom:
    pass


def names(history: list[State] | None) -> list[str]:
    return [s.name for s in history or []]


def test_bare_and_configured_decorators_make_flows_and_tasks() -> None:
    @task
    def a() -> int:
        return 1

    @task(name="bee", tags=["x"], version="7", description="B.")
    def b() -> int:
        return 2

    @flow
    def my_pipeline() -> int:
        return a() + b()

    @flow(name="other", description="Other flow.")
    def f2() -> None:
        pass

    assert isinstance(a, Task)
    assert isinstance(my_pipeline, Flow)
    assert (b.name, b.tags, b.version, b.description) == ("bee", frozenset({"x"}), "7", "B.")
    assert my_pipeline.name == "my-pipeline"
    assert f2.description == "Other flow."
    assert my_pipeline() == 3


def test_flow_run_and_task_runs_are_recorded_with_full_history(store: RunStore) -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @flow
    def pipeline(n: int = 3) -> list[int]:
        return [double(i) for i in range(n)]

    assert pipeline() == [0, 2, 4]
    (run,) = store.list_flow_runs()
    full = store.read_flow_run(run.id)
    assert full is not None
    assert full.flow_name == "pipeline"
    assert full.parameters == {"n": 3}
    assert names(full.history) == ["Pending", "Running", "Completed"]
    assert full.state is not None and full.state.type is StateType.COMPLETED
    assert full.start_time is not None and full.end_time is not None
    task_runs = store.list_task_runs(run.id)
    assert [t.name for t in task_runs] == ["double-0", "double-1", "double-2"]
    assert [t.inputs for t in task_runs][1] == {"x": {"type": "int", "value": 1}}
    tr = store.read_task_run(task_runs[2].id)
    assert tr is not None
    assert names(tr.history) == ["Pending", "Running", "Completed"]
    assert tr.flow_run_id == run.id
    assert tr.run_count == 1


def test_exception_reaches_the_caller_as_in_plain_python(store: RunStore) -> None:
    class MyError(Exception):
        pass

    err = MyError("bad data")

    @task
    def boom() -> None:
        raise err

    @flow
    def pipeline() -> None:
        boom()

    with pytest.raises(MyError) as info:
        pipeline()
    assert info.value is err
    (run,) = store.list_flow_runs()
    full = store.read_flow_run(run.id)
    assert full is not None and full.history is not None
    final = full.history[-1]
    assert final.type is StateType.FAILED
    assert final.error_type is not None and final.error_type.endswith("MyError")
    assert final.message == "MyError: bad data"
    assert final.traceback is not None and "raise err" in final.traceback
    (tr,) = store.list_task_runs(run.id)
    assert tr.state is not None and tr.state.type is StateType.FAILED


def test_handled_task_failure_does_not_fail_the_flow(store: RunStore) -> None:
    @task
    def boom() -> None:
        raise ValueError("nope")

    @flow
    def pipeline() -> str:
        try:
            boom()
        except ValueError:
            return "recovered"
        return "unreachable"

    assert pipeline() == "recovered"
    (run,) = store.list_flow_runs()
    assert run.state is not None and run.state.type is StateType.COMPLETED
    (tr,) = store.list_task_runs(run.id)
    assert tr.state is not None and tr.state.type is StateType.FAILED


def test_return_state_gives_the_final_state() -> None:
    @task
    def boom() -> None:
        raise ValueError("x")

    @task
    def ok() -> int:
        return 5

    @flow
    def pipeline() -> tuple[State, State]:
        return ok(return_state=True), boom(return_state=True)

    ok_state, failed_state = pipeline()
    assert ok_state.is_completed() and ok_state.result() == 5
    assert failed_state.is_failed()
    with pytest.raises(ValueError, match="x"):
        failed_state.result()
    assert isinstance(failed_state.result(raise_on_failure=False), ValueError)

    failed_flow = flow(lambda: 1 / 0, name="div")(return_state=True)
    assert failed_flow.is_failed()


def test_parameters_are_validated_and_coerced_before_the_run(store: RunStore) -> None:
    calls = []

    @flow
    def train(year: int, month: int = 1, lr: float = 0.1) -> tuple[int, int, float]:
        calls.append(1)
        return year, month, lr

    assert train("2024", month="3") == (2024, 3, 0.1)
    with pytest.raises(ParameterTypeError) as info:
        train(2024, month="march")
    message = str(info.value)
    assert "month" in message and "train" in message and "march" in message
    with pytest.raises(ParameterTypeError, match="yeer"):
        train(yeer=2024)
    with pytest.raises(ParameterTypeError, match="year"):
        train()
    assert len(calls) == 1
    assert store.count_flow_runs() == 1


def test_validation_can_be_turned_off() -> None:
    @flow(validate_parameters=False)
    def f(x: int) -> object:
        return x

    assert f("not an int") == "not an int"


def test_annotations_that_are_not_types_do_not_break_flows() -> None:
    # A real-world script annotated its return value like this.
    @flow
    def prepare(path: str, n: "NotAType" = 3) -> tuple([int, int]):  # type: ignore[valid-type]  # noqa: F821, UP037, C409
        return (len(path), n)

    assert prepare("abc") == (3, 3)

    @flow
    def uses_custom(obj: Custom, count: int) -> int:
        return count

    assert uses_custom(Custom(), "2") == 2
    with pytest.raises(ParameterTypeError, match="obj"):
        uses_custom("not custom", 1)


def test_flow_parameters_of_any_kind_are_recorded(store: RunStore) -> None:
    import datetime as dt

    @flow
    def f(day: dt.date, values: list[float], extra: object = None) -> None:
        pass

    f(dt.date(2024, 1, 31), [1.0, 2.5], extra=object())
    (run,) = store.list_flow_runs()
    assert run.parameters["day"] == "2024-01-31"
    assert run.parameters["values"] == [1.0, 2.5]
    assert run.parameters["extra"] == {"type": "object", "summary": True}


def test_run_names_from_templates(store: RunStore) -> None:
    @task(task_run_name="fit-{model}")
    def fit(model: str) -> str:
        return model

    @flow(flow_run_name="train-{month}")
    def train(month: int) -> None:
        fit("xgb")

    train(5)
    (run,) = store.list_flow_runs()
    assert run.name == "train-5"
    assert [t.name for t in store.list_task_runs(run.id)] == ["fit-xgb"]


def test_tags_from_decorators_and_context(store: RunStore) -> None:
    @task(tags=["io"])
    def t() -> None:
        pass

    @flow(tags=["nightly"])
    def f() -> None:
        t()

    with tags("taxi"):
        f()
    (run,) = store.list_flow_runs()
    assert run.tags == ["nightly", "taxi"]
    (tr,) = store.list_task_runs(run.id)
    assert tr.tags == ["io", "taxi"]
    assert store.list_flow_runs(FlowRunFilter(tags=["taxi"]))[0].id == run.id
    assert store.list_flow_runs(FlowRunFilter(tags=["missing"])) == []


def test_with_options_copies_and_changes_options() -> None:
    @task(retries=1)
    def t() -> int:
        return 1

    t2 = t.with_options(name="renamed", retries=3)
    assert (t2.name, t2.retries, t.retries) == ("renamed", 3, 1)
    with pytest.raises(TypeError, match="retires"):
        t.with_options(retires=3)

    @flow
    def f() -> int:
        return t2()

    f2 = f.with_options(name="f2", timeout_seconds=5)
    assert (f2.name, f2.timeout_seconds) == ("f2", 5.0)
    assert f2() == 1


def test_invalid_options_give_clear_errors() -> None:
    with pytest.raises(ValueError, match="retries"):
        task(retries=-1)(lambda: None)
    with pytest.raises(ValueError, match="retry_delay_seconds"):
        task(retries=1, retry_delay_seconds=[-1])(lambda: None)
    with pytest.raises(ValueError, match="timeout_seconds"):
        flow(timeout_seconds=0)(lambda: None)
    with pytest.raises(TypeError, match="on_failure"):
        task(on_failure=["not callable"])(lambda: None)


def test_subflow_is_its_own_flow_run_linked_to_its_parent(store: RunStore) -> None:
    @task
    def t() -> int:
        return 1

    @flow
    def child(x: int) -> int:
        return t() + x

    @flow
    def parent() -> int:
        return child(1) + child(2)

    assert parent() == 5
    runs = store.list_flow_runs()
    assert len(runs) == 3
    (top,) = [r for r in runs if r.parent_flow_run_id is None]
    children = [r for r in runs if r.parent_flow_run_id == top.id]
    assert len(children) == 2
    slots = store.list_task_runs(top.id)
    assert [s.kind for s in slots] == ["subflow", "subflow"]
    assert {s.subflow_run_id for s in slots} == {c.id for c in children}
    for c in children:
        assert c.parent_task_run_id in {s.id for s in slots}
        assert len(store.list_task_runs(c.id)) == 1
    assert all(s.state is not None and s.state.is_completed() for s in slots)
    top_only = store.list_flow_runs(FlowRunFilter(top_level_only=True))
    assert [r.id for r in top_only] == [top.id]


def test_failed_subflow_fails_its_slot_and_parent(store: RunStore) -> None:
    @flow
    def child() -> None:
        raise RuntimeError("child broke")

    @flow
    def parent() -> None:
        child()

    with pytest.raises(RuntimeError, match="child broke"):
        parent()
    top = store.list_flow_runs(FlowRunFilter(top_level_only=True))[0]
    (slot,) = store.list_task_runs(top.id)
    assert slot.state is not None and slot.state.is_failed()
    assert top.state is not None and top.state.is_failed()


def test_task_outside_a_flow_runs_and_is_recorded(store: RunStore) -> None:
    @task
    def t(x: int) -> int:
        return x + 1

    assert t(1) == 2
    from cadenza.reporting import get_reporter

    assert get_reporter().flush()
    assert store.list_flow_runs() == []


def test_run_logger_records_logs(store: RunStore) -> None:
    @task
    def t() -> None:
        get_run_logger().warning("from the task %d", 7)

    @flow
    def f() -> None:
        get_run_logger().info("from the flow")
        t()

    f()
    (run,) = store.list_flow_runs()
    messages = [(e.message, e.task_run_id is not None) for e in store.read_logs(run.id)]
    assert ("from the flow", False) in messages
    assert ("from the task 7", True) in messages


def test_run_logger_outside_a_run_is_a_clear_error() -> None:
    with pytest.raises(MissingContextError, match="@flow or @task"):
        get_run_logger()


def test_log_prints_captures_print_and_still_prints(
    store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    @task
    def t() -> None:
        print("hello from task")

    @flow(log_prints=True)
    def f() -> None:
        print("hello", "flow", sep="-")
        t()

    @flow
    def quiet() -> None:
        print("not logged")

    f()
    quiet()
    out = capsys.readouterr().out
    assert "hello-flow" in out and "hello from task" in out and "not logged" in out
    runs = {r.flow_name: r for r in store.list_flow_runs()}
    logged = [e.message for e in store.read_logs(runs["f"].id)]
    assert "hello-flow" in logged and "hello from task" in logged
    assert not [e for e in store.read_logs(runs["quiet"].id) if e.message == "not logged"]


def test_keyboard_interrupt_crashes_the_run_and_propagates(store: RunStore) -> None:
    @task
    def interrupted() -> None:
        raise KeyboardInterrupt

    @flow
    def f() -> None:
        interrupted()

    with pytest.raises(KeyboardInterrupt):
        f()
    (run,) = store.list_flow_runs()
    assert run.state is not None and run.state.type is StateType.CRASHED
    (tr,) = store.list_task_runs(run.id)
    assert tr.state is not None and tr.state.type is StateType.CRASHED


def test_tasks_as_methods_bind_self() -> None:
    class Model:
        def __init__(self) -> None:
            self.k = 3

        @task
        def scale(self, x: int) -> int:
            return self.k * x

    @flow
    def f() -> int:
        return Model().scale(2)

    assert f() == 6
