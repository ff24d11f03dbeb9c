"""Retries and their delays, timeouts on every kind of thread, hooks."""

from __future__ import annotations

import time

import pytest

from cadenza import exponential_backoff, flow, task
from cadenza.engine.retries import retry_delay
from cadenza.exceptions import FlowRunTimeoutError, TaskRunTimeoutError
from cadenza.states import StateType
from cadenza.store.base import RunStore


def flaky(failures: int, exc: type[Exception] = ConnectionError):
    calls = {"n": 0}

    def fn() -> int:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise exc(f"attempt {calls['n']} failed")
        return calls["n"]

    return fn, calls


def test_retries_rerun_the_task_and_record_every_attempt(store: RunStore) -> None:
    fn, _calls = flaky(2)
    download = task(retries=3, retry_delay_seconds=0.05)(fn)

    @flow
    def f() -> int:
        return download()

    started = time.monotonic()
    assert f() == 3
    assert time.monotonic() - started >= 0.1
    (run,) = store.list_flow_runs()
    (tr,) = store.list_task_runs(run.id)
    assert tr.run_count == 3
    full = store.read_task_run(tr.id)
    assert full is not None and full.history is not None
    assert [s.name for s in full.history] == [
        "Pending",
        "Running",
        "AwaitingRetry",
        "Retrying",
        "AwaitingRetry",
        "Retrying",
        "Completed",
    ]
    waits = [s for s in full.history if s.name == "AwaitingRetry"]
    assert waits[0].message == "ConnectionError: attempt 1 failed"
    assert waits[0].error_type == "ConnectionError"
    assert waits[0].traceback is not None and "attempt" in waits[0].traceback
    assert waits[0].data is not None and "scheduled_time" in waits[0].data


def test_retries_exhausted_fail_with_the_last_error() -> None:
    fn, calls = flaky(5)
    t = task(retries=2)(fn)

    @flow
    def f() -> None:
        t()

    with pytest.raises(ConnectionError, match="attempt 3"):
        f()
    assert calls["n"] == 3


def test_retry_condition_fn_decides() -> None:
    fn, calls = flaky(5, exc=KeyError)

    def only_connection_errors(task, task_run, state) -> bool:  # type: ignore[no-untyped-def]
        assert task_run.name.startswith("fn")
        return state.error_type == "ConnectionError"

    t = task(retries=3, retry_condition_fn=only_connection_errors)(fn)

    @flow
    def f() -> None:
        t()

    with pytest.raises(KeyError):
        f()
    assert calls["n"] == 1


def test_retry_delays_numbers_lists_backoff_and_jitter() -> None:
    assert retry_delay(5, 3, 1, None) == 5
    assert retry_delay([1, 2], 3, 1, None) == 1
    assert retry_delay([1, 2], 3, 3, None) == 2
    backoff = exponential_backoff(backoff_factor=10)
    assert backoff(3) == [10, 20, 40]
    assert [retry_delay(backoff, 3, n, None) for n in (1, 2, 3)] == [10, 20, 40]
    jittered = [retry_delay(10, 1, 1, 0.5) for _ in range(200)]
    assert all(5 <= d <= 15 for d in jittered)
    assert len(set(jittered)) > 1
    with pytest.raises(ValueError, match="backoff_factor"):
        exponential_backoff(-1)


def test_flow_retries_rerun_the_flow(store: RunStore) -> None:
    fn, _calls = flaky(1)

    @flow(retries=1, retry_delay_seconds=0)
    def f() -> int:
        return fn()

    assert f() == 2
    (run,) = store.list_flow_runs()
    assert run.run_count == 2
    assert run.state is not None and run.state.is_completed()


def test_timeout_on_the_main_thread_stops_a_sleeping_task(store: RunStore) -> None:
    @task(timeout_seconds=0.2)
    def sleeper() -> None:
        time.sleep(10)

    @flow
    def f() -> None:
        sleeper()

    started = time.monotonic()
    with pytest.raises(TaskRunTimeoutError, match=r"0\.2 seconds"):
        f()
    assert time.monotonic() - started < 3
    (run,) = store.list_flow_runs()
    (tr,) = store.list_task_runs(run.id)
    assert tr.state is not None
    assert (tr.state.type, tr.state.name) == (StateType.FAILED, "TimedOut")


def test_timeout_is_not_swallowed_by_except_exception() -> None:
    @task(timeout_seconds=0.2)
    def stubborn() -> str:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                time.sleep(0.01)
            except Exception:
                return "swallowed"
        return "finished"

    @flow
    def f() -> None:
        stubborn()

    with pytest.raises(TaskRunTimeoutError):
        f()


def test_timeout_in_a_worker_thread_stops_a_busy_task() -> None:
    @task(timeout_seconds=0.3)
    def busy() -> int:
        n = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            n += 1
        return n

    @flow
    def f() -> str:
        fut = busy.submit()
        fut.wait()
        return fut.state.name

    started = time.monotonic()
    assert f() == "TimedOut"
    assert time.monotonic() - started < 5


def test_timeout_with_retries_retries(store: RunStore) -> None:
    calls = {"n": 0}

    @task(timeout_seconds=0.2, retries=1)
    def slow_then_fast() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(5)
        return "ok"

    @flow
    def f() -> str:
        return slow_then_fast()

    assert f() == "ok"
    (run,) = store.list_flow_runs()
    (tr,) = store.list_task_runs(run.id)
    full = store.read_task_run(tr.id)
    assert full is not None and full.history is not None
    assert "AwaitingRetry" in [s.name for s in full.history]


def test_flow_timeout() -> None:
    @flow(timeout_seconds=0.2)
    def f() -> None:
        time.sleep(10)

    started = time.monotonic()
    with pytest.raises(FlowRunTimeoutError):
        f()
    assert time.monotonic() - started < 3


def test_a_function_returning_just_in_time_is_not_timed_out() -> None:
    @task(timeout_seconds=0.05)
    def quick() -> int:
        return 1

    @flow
    def f() -> int:
        return sum(quick.submit().result() + quick() for _ in range(50))

    assert f() == 100
    time.sleep(0.1)  # a late timer must not raise anywhere now


def test_hooks_are_called_with_task_run_and_state() -> None:
    seen: list[tuple[str, str, str]] = []

    def on_done(tsk, task_run, state) -> None:  # type: ignore[no-untyped-def]
        seen.append(("done", task_run.name, state.name))

    def on_fail(tsk, task_run, state) -> None:  # type: ignore[no-untyped-def]
        seen.append(("fail", task_run.name, state.message))

    def broken_hook(*args: object) -> None:
        raise RuntimeError("hook bug")

    @task(on_completion=[on_done, broken_hook], on_failure=[on_fail])
    def ok() -> int:
        return 1

    @task(on_failure=[on_fail, broken_hook], retries=1)
    def bad() -> None:
        raise ValueError("bad")

    flow_events: list[str] = []

    @flow(
        on_completion=[lambda fl, run, st: flow_events.append(f"completed {fl.name}")],
        on_failure=[lambda fl, run, st: flow_events.append("failed")],
        on_running=[lambda fl, run, st: flow_events.append("running")],
    )
    def f() -> None:
        ok()
        try:
            bad()
        except ValueError:
            pass

    f()
    assert seen == [("done", "ok-0", "Completed"), ("fail", "bad-0", "ValueError: bad")]
    assert flow_events == ["running", "completed f"]


def test_flow_failure_and_crash_hooks() -> None:
    events: list[str] = []

    @flow(on_failure=lambda fl, run, st: events.append(f"failure:{st.message}"))
    def failing() -> None:
        raise ValueError("x")

    @flow(on_crashed=lambda fl, run, st: events.append("crashed"))
    def crashing() -> None:
        raise KeyboardInterrupt

    with pytest.raises(ValueError, match="x"):
        failing()
    with pytest.raises(KeyboardInterrupt):
        crashing()
    assert events == ["failure:ValueError: x", "crashed"]
