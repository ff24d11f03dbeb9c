"""submit(), map(), futures, wait_for, allow_failure, and real concurrency."""

from __future__ import annotations

import threading
import time

import pytest

from cadenza import (
    ThreadPoolTaskRunner,
    allow_failure,
    as_completed,
    flow,
    task,
    unmapped,
    wait,
)
from cadenza.exceptions import MappingLengthMismatch, UpstreamTaskError
from cadenza.states import StateType
from cadenza.store.base import RunStore


def test_submit_returns_a_future_with_result_wait_and_state() -> None:
    @task
    def add(x: int, y: int) -> int:
        return x + y

    @flow
    def f() -> tuple[int, str, bool]:
        fut = add.submit(1, 2)
        fut.wait()
        return fut.result(), fut.state.name, fut.done()

    assert f() == (3, "Completed", True)


def test_submitted_tasks_run_concurrently(store: RunStore) -> None:
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(i: int) -> int:
        barrier.wait()  # only passes if three runs are in progress at the same time
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
    def f() -> list[int]:
        return [fut.result() for fut in [meet.submit(i) for i in range(3)]]

    assert f() == [0, 1, 2]
    (run,) = store.list_flow_runs()
    task_runs = store.list_task_runs(run.id)
    starts = [t.start_time for t in task_runs]
    ends = [t.end_time for t in task_runs]
    assert all(s is not None for s in starts) and all(e is not None for e in ends)
    assert max(starts) < min(ends)  # type: ignore[type-var]


def test_futures_as_arguments_are_resolved_and_recorded_as_upstream(store: RunStore) -> None:
    @task
    def one() -> int:
        return 1

    @task
    def add(x: int, y: int) -> int:
        return x + y

    @flow
    def f() -> int:
        a = one.submit()
        b = add.submit(a, 10)
        c = add.submit(x=b, y=a)
        return add(c, [a, b][0])

    assert f() == 13
    (run,) = store.list_flow_runs()
    trs = store.list_task_runs(run.id)
    by_name = {t.name: t for t in trs}
    assert by_name["add-1"].inputs == {
        "x": {"upstream": [by_name["add-0"].id]},
        "y": {"upstream": [by_name["one-0"].id]},
    }


def test_map_with_unmapped_and_static_strings(store: RunStore) -> None:
    @task
    def scale(x: int, factor: int, label: str) -> str:
        return f"{label}{x * factor}"

    @flow
    def f() -> list[str]:
        futures = scale.map([1, 2, 3], unmapped(10), "n")
        return futures.result()

    assert f() == ["n10", "n20", "n30"]
    (run,) = store.list_flow_runs()
    assert [t.name for t in store.list_task_runs(run.id)] == ["scale-0", "scale-1", "scale-2"]


def test_map_over_a_future_and_mismatched_lengths() -> None:
    @task
    def numbers() -> list[int]:
        return [1, 2]

    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def add(x: int, y: int) -> int:
        return x + y

    @flow
    def f() -> list[int]:
        return inc.map(numbers.submit()).result()

    assert f() == [2, 3]

    @flow
    def bad() -> None:
        add.map([1, 2], [1, 2, 3])

    with pytest.raises(MappingLengthMismatch, match=r"x=2, y=3"):
        bad()

    @flow
    def nothing_to_map() -> None:
        add.map(1, 2)

    with pytest.raises(TypeError, match="iterable"):
        nothing_to_map()


def test_wait_for_orders_runs_without_data_dependencies() -> None:
    order: list[str] = []

    @task
    def slow() -> None:
        time.sleep(0.2)
        order.append("slow")

    @task
    def after() -> None:
        order.append("after")

    @flow
    def f() -> None:
        s = slow.submit()
        after.submit(wait_for=[s]).wait()

    f()
    assert order == ["slow", "after"]


def test_failed_upstream_stops_downstream_unless_allowed(store: RunStore) -> None:
    @task
    def boom() -> int:
        raise ValueError("upstream broke")

    @task
    def use(x: object) -> str:
        return f"got {type(x).__name__}"

    @flow
    def f() -> tuple[str, str]:
        b = boom.submit()
        skipped = use.submit(b)
        allowed = use.submit(allow_failure(b))
        skipped.wait()
        return skipped.state.name, allowed.result()

    # Every failure was handled: skipped's state was looked at, b was allowed.
    assert f() == ("NotReady", "got ValueError")
    (run,) = store.list_flow_runs()
    assert run.state is not None and run.state.is_completed()
    by_name = {t.name: t for t in store.list_task_runs(run.id)}
    assert by_name["use-0"].state is not None
    assert by_name["use-0"].state.name == "NotReady"
    assert by_name["use-1"].state is not None and by_name["use-1"].state.is_completed()


def test_not_ready_result_raises_upstream_error() -> None:
    @task
    def boom() -> int:
        raise ValueError("x")

    @task
    def use(x: int) -> int:
        return x

    @flow
    def f() -> None:
        fut = use.submit(boom.submit())
        with pytest.raises(UpstreamTaskError, match="boom-0"):
            fut.result()

    with pytest.raises(ValueError, match="x"):
        f()  # the unobserved failure of boom still fails the flow


def test_unobserved_failed_future_fails_the_flow(store: RunStore) -> None:
    @task
    def boom() -> None:
        raise ValueError("nobody looked")

    @flow
    def f() -> str:
        boom.submit()
        return "done"

    with pytest.raises(ValueError, match="nobody looked"):
        f()
    (run,) = store.list_flow_runs()
    assert run.state is not None and run.state.is_failed()
    assert run.state.message is not None and "boom-0" in run.state.message


def test_observed_failed_future_does_not_fail_the_flow() -> None:
    @task
    def boom() -> None:
        raise ValueError("handled")

    @flow
    def f() -> str:
        fut = boom.submit()
        try:
            fut.result()
        except ValueError:
            return "handled"
        return "?"

    assert f() == "handled"


def test_flow_waits_for_unawaited_futures(store: RunStore) -> None:
    @task
    def slow() -> int:
        time.sleep(0.1)
        return 1

    @flow
    def f() -> None:
        slow.submit()

    f()
    (run,) = store.list_flow_runs()
    (tr,) = store.list_task_runs(run.id)
    assert tr.state is not None and tr.state.type is StateType.COMPLETED


def test_returning_futures_resolves_them() -> None:
    @task
    def sq(x: int) -> int:
        return x * x

    @flow
    def f() -> object:
        return sq.map([1, 2, 3])

    @flow
    def g() -> object:
        return sq.submit(4)

    assert f() == [1, 4, 9]
    assert g() == 16


def test_wait_and_as_completed() -> None:
    @task
    def sleepy(s: float) -> float:
        time.sleep(s)
        return s

    @flow
    def f() -> list[float]:
        futures = sleepy.map([0.3, 0.0])
        done, not_done = wait(futures, timeout=10)
        assert len(done) == 2 and not not_done
        return [fut.result() for fut in as_completed(sleepy.map([0.3, 0.0]))]

    assert f() == [0.0, 0.3]


def test_deep_dependency_chains_do_not_exhaust_the_pool() -> None:
    @task
    def inc(x: int) -> int:
        return x + 1

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def f() -> int:
        fut = inc.submit(0)
        for _ in range(50):
            fut = inc.submit(fut)
        return fut.result()

    assert f() == 51


def test_submit_outside_a_flow_works() -> None:
    @task
    def inc(x: int) -> int:
        return x + 1

    assert inc.submit(1).result() == 2
