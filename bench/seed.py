"""A cadenza store filled with many realistic runs, quickly: for the benchmarks and tests.

    python bench/seed.py [--flow-runs 100000] [--task-runs 1000000] [--big-run-tasks 10000]

:func:`seed` records runs through :meth:`RunStore.apply` in large batches, as the
background writer would record them: flow runs over several flows, a sixth of them
subflow runs (each with its slot, a task run of kind ``subflow`` in its parent), most
Completed and some Failed, TimedOut, Crashed, Cancelled, Cached, still Running,
Pending or Late; tags on some; task runs spread over the flow runs, with one flow run
holding many of them (and a log line for each); a few log lines per flow run. Ids are
UUIDv7 made from each run's creation time, as the engine makes them. 100,000 flow
runs and 1,000,000 task runs take about half a minute.

:func:`seeded_database` keeps a seeded SQLite file under ``bench/out/`` and reuses it
while its parameters, this module and cadenza's schema version are the same; the
command line above does the same and prints where the file is.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

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

OUT_DIR = Path(__file__).resolve().parent / "out"
END = 1_780_000_000.0
"""When the runs of a seeded file end (2026-05-28): fixed, so that a file can be reused."""

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
    subflow_runs: int = 0
    big_run_id: str | None = None
    """The flow run holding ``big_run_tasks`` task runs."""
    first_created: float = 0.0
    last_created: float = 0.0
    seconds: float = 0.0


def pick(rng: random.Random, weighted: list[tuple[StateType, str, float]]) -> tuple[StateType, str]:
    """A state type and name drawn with the weights of ``weighted`` (the first one when
    the weights add up to less than the draw)."""
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
    oldest first. A sixth of them are subflow runs of the top-level run before them,
    each called from a task run of kind ``subflow`` in its parent (counted in
    ``task_runs``). ``big_run_tasks`` of the task runs go to one top-level flow run in
    the middle, which has no subflows and one log line per task run; the rest are
    spread over the others (9 to 11 each on average for the defaults). The same
    arguments record the same runs.
    """
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    ids = Ids(rng)
    end = time.time() if end is None else end
    first = end - days * 86400
    step = (end - first) / max(flow_runs, 1)
    names = [f"flow-{i:02d}" for i in range(flows)]
    weights = [1 / (i + 1) for i in range(flows)]
    # About a sixth of the flow runs are subflow runs, each with its slot task run.
    per_run = max(task_runs - big_run_tasks - flow_runs / 6, 0) / max(flow_runs - 1, 1)
    big_index = flow_runs // 2 if big_run_tasks else -1
    out = Seeded(flows=names, first_created=first)
    events: list[Event] = []
    last_top: FlowRun | None = None
    slots = 0
    for i in range(flow_runs):
        created = first + i * step
        flow_name = rng.choices(names, weights)[0]
        is_sub = last_top is not None and rng.random() < 1 / 6 and i != big_index
        parent = last_top if is_sub else None
        state_type, state_name = pick(rng, FLOW_STATES)
        if i == big_index:
            state_type, state_name = StateType.COMPLETED, "Completed"
        history = _states(state_type, state_name, created, rng.uniform(1, 600))
        slot: TaskRun | None = None
        if parent is not None:
            # The subflow's slot in its parent: a task run that starts with the subflow.
            slots += 1
            slot = TaskRun(
                id=ids.at(created - 0.001),
                name=f"{flow_name}-sub-{i}",
                task_key=f"flows/train.py:{flow_name}",
                flow_run_id=parent.id,
                dynamic_key=i,
                kind="subflow",
                created=created - 0.001,
            )
        run = FlowRun(
            id=ids.at(created),
            name=f"{flow_name}-run-{i}",
            flow_name=parent.flow_name + "-sub" if parent is not None else flow_name,
            parameters={"i": i, "lr": 0.01, "dataset": "taxi-2024"},
            tags=sorted(t for t, p in TAGS if rng.random() < p),
            parent_flow_run_id=parent.id if parent is not None else None,
            parent_task_run_id=slot.id if slot is not None else None,
            created=created,
            hostname="seed-host",
            pid=1,
            entrypoint="flows/train.py:train",
        )
        if slot is not None:
            slot.subflow_run_id = run.id
            slot_history = [
                State(s.type, s.name, timestamp=s.timestamp - 0.001, message=s.message)
                for s in history
            ]
            events.append(TaskRunCreated(slot, slot_history[0]))
            events.extend(TaskRunStateChanged(slot.id, s) for s in slot_history[1:])
        if parent is None:
            # The big run is nobody's parent: its task runs are exactly big_run_tasks.
            last_top = None if i == big_index else run
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
        out.task_runs += n_tasks + (slot is not None)
        out.logs += logs_per_run
        out.last_created = created
        if (i + 1) % batch_runs == 0 or len(events) > 50_000:
            store.apply(events)
            events = []
            if progress is not None:
                progress(out)
    if events:
        store.apply(events)
    out.subflow_runs = slots
    out.seconds = time.perf_counter() - started
    return out


@dataclasses.dataclass(frozen=True)
class SeedSpec:
    """What a seeded file holds: the arguments of :func:`seed` (see there)."""

    flow_runs: int
    task_runs: int
    big_run_tasks: int
    logs_per_run: int = 2
    flows: int = 25
    days: float = 90.0
    end: float = END
    rng_seed: int = 0

    @property
    def file_name(self) -> str:
        return f"seed-{self.flow_runs}-{self.task_runs}-{self.big_run_tasks}.db"

    def describe(self) -> str:
        return (
            f"{self.flow_runs:,} flow runs, {self.task_runs:,} task runs "
            f"(one run with {self.big_run_tasks:,})"
        )


@dataclasses.dataclass
class SeededFile:
    """A seeded SQLite file and what :func:`seed` recorded in it."""

    path: Path
    info: Seeded
    reused: bool
    fingerprint: dict[str, Any]
    """What it was made with (see :func:`kept_file`)."""

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def file_digest(path: Path) -> str:
    """A short digest of a file's bytes (of a script, to tell its versions apart)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def remove_database(path: Path) -> None:
    """Remove a SQLite file and its ``-wal`` and ``-shm`` files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def kept_file(
    path: Path,
    fingerprint: dict[str, Any],
    make: Callable[[Path], dict[str, Any]],
    *,
    whole: Callable[[Path, dict[str, Any]], bool] | None = None,
    force: bool = False,
) -> tuple[dict[str, Any], bool]:
    """What the database ``path`` holds, and whether it was kept from an earlier run.

    ``path`` is kept when the file ``PATH.json`` next to it says it was made with the
    same ``fingerprint`` and ``whole(path, info)`` agrees that it still holds what it
    was made with. Otherwise (or with ``force``) ``make(partial)`` writes it again at
    another name, returning what it holds as JSON-able ``info``, and the file takes
    its place: an interrupted run never leaves a half-made file at ``path``.
    """
    sidecar = path.with_suffix(".json")
    if not force and path.exists() and sidecar.exists():
        try:
            saved = json.loads(sidecar.read_text())
            if saved.get("fingerprint") == fingerprint and (
                whole is None or whole(path, saved["info"])
            ):
                return saved["info"], True
        except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
            pass
    sidecar.unlink(missing_ok=True)
    remove_database(path)
    partial = path.with_name(path.name + ".partial")
    remove_database(partial)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = make(partial)
    with closing(sqlite3.connect(partial)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(path)
    remove_database(partial)
    sidecar.write_text(json.dumps({"fingerprint": fingerprint, "info": info}, indent=2))
    return info, False


def count_rows(path: Path, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows in each of ``tables`` of the SQLite file ``path``, opened read-only."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        return {
            table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in tables
        }


def seeded_database(
    spec: SeedSpec,
    folder: Path = OUT_DIR,
    *,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> SeededFile:
    """A SQLite file of ``folder`` seeded as ``spec`` says, made now unless one is kept.

    A kept file is reused when it was seeded with the same ``spec``, the same version of
    this module and cadenza's current schema version, and still holds the runs and
    log lines it was seeded with; otherwise (or with ``force``) it is seeded again.
    Whoever uses the file must not change it (a server serving it only reads).
    """
    from cadenza.store.schema import SCHEMA_VERSION
    from cadenza.store.sql import SqlStore

    def make(partial: Path) -> dict[str, Any]:
        say(f"Seeding {spec.describe()} into {partial.name} ...")
        store = SqlStore(f"sqlite:///{partial}")
        try:
            info = seed(store, **dataclasses.asdict(spec))
        finally:
            store.close()
        say(f"Seeded in {info.seconds:.0f} s.")
        return dataclasses.asdict(info)

    def whole(path: Path, info: dict[str, Any]) -> bool:
        tables = ("flow_runs", "task_runs", "logs")
        return count_rows(path, tables) == {table: info[table] for table in tables}

    fingerprint = {
        "spec": dataclasses.asdict(spec),
        "seed_source": file_digest(Path(__file__)),
        "schema": SCHEMA_VERSION,
    }
    path = folder / spec.file_name
    info, kept = kept_file(path, fingerprint, make, whole=whole, force=force)
    return SeededFile(path, Seeded(**info), reused=kept, fingerprint=fingerprint)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/seed.py",
        description="Seed a cadenza SQLite store with many runs, or find the one kept.",
    )
    parser.add_argument("--flow-runs", type=int, default=100_000)
    parser.add_argument("--task-runs", type=int, default=1_000_000)
    parser.add_argument("--big-run-tasks", type=int, default=10_000)
    parser.add_argument("--logs-per-run", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder of the seeded files")
    parser.add_argument("--force", action="store_true", help="seed again even if a file is kept")
    args = parser.parse_args(argv)
    if args.big_run_tasks > args.task_runs or min(args.flow_runs, args.task_runs) < 1:
        parser.error("give at least one flow run and one task run, and no more big-run tasks")
    spec = SeedSpec(args.flow_runs, args.task_runs, args.big_run_tasks, args.logs_per_run)
    seeded = seeded_database(spec, args.out, force=args.force)
    info = seeded.info
    print(
        f"{seeded.path} ({'kept' if seeded.reused else 'new'}): {info.flow_runs:,} flow runs "
        f"({info.subflow_runs:,} subflow runs), {info.task_runs:,} task runs, "
        f"{info.logs:,} log lines; the big run is {info.big_run_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
