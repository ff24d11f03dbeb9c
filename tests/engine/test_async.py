"""Async flows and tasks."""

from __future__ import annotations

import asyncio
import time

import pytest

from cadenza import flow, task
from cadenza.exceptions import TaskRunTimeoutError
from cadenza.store.base import RunStore


def test_async_flow_with_async_and_sync_tasks(store: RunStore) -> None:
    @task
    async def fetch(i: int) -> int:
        await asyncio.sleep(0.1)
        return i

    @task
    def double(x: int) -> int:
        return 2 * x

    @flow
    async def f(n: int) -> list[int]:
        values = await asyncio.gather(*[fetch(i) for i in range(n)])
        return [double(v) for v in values]

    started = time.monotonic()
    assert asyncio.run(f(5)) == [0, 2, 4, 6, 8]
    assert time.monotonic() - started < 0.45  # the five fetches overlapped
    (run,) = store.list_flow_runs()
    assert len(store.list_task_runs(run.id)) == 10


def test_async_task_submitted_from_a_sync_flow() -> None:
    @task
    async def fetch(i: int) -> int:
        await asyncio.sleep(0.01)
        return i + 1

    @flow
    def f() -> list[int]:
        return fetch.map([1, 2, 3]).result()

    assert f() == [2, 3, 4]


def test_async_task_timeout_and_retries(store: RunStore) -> None:
    calls = {"n": 0}

    @task(timeout_seconds=0.1)
    async def slow() -> None:
        await asyncio.sleep(5)

    @task(retries=2, retry_delay_seconds=0)
    async def flaky() -> int:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("down")
        return calls["n"]

    @task
    async def raises_timeout_error() -> None:
        raise TimeoutError("the user's own timeout")

    @flow
    async def f() -> int:
        with pytest.raises(TaskRunTimeoutError):
            await slow()
        with pytest.raises(TimeoutError, match="user's own"):
            await raises_timeout_error()
        return await flaky()

    assert asyncio.run(f()) == 3
    (run,) = store.list_flow_runs()
    states = {t.name: t.state for t in store.list_task_runs(run.id)}
    assert states["slow-0"] is not None and states["slow-0"].name == "TimedOut"
    assert states["raises_timeout_error-0"] is not None
    assert states["raises_timeout_error-0"].name == "Failed"


def test_async_subflow() -> None:
    @flow
    async def child(x: int) -> int:
        return x + 1

    @flow
    async def parent() -> int:
        return await child(1)

    assert asyncio.run(parent()) == 2
