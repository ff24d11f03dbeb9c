"""``run_count`` counts the attempts of a run while it runs: 1 on the first, 2 on the
second..., as the store counts them, and as Prefect's ``task_run.run_count`` does."""

from __future__ import annotations

import asyncio

from cadenza import flow, get_run_context, task
from cadenza.context import FlowRunContext, TaskRunContext
from cadenza.runtime import flow_run
from cadenza.store.base import RunStore


def _task_run_count() -> int:
    ctx = get_run_context()
    assert isinstance(ctx, TaskRunContext)
    return ctx.task_run.run_count


def _flow_run_count() -> int:
    ctx = FlowRunContext.get()
    assert ctx is not None
    return ctx.flow_run.run_count


def test_a_retried_task_sees_its_attempt_number(store: RunStore) -> None:
    seen: list[int] = []
    conditions: list[int] = []

    def retry_while_early(task: object, task_run: object, state: object) -> bool:
        conditions.append(getattr(task_run, "run_count", -1))
        return True

    @task(retries=3, retry_delay_seconds=0, retry_condition_fn=retry_while_early)
    def flaky() -> int:
        seen.append(_task_run_count())
        if len(seen) < 3:
            raise ConnectionError(f"attempt {len(seen)} failed")
        return seen[-1]

    @task
    def once() -> int:
        return _task_run_count()

    @flow
    def f() -> tuple[int, int]:
        return flaky(), once()

    assert f() == (3, 1)
    assert seen == [1, 2, 3]
    assert conditions == [1, 2]  # retry_condition_fn sees the attempt that failed
    (run,) = store.list_flow_runs()
    counts = {t.name: t.run_count for t in store.list_task_runs(run.id)}
    assert counts == {"flaky-0": 3, "once-0": 1}  # the store agrees


def test_a_submitted_async_task_sees_its_attempt_number() -> None:
    seen: list[int] = []

    @task(retries=1, retry_delay_seconds=0)
    async def flaky() -> int:
        seen.append(_task_run_count())
        if len(seen) == 1:
            raise ConnectionError("first attempt failed")
        return seen[-1]

    @flow
    def f() -> int:
        return flaky.submit().result()

    assert f() == 2
    assert seen == [1, 2]

    @flow
    async def g() -> int:
        return await flaky()

    seen.clear()
    assert asyncio.run(g()) == 2
    assert seen == [1, 2]


def test_a_retried_flow_sees_its_attempt_number(store: RunStore) -> None:
    seen: list[tuple[int, int]] = []

    @flow(retries=2, retry_delay_seconds=0)
    def f() -> int:
        seen.append((_flow_run_count(), flow_run.run_count))
        if len(seen) < 3:
            raise ValueError(f"attempt {len(seen)} failed")
        return len(seen)

    assert f() == 3
    assert seen == [(1, 1), (2, 2), (3, 3)]
    (run,) = store.list_flow_runs()
    assert run.run_count == 3


def test_a_resumed_flow_run_counts_on_from_its_earlier_attempts(store: RunStore) -> None:
    seen: list[int] = []

    @flow
    def f() -> int:
        seen.append(flow_run.run_count)
        if len(seen) == 1:
            raise ValueError("first attempt failed")
        return seen[-1]

    assert f(return_state=True).is_failed()
    (run,) = store.list_flow_runs()
    assert f.retry(run.id) == 2
    assert seen == [1, 2]
    again = store.read_flow_run(run.id)
    assert again is not None and again.run_count == 2


def test_a_subflow_slot_counts_the_subflow_attempts(store: RunStore) -> None:
    @flow(retries=1, retry_delay_seconds=0)
    def child() -> int:
        if flow_run.run_count == 1:
            raise ValueError("first attempt failed")
        return flow_run.run_count

    @flow
    def parent() -> int:
        return child()

    assert parent() == 2
    parent_run = next(r for r in store.list_flow_runs() if r.flow_name == "parent")
    (slot,) = store.list_task_runs(parent_run.id)
    assert slot.kind == "subflow" and slot.run_count == 2
