"""Filling a store with many runs quickly, for tests and timing scripts.

Runs are recorded through :meth:`RunStore.apply` in large batches, as the
background writer would record them: flow runs over several flows, some of them
subflows, most Completed and some Failed, Crashed, Cancelled or still Running;
task runs spread over the flow runs, with one flow run holding many of them; a
few log lines per flow run. Ids are UUIDv7 made from each run's creation time, as
the engine makes them.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable

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

FLOW_STATES: list[tuple[StateType, str, float]] = [
    (StateType.COMPLETED, "Completed", 0.895),
    (StateType.FAILED, "Failed", 0.05),
    (StateType.FAILED, "TimedOut", 0.01),
    (StateType.CRASHED, "Crashed", 0.005),
    (StateType.CANCELLED, "Cancelled", 0.01),
    (StateType.COMPLETED, "Cached", 0.01),
    (StateType.RUNNING, "Running", 0.01),
    (StateType.PENDING, "Pending", 0.005),
    (StateType.SCHEDULED, "Late", 0.005),
]
TAGS = [("nightly", 0.3), ("gpu", 0.1), ("prod", 0.05), ("team-ml", 0.2)]


class Ids:
    """UUIDv7 strings for given times, increasing like the engine's."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last_ms = 0
        self.counter = 0

    def at(self, ts: float) -> str:
        ms = int(ts * 1000)
        if ms > self.last_ms:
            self.counter = self.rng.getrandbits(10)
        else:
            ms = self.last_ms
            self.counter += 1
            if self.counter > 0xFFF:
                ms += 1
                self.counter = self.rng.getrandbits(10)
        self.last_ms = ms
        tail = self.rng.getrandbits(62)
        variant = 0x8000 | (tail >> 48)
        h = f"{ms:012x}{0x7000 | self.counter:04x}{variant:04x}{tail & 0xFFFFFFFFFFFF:012x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclasses.dataclass
class Seeded:
    """What :func:`seed` recorded."""

    flow_runs: int = 0
    task_runs: int = 0
    logs: int = 0
    flows: list[str] = dataclasses.field(default_factory=list)
    big_run_id: str | None = None
    """The flow run holding ``big_run_tasks`` task runs."""
    first_created: float = 0.0
    last_created: float = 0.0
    seconds: float = 0.0


def _pick(
    rng: random.Random, weighted: list[tuple[StateType, str, float]]
) -> tuple[StateType, str]:
    x = rng.random()
    for state_type, name, weight in weighted:
        x -= weight
        if x < 0:
            return state_type, name
    return weighted[0][0], weighted[0][1]


def _states(state_type: StateType, name: str, created: float, duration: float) -> list[State]:
    start = created + 0.05
    states = [State(StateType.PENDING, "Pending", timestamp=created)]
    if state_type in (StateType.PENDING, StateType.SCHEDULED):
        return [State(state_type, name, timestamp=created)]
    states.append(State(StateType.RUNNING, "Running", timestamp=start))
    end = start + duration
    if state_type is StateType.RUNNING:
        return states
    if state_type is StateType.FAILED:
        states.append(
            State(
                state_type,
                name,
                timestamp=end,
                message="ValueError: the loss is NaN",
                error_type="ValueError",
                traceback='Traceback (most recent call last):\n  File "train.py", line 12\n'
                "ValueError: the loss is NaN\n",
            )
        )
    else:
        states.append(State(state_type, name, timestamp=end))
    return states


def seed(
    store: RunStore,
    *,
    flow_runs: int = 1_000,
    task_runs: int = 10_000,
    big_run_tasks: int = 0,
    logs_per_run: int = 2,
    flows: int = 25,
    days: float = 90.0,
    end: float | None = None,
    batch_runs: int = 1_000,
    rng_seed: int = 0,
    progress: Callable[[Seeded], None] | None = None,
) -> Seeded:
    """Record ``flow_runs`` flow runs and about ``task_runs`` task runs in ``store``.

    Flow runs are created evenly over ``days`` days ending at ``end`` (default: now),
    oldest first. A sixth of them are subflow runs of the top-level run before them.
    ``big_run_tasks`` of the task runs go to one flow run in the middle, the rest are
    spread over the others (9 to 11 each on average for the defaults).
    """
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    ids = Ids(rng)
    end = time.time() if end is None else end
    first = end - days * 86400
    step = (end - first) / max(flow_runs, 1)
    names = [f"flow-{i:02d}" for i in range(flows)]
    weights = [1 / (i + 1) for i in range(flows)]
    per_run = (task_runs - big_run_tasks) / max(flow_runs - 1, 1)
    big_index = flow_runs // 2 if big_run_tasks else -1
    out = Seeded(flows=names, first_created=first)
    events: list[Event] = []
    last_top: FlowRun | None = None
    for i in range(flow_runs):
        created = first + i * step
        flow_name = rng.choices(names, weights)[0]
        parent = last_top if last_top is not None and rng.random() < 1 / 6 else None
        state_type, state_name = _pick(rng, FLOW_STATES)
        if i == big_index:
            state_type, state_name = StateType.COMPLETED, "Completed"
        run = FlowRun(
            id=ids.at(created),
            name=f"{flow_name}-run-{i}",
            flow_name=parent.flow_name + "-sub" if parent is not None else flow_name,
            parameters={"i": i, "lr": 0.01, "dataset": "taxi-2024"},
            tags=sorted(t for t, p in TAGS if rng.random() < p),
            parent_flow_run_id=parent.id if parent is not None else None,
            created=created,
            hostname="seed-host",
            pid=1,
            entrypoint="flows/train.py:train",
        )
        if parent is None:
            last_top = run
        history = _states(state_type, state_name, created, rng.uniform(1, 600))
        events.append(FlowRunCreated(run, history[0]))
        events.extend(FlowRunStateChanged(run.id, s) for s in history[1:])
        n_tasks = big_run_tasks if i == big_index else int(per_run * 2 * rng.random() + 0.5)
        if i == big_index:
            out.big_run_id = run.id
        t = created + 0.06
        for k in range(n_tasks):
            t += 0.0001
            task = TaskRun(
                id=ids.at(t),
                name=f"step-{k % 7}-{k}",
                task_key=f"flows/train.py:step_{k % 7}",
                flow_run_id=run.id,
                dynamic_key=k,
                created=t,
                inputs={"x": {"type": "int", "value": k}},
            )
            task_type = StateType.COMPLETED
            if state_type is not StateType.COMPLETED and k == n_tasks - 1:
                task_type = state_type
            task_history = _states(task_type, task_type.value.capitalize(), t, 0.01)
            events.append(TaskRunCreated(task, task_history[0]))
            events.extend(TaskRunStateChanged(task.id, s) for s in task_history[1:])
            if i == big_index:
                events.append(
                    LogEmitted(LogEntry(run.id, task.id, logging.INFO, "tasks", f"step {k}", t))
                )
                out.logs += 1
        for k in range(logs_per_run):
            level = (
                logging.ERROR
                if k == logs_per_run - 1 and state_type is StateType.FAILED
                else logging.INFO
            )
            events.append(
                LogEmitted(
                    LogEntry(run.id, None, level, "flows", f"line {k} of run {i}", created + k)
                )
            )
        out.flow_runs += 1
        out.task_runs += n_tasks
        out.logs += logs_per_run
        out.last_created = created
        if (i + 1) % batch_runs == 0 or len(events) > 50_000:
            store.apply(events)
            events = []
            if progress is not None:
                progress(out)
    if events:
        store.apply(events)
    out.seconds = time.perf_counter() - started
    return out
