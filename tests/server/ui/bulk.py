"""Many runs recorded straight through :meth:`RunStore.apply`, for the UI's timing checks.

``seed_many`` records flow runs over several flows and the last 30 days, most of
them with a few task runs; ``seed_big_run`` records one flow run with thousands of
task runs that ran 16 at a time, some retried, some failed, with a few subflows.
Ids are UUIDv7 made from each run's creation time, as the engine makes them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from bench.seed import Ids, pick

from cadenza.events import (
    Event,
    FlowRunCreated,
    FlowRunStateChanged,
    LogEmitted,
    TaskRunCreated,
    TaskRunStateChanged,
)
from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import State, StateType
from cadenza.store.base import RunStore

BATCH = 20_000
FLOWS = ["etl", "train", "evaluate", "nightly-report", "feature-store", "backfill"]
FINAL_STATES = [
    (StateType.COMPLETED, "Completed", 0.90),
    (StateType.FAILED, "Failed", 0.05),
    (StateType.FAILED, "TimedOut", 0.01),
    (StateType.CRASHED, "Crashed", 0.01),
    (StateType.CANCELLED, "Cancelled", 0.01),
    (StateType.COMPLETED, "Cached", 0.02),
]


def _apply(store: RunStore, events: Iterator[Event]) -> int:
    batch: list[Event] = []
    n = 0
    for event in events:
        batch.append(event)
        if len(batch) >= BATCH:
            store.apply(batch)
            n += len(batch)
            batch = []
    if batch:
        store.apply(batch)
        n += len(batch)
    return n


def _flow_run_events(
    rng: random.Random, ids: Ids, flow_runs: int, tasks_per_run: int, now: float
) -> Iterator[Event]:
    span = 30 * 86400
    starts = sorted(now - span + rng.random() * (span - 60) for _ in range(flow_runs))
    for i, created in enumerate(starts):
        run_id = ids.at(created)
        state_type, name = pick(rng, FINAL_STATES)
        if i >= flow_runs - 5:
            state_type, name = StateType.RUNNING, "Running"
        tags = [t for t in ("nightly", "gpu", "team-ml") if rng.random() < 0.2]
        run = FlowRun(
            id=run_id,
            name=f"run-{i}",
            flow_name=FLOWS[i % len(FLOWS)],
            parameters={"day": i % 31, "rows": rng.randint(100, 100_000)},
            tags=tags,
            created=created,
        )
        yield FlowRunCreated(run, State(StateType.PENDING, "Pending", timestamp=created))
        start = created + 0.01
        yield FlowRunStateChanged(run_id, State(StateType.RUNNING, "Running", timestamp=start))
        t = start
        for k in range(tasks_per_run):
            task_created = t + 0.001
            task = TaskRun(
                id=ids.at(task_created),
                name=f"step-{k}",
                task_key=f"pipeline.step_{k}",
                flow_run_id=run_id,
                created=task_created,
            )
            begin = task_created + 0.001
            t = begin + rng.random() * 2
            yield TaskRunCreated(task, State(StateType.PENDING, "Pending", timestamp=task_created))
            yield TaskRunStateChanged(task.id, State(StateType.RUNNING, "Running", timestamp=begin))
            yield TaskRunStateChanged(task.id, State(StateType.COMPLETED, "Completed", timestamp=t))
        yield LogEmitted(LogEntry(run_id, None, 20, "cadenza.flow_runs", f"run {i} done", t))
        if state_type is not StateType.RUNNING:
            message = None
            if state_type is StateType.FAILED:
                message = f"ValueError: bad input in partition {i % 97}"
            yield FlowRunStateChanged(
                run_id, State(state_type, name, timestamp=t + 0.01, message=message)
            )


def seed_many(
    store: RunStore, *, flow_runs: int, tasks_per_run: int, seed: int = 7, now: float | None = None
) -> int:
    """Record ``flow_runs`` flow runs of the last 30 days, each with ``tasks_per_run``
    task runs; returns how many events were applied."""
    rng = random.Random(seed)
    ids = Ids(rng)
    return _apply(
        store,
        _flow_run_events(rng, ids, flow_runs, tasks_per_run, time.time() if now is None else now),
    )


def _big_run_events(
    rng: random.Random, ids: Ids, run: FlowRun, tasks: int, subflows: int
) -> Iterator[Event]:
    created = run.created
    yield FlowRunCreated(run, State(StateType.PENDING, "Pending", timestamp=created))
    yield FlowRunStateChanged(run.id, State(StateType.RUNNING, "Running", timestamp=created + 0.05))
    workers = [created + 0.05] * 16
    end = created
    for k in range(tasks):
        slot = min(range(len(workers)), key=workers.__getitem__)
        task_created = created + 0.05 + k * 0.004
        begin = max(workers[slot], task_created)
        is_subflow = subflows and k % (tasks // subflows) == tasks // subflows // 2
        task = TaskRun(
            id=ids.at(task_created),
            name=f"evaluate-{k}" if is_subflow else f"train-shard-{k}",
            task_key="pipeline.evaluate" if is_subflow else "pipeline.train_shard",
            flow_run_id=run.id,
            created=task_created,
            dynamic_key=k,
            kind="subflow" if is_subflow else "task",
        )
        states = [State(StateType.RUNNING, "Running", timestamp=begin)]
        t = begin + rng.expovariate(1 / 0.8)
        retried = rng.random() < 0.03
        if retried:
            for _attempt in range(rng.randint(1, 2)):
                states.append(
                    State(
                        StateType.SCHEDULED,
                        "AwaitingRetry",
                        timestamp=t,
                        message="ConnectionError: reset by peer",
                    )
                )
                t += 0.5
                states.append(State(StateType.RUNNING, "Retrying", timestamp=t))
                t += rng.expovariate(1 / 0.8)
        if rng.random() < 0.005:
            states.append(
                State(StateType.FAILED, "Failed", timestamp=t, message="ValueError: bad shard")
            )
        else:
            states.append(State(StateType.COMPLETED, "Completed", timestamp=t))
        workers[slot] = t
        end = max(end, t)
        if is_subflow:
            sub = FlowRun(
                id=ids.at(task_created + 0.0005),
                name=f"sub-{k}",
                flow_name="evaluate",
                parent_flow_run_id=run.id,
                parent_task_run_id=task.id,
                created=task_created + 0.0005,
            )
            task.subflow_run_id = sub.id
            yield TaskRunCreated(task, State(StateType.PENDING, "Pending", timestamp=task_created))
            yield FlowRunCreated(sub, State(StateType.PENDING, "Pending", timestamp=sub.created))
            yield FlowRunStateChanged(sub.id, State(StateType.RUNNING, "Running", timestamp=begin))
            for j in range(5):
                inner = TaskRun(
                    id=ids.at(begin + j * 0.001),
                    name=f"score-{j}",
                    task_key="pipeline.score",
                    flow_run_id=sub.id,
                    created=begin + j * 0.001,
                )
                yield TaskRunCreated(inner, State(StateType.PENDING, "Pending", timestamp=begin))
                a = begin + j * (t - begin) / 5
                yield TaskRunStateChanged(
                    inner.id, State(StateType.RUNNING, "Running", timestamp=a)
                )
                yield TaskRunStateChanged(
                    inner.id,
                    State(StateType.COMPLETED, "Completed", timestamp=a + (t - begin) / 5),
                )
            yield FlowRunStateChanged(sub.id, State(StateType.COMPLETED, "Completed", timestamp=t))
        else:
            yield TaskRunCreated(task, State(StateType.PENDING, "Pending", timestamp=task_created))
        for state in states:
            yield TaskRunStateChanged(task.id, state)
        if k % 50 == 0:
            yield LogEmitted(
                LogEntry(run.id, task.id, 20, "cadenza.task_runs", f"shard {k} loss 0.{k}", t)
            )
    yield FlowRunStateChanged(run.id, State(StateType.COMPLETED, "Completed", timestamp=end))


def seed_big_run(
    store: RunStore, *, tasks: int, subflows: int = 10, seed: int = 11, created: float | None = None
) -> str:
    """Record one flow run with ``tasks`` task runs (``subflows`` of them subflow
    runs with five task runs each); returns its id."""
    rng = random.Random(seed)
    ids = Ids(rng)
    start = time.time() - 3600 if created is None else created
    run = FlowRun(
        id=ids.at(start),
        name="big-training",
        flow_name="train",
        parameters={"shards": tasks},
        tags=["perf"],
        created=start,
    )
    _apply(store, _big_run_events(rng, ids, run, tasks, subflows))
    return run.id
