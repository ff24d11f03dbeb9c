"""The written contract of :class:`~cadenza.store.base.RunStore`, on every backend.

Every test here receives a fresh, empty store of each backend in
:data:`tests.store.backends.BACKENDS` and speaks to it only through the interface.
"""

from __future__ import annotations

import logging

import pytest

from cadenza.events import Event
from cadenza.exceptions import StoreError
from cadenza.runs import Artifact, FlowRun, LogEntry, TaskRun
from cadenza.states import (
    AwaitingRetry,
    Cached,
    Completed,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    StateType,
)
from cadenza.store.base import FlowRunFilter, RunStore
from tests.store import make
from tests.store.backends import BACKENDS
from tests.store.make import T0, Clock, names

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True, ids=str)


def record(store: RunStore, *batches: list[Event]) -> None:
    for batch in batches:
        store.apply(batch)


def all_flow_runs(store: RunStore, f: FlowRunFilter | None = None) -> list[FlowRun]:
    return store.list_flow_runs(f, limit=10_000)


def ids(runs: list[FlowRun] | list[TaskRun] | list[LogEntry]) -> list[object]:
    return [r.id for r in runs]


# -- misses --------------------------------------------------------------------------------
def test_an_empty_store_answers_none_or_empty(store: RunStore) -> None:
    unknown = "01890000-0000-7000-8000-000000000000"
    assert store.read_flow_run(unknown) is None
    assert store.read_task_run(unknown) is None
    assert store.list_flow_runs() == []
    assert store.list_flow_runs(FlowRunFilter(flow_name="nope"), before_id=unknown) == []
    assert store.count_flow_runs() == 0
    assert store.count_flow_runs(FlowRunFilter(tags=["x"])) == 0
    assert store.list_task_runs(unknown) == []
    assert store.list_flows() == []
    assert store.read_logs(unknown) == []
    assert store.read_logs(unknown, include_subflows=True, task_run_id=unknown) == []
    assert store.resolve_run_id("0189") == []
    assert store.resolve_run_id("") == []
    assert store.read_artifact(unknown) is None
    assert store.read_artifact_by_key("report") is None
    assert store.read_artifact_by_key("report", version=1) is None
    assert store.list_artifacts() == []
    assert store.list_artifacts(key="report", latest_only=True, before_id=unknown) == []
    assert store.resolve_artifact_id("0189") == []


def test_an_empty_batch_changes_nothing(store: RunStore) -> None:
    store.apply([])
    assert store.list_flow_runs() == []
    assert store.list_flows() == []


# -- round trips ---------------------------------------------------------------------------
def test_a_flow_run_reads_back_with_every_field(store: RunStore) -> None:
    clock = Clock()
    run = make.flow_run(
        "train",
        name="brave-otter",
        created=T0,
        tags=["nightly", "gpu"],
        parameters={"month": 3, "path": "data/x.parquet", "nested": {"a": [1, 2.5, None]}},
        version="abc123",
        hostname="box",
        pid=4242,
        entrypoint="pipelines/train.py:train",
    )
    record(store, make.completed(run, clock))
    got = store.read_flow_run(run.id)
    assert got is not None
    assert (got.id, got.name, got.flow_name) == (run.id, "brave-otter", "train")
    assert got.parameters == {"month": 3, "path": "data/x.parquet", "nested": {"a": [1, 2.5, None]}}
    assert got.tags == ["gpu", "nightly"]
    assert (got.created, got.version, got.hostname, got.pid) == (T0, "abc123", "box", 4242)
    assert got.entrypoint == "pipelines/train.py:train"
    (listed,) = store.list_flow_runs()
    assert listed.entrypoint == "pipelines/train.py:train"
    assert got.parent_flow_run_id is None
    assert got.parent_task_run_id is None
    assert names(got.history) == ["Pending", "Running", "Completed"]
    assert got.state is not None
    assert got.state.name == "Completed"


def test_a_task_run_reads_back_with_every_field(store: RunStore) -> None:
    clock = Clock()
    parent = make.flow_run()
    upstream = make.task_run(parent, name="load-0")
    run = make.task_run(
        parent,
        name="fit-3",
        task_key="pipeline.fit",
        dynamic_key=3,
        created=T0 + 1,
        tags=["heavy"],
        version="2",
        parameters={"alpha": 0.5, "frame": "x" * 500, "rows": [1, 2, 3], "data": None},
        upstream={"data": [upstream.id]},
    )
    slot = make.task_run(parent, name="sub-0", kind="subflow", subflow_run_id=make.flow_run().id)
    record(
        store,
        make.completed(parent, clock)
        + make.completed(upstream, clock)
        + make.completed(run, clock)
        + make.lifecycle(slot, Pending(timestamp=slot.created)),
    )
    got = store.read_task_run(run.id)
    assert got is not None
    assert (got.name, got.task_key, got.dynamic_key, got.flow_run_id) == (
        "fit-3",
        "pipeline.fit",
        3,
        parent.id,
    )
    assert (got.created, got.tags, got.version, got.kind) == (T0 + 1, ["heavy"], "2", "task")
    assert got.parameters is None  # live values are never stored
    assert got.inputs is not None
    assert got.inputs["alpha"] == {"type": "float", "value": 0.5}
    assert got.inputs["frame"]["len"] == 500
    assert got.inputs["rows"] == {"type": "list", "len": 3}
    assert got.inputs["data"] == {"upstream": [upstream.id]}
    assert names(got.history) == ["Pending", "Running", "Completed"]
    got_slot = store.read_task_run(slot.id)
    assert got_slot is not None
    assert (got_slot.kind, got_slot.subflow_run_id) == ("subflow", slot.subflow_run_id)


def test_history_keeps_messages_errors_and_data(store: RunStore) -> None:
    run = make.flow_run()
    retry_at = T0 + 60
    states = [
        Scheduled(retry_at - 30, timestamp=T0),
        Pending(timestamp=T0 + 1),
        Running(timestamp=T0 + 2),
        AwaitingRetry(
            retry_at,
            timestamp=T0 + 3,
            message="ValueError: flaky",
            error_type="ValueError",
            traceback="Traceback (most recent call last):\n  ...\nValueError: flaky\n",
        ),
        Retrying(timestamp=T0 + 4),
        Failed(timestamp=T0 + 5, message="KeyError: 'ünïcode ✓'", error_type="builtins.KeyError"),
    ]
    record(store, make.lifecycle(run, *states))
    got = store.read_flow_run(run.id)
    assert got is not None
    assert got.history is not None
    assert got.history == states  # type, name and timestamp
    assert [(s.message, s.error_type, s.traceback, s.data) for s in got.history] == [
        (s.message, s.error_type, s.traceback, s.data) for s in states
    ]
    assert got.history[3].data == {"scheduled_time": retry_at}
    assert got.state is not None
    assert got.state.message == "KeyError: 'ünïcode ✓'"


def test_the_first_state_can_come_with_the_creation_event(store: RunStore) -> None:
    clock = Clock()
    flow_run = make.flow_run()
    task_run = make.task_run(flow_run)
    record(
        store,
        [
            make.create(flow_run, Pending(timestamp=flow_run.created)),
            make.create(task_run, Pending(timestamp=task_run.created)),
            make.change(task_run, Running(timestamp=clock())),
        ],
    )
    got_flow = store.read_flow_run(flow_run.id)
    got_task = store.read_task_run(task_run.id)
    assert got_flow is not None
    assert names(got_flow.history) == ["Pending"]
    assert got_task is not None
    assert names(got_task.history) == ["Pending", "Running"]


def test_a_run_created_without_states_has_no_state(store: RunStore) -> None:
    flow_run = make.flow_run()
    task_run = make.task_run(flow_run)
    record(store, [make.create(flow_run), make.create(task_run)])
    for got in (store.read_flow_run(flow_run.id), store.read_task_run(task_run.id)):
        assert got is not None
        assert got.state is None
        assert got.history == []
        assert (got.run_count, got.start_time, got.end_time) == (0, None, None)
    (listed,) = store.list_flow_runs()
    assert listed.state is None


def test_runs_created_without_states_can_be_delivered_again(store: RunStore) -> None:
    flow_run = make.flow_run()
    task_run = make.task_run(flow_run)
    batch = [make.create(flow_run), make.create(task_run)]
    store.apply(batch)
    store.apply(batch)  # a batch whose acknowledgement was lost
    store.apply([*batch, make.change(task_run, Pending(timestamp=T0 + 1))])
    found = store.read_task_run(task_run.id)
    assert found is not None
    assert make.names(found.history) == ["Pending"]
    flow = store.read_flow_run(flow_run.id)
    assert flow is not None
    assert flow.state is None
    assert store.count_flow_runs() == 1


# -- apply: idempotency and order ----------------------------------------------------------
def _one_flow_with_everything(clock: Clock) -> tuple[FlowRun, list[TaskRun], list[Event]]:
    flow_run = make.flow_run(created=clock())
    tasks = [make.task_run(flow_run, name=f"t-{i}", created=clock()) for i in range(3)]
    events: list[Event] = [
        *make.lifecycle(flow_run, Pending(timestamp=flow_run.created), Running(timestamp=clock())),
        make.log(flow_run, "Beginning flow run", timestamp=clock()),
    ]
    for t in tasks:
        events += make.completed(t, clock)
        events.append(make.log(t, f"{t.name} done", timestamp=clock()))
    events += [
        make.change(flow_run, Completed(timestamp=clock())),
        make.log(flow_run, "Finished", timestamp=clock()),
    ]
    return flow_run, tasks, events


def _snapshot(store: RunStore, flow_run_id: str) -> tuple[object, ...]:
    got = store.read_flow_run(flow_run_id)
    assert got is not None
    task_runs = store.list_task_runs(flow_run_id)
    histories = [store.read_task_run(t.id) for t in task_runs]
    return (
        names(got.history),
        got.run_count,
        got.start_time,
        got.end_time,
        [(t.id, t.state and t.state.name, t.run_count) for t in task_runs],
        [names(h.history) if h else None for h in histories],
        [(e.id, e.message) for e in store.read_logs(flow_run_id)],
        store.count_flow_runs(),
        [(f.name, f.run_count) for f in store.list_flows()],
    )


def test_a_batch_applied_twice_is_recorded_once(store: RunStore) -> None:
    flow_run, _, events = _one_flow_with_everything(Clock())
    store.apply(events)
    before = _snapshot(store, flow_run.id)
    store.apply(events)
    after = _snapshot(store, flow_run.id)
    assert after == before
    assert len(store.read_logs(flow_run.id)) == 5
    assert before[0] == ["Pending", "Running", "Completed"]


def test_a_batch_delivered_again_with_more_events_records_each_event_once(
    store: RunStore,
) -> None:
    """What a writer does when a batch failed after all: it sends it again, grown."""
    flow_run, tasks, events = _one_flow_with_everything(Clock())
    for cut in (5, 11, len(events)):
        store.apply(events[:cut])
    store.apply(events[3:])
    got = store.read_flow_run(flow_run.id)
    assert got is not None
    assert names(got.history) == ["Pending", "Running", "Completed"]
    assert [e.message for e in store.read_logs(flow_run.id)] == [
        "Beginning flow run",
        "t-0 done",
        "t-1 done",
        "t-2 done",
        "Finished",
    ]
    for t in tasks:
        tr = store.read_task_run(t.id)
        assert tr is not None
        assert names(tr.history) == ["Pending", "Running", "Completed"]
        assert tr.run_count == 1


def test_identical_log_lines_of_one_batch_are_all_kept(store: RunStore) -> None:
    """Two lines can be alike to the clock's resolution (a loop printing dots)."""
    run = make.flow_run()
    dots = [make.log(run, ".", timestamp=T0 + 1) for _ in range(3)]
    events = [*make.lifecycle(run, Pending(timestamp=T0)), *dots]
    store.apply(events)
    store.apply(events)
    assert [e.message for e in store.read_logs(run.id)] == [".", ".", "."]


def test_states_of_several_batches_are_kept_in_order(store: RunStore) -> None:
    run = make.flow_run()
    task = make.task_run(run)
    states = [
        Pending(timestamp=T0),
        Running(timestamp=T0 + 1),
        AwaitingRetry(T0 + 3, timestamp=T0 + 2, message="boom"),
        Retrying(timestamp=T0 + 3),
        Completed(timestamp=T0 + 4),
    ]
    store.apply([make.create(run), make.create(task)])
    for s in states:
        store.apply([make.change(run, s), make.change(task, s)])
    for got in (store.read_flow_run(run.id), store.read_task_run(task.id)):
        assert got is not None
        assert got.history == states
        assert got.state == states[-1]


def test_a_state_repeated_within_a_batch_is_recorded_once(store: RunStore) -> None:
    run = make.flow_run()
    running = Running(timestamp=T0 + 1)
    store.apply([*make.lifecycle(run, Pending(timestamp=T0), running), make.change(run, running)])
    store.apply([make.change(run, running), make.change(run, Completed(timestamp=T0 + 2))])
    got = store.read_flow_run(run.id)
    assert got is not None
    assert names(got.history) == ["Pending", "Running", "Completed"]
    assert got.run_count == 1


def test_a_new_state_repeated_within_a_later_batch_is_recorded_once(store: RunStore) -> None:
    flow_run = make.flow_run()
    task_run = make.task_run(flow_run)
    running, completed = Running(timestamp=T0 + 1), Completed(timestamp=T0 + 2)
    for run in (flow_run, task_run):
        store.apply(make.lifecycle(run, Pending(timestamp=T0)))
    for run in (flow_run, task_run):
        store.apply([make.change(run, s) for s in (running, running, completed, completed)])
    for got in (store.read_flow_run(flow_run.id), store.read_task_run(task_run.id)):
        assert got is not None
        assert names(got.history) == ["Pending", "Running", "Completed"]
        assert got.run_count == 1


def test_states_with_the_same_time_but_another_name_are_distinct(store: RunStore) -> None:
    run = make.task_run(None)
    store.apply(
        make.lifecycle(
            run,
            Pending(timestamp=T0),
            Running(timestamp=T0),
            Completed(timestamp=T0),
        )
    )
    got = store.read_task_run(run.id)
    assert got is not None
    assert names(got.history) == ["Pending", "Running", "Completed"]
    assert (got.start_time, got.end_time) == (T0, T0)


def test_state_events_of_unknown_runs_are_dropped(store: RunStore) -> None:
    clock = Clock()
    known = make.flow_run()
    ghost_flow = make.flow_run("ghost")
    ghost_task = make.task_run(known)
    store.apply(
        [
            make.change(ghost_flow, Running(timestamp=clock())),
            *make.completed(known, clock),
            make.change(ghost_task, Running(timestamp=clock())),
        ]
    )
    assert store.read_flow_run(ghost_flow.id) is None
    assert store.read_task_run(ghost_task.id) is None
    assert ids(store.list_flow_runs()) == [known.id]
    assert store.list_task_runs(known.id) == []
    assert [f.name for f in store.list_flows()] == ["pipeline"]
    # ... and the run's creation, arriving later, starts a history of its own
    store.apply(make.lifecycle(ghost_task, Pending(timestamp=ghost_task.created)))
    got = store.read_task_run(ghost_task.id)
    assert got is not None
    assert names(got.history) == ["Pending"]


def test_a_task_run_of_an_unknown_flow_run_is_dropped(store: RunStore) -> None:
    """The rest of the batch is recorded; the batch does not fail again and again."""
    clock = Clock()
    ghost = make.flow_run()
    orphan = make.task_run(ghost)
    kept = make.flow_run()
    store.apply([*make.completed(orphan, clock), *make.completed(kept, clock)])
    assert store.read_task_run(orphan.id) is None
    assert ids(store.list_flow_runs()) == [kept.id]


def test_task_runs_outside_any_flow_run_are_recorded(store: RunStore) -> None:
    run = make.task_run(None)
    store.apply(make.completed(run, Clock()))
    got = store.read_task_run(run.id)
    assert got is not None
    assert got.flow_run_id is None
    assert names(got.history) == ["Pending", "Running", "Completed"]


# -- derived columns -----------------------------------------------------------------------
HISTORIES = {
    "completed": [Pending(timestamp=T0), Running(timestamp=T0 + 1), Completed(timestamp=T0 + 2)],
    "retried": [
        Pending(timestamp=T0),
        Running(timestamp=T0 + 1),
        AwaitingRetry(T0 + 3, timestamp=T0 + 2, message="x"),
        Retrying(timestamp=T0 + 3),
        AwaitingRetry(T0 + 5, timestamp=T0 + 4, message="y"),
        Retrying(timestamp=T0 + 5),
        Cached(timestamp=T0 + 6),
    ],
    "running": [Pending(timestamp=T0), Running(timestamp=T0 + 1)],
    "pending": [Pending(timestamp=T0)],
    "crashed after completed": [
        Pending(timestamp=T0),
        Running(timestamp=T0 + 1),
        Completed(timestamp=T0 + 2),
        Crashed(timestamp=T0 + 3, message="Interrupted"),
    ],
    "failed before running": [Pending(timestamp=T0), Failed("NotReady", timestamp=T0 + 1)],
}
EXPECTED = {
    # run_count, start_time, end_time
    "completed": (1, T0 + 1, T0 + 2),
    "retried": (3, T0 + 1, T0 + 6),
    "running": (1, T0 + 1, None),
    "pending": (0, None, None),
    "crashed after completed": (1, T0 + 1, T0 + 3),
    "failed before running": (0, None, T0 + 1),
}


@pytest.mark.parametrize("case", list(HISTORIES))
@pytest.mark.parametrize(
    "split", [None, 1, 2, 3], ids=["one-batch", "split-1", "split-2", "split-3"]
)
def test_current_state_columns_follow_the_history(
    store: RunStore, case: str, split: int | None
) -> None:
    """run_count counts RUNNING states, start_time is the first, end_time the final one."""
    history = HISTORIES[case]
    flow_run = make.flow_run(created=T0)
    task_run = make.task_run(flow_run, created=T0)
    cut = len(history) if split is None else min(split, len(history))
    for run in (flow_run, task_run):
        store.apply(make.lifecycle(run, *history[:cut]))
        if history[cut:]:
            store.apply([make.change(run, s) for s in history[cut:]])
    run_count, start, end = EXPECTED[case]
    read = [store.read_flow_run(flow_run.id), store.read_task_run(task_run.id)]
    listed = [store.list_flow_runs()[0], store.list_task_runs(flow_run.id)[0]]
    for got in read + listed:
        assert got is not None
        assert (got.run_count, got.start_time, got.end_time) == (run_count, start, end)
        assert got.state == history[-1]
        assert got.state is not None
        assert got.state.message == history[-1].message
    for got in read:
        assert got is not None
        assert got.history == history
    for got in listed:
        assert got.history is None


# -- list_flow_runs / count_flow_runs ------------------------------------------------------
@pytest.fixture
def many_runs(store: RunStore) -> dict[str, FlowRun]:
    """Flow runs of two flows in every kind of state, with tags and a subflow tree."""
    clock = Clock()
    runs: dict[str, FlowRun] = {}

    def add(key: str, run: FlowRun, *states: State) -> None:
        runs[key] = run
        store.apply(make.lifecycle(run, *states))

    def basic(kind: str) -> list[State]:
        return [
            Pending(timestamp=clock()),
            Running(timestamp=clock()),
            {
                "ok": Completed(timestamp=clock()),
                "cached": Cached(timestamp=clock()),
                "failed": Failed(timestamp=clock(), message="boom"),
                "crashed": Crashed(timestamp=clock()),
            }[kind],
        ]

    add("train-ok", make.flow_run("train", created=T0, tags=["nightly", "gpu"]), *basic("ok"))
    add("train-failed", make.flow_run("train", created=T0 + 10, tags=["nightly"]), *basic("failed"))
    add(
        "train-running",
        make.flow_run("train", created=T0 + 20, tags=["gpu"]),
        Pending(timestamp=clock()),
        Running(timestamp=clock()),
    )
    add("etl-cached", make.flow_run("etl", created=T0 + 30, tags=["a_b"]), *basic("cached"))
    add("etl-crashed", make.flow_run("etl", created=T0 + 40, tags=["a%b"]), *basic("crashed"))
    parent = runs["etl-crashed"]
    slot = make.task_run(parent, name="child-0", kind="subflow")
    add(
        "child",
        make.flow_run("child", created=T0 + 41, parent=parent, parent_task_run=slot),
        *basic("ok"),
    )
    add(
        "grandchild",
        make.flow_run("child", created=T0 + 42, parent=runs["child"]),
        *basic("failed"),
    )
    return runs


FILTERS: dict[str, tuple[FlowRunFilter, list[str]]] = {
    "no filter": (
        FlowRunFilter(),
        [
            "grandchild",
            "child",
            "etl-crashed",
            "etl-cached",
            "train-running",
            "train-failed",
            "train-ok",
        ],
    ),
    "flow name": (FlowRunFilter(flow_name="train"), ["train-running", "train-failed", "train-ok"]),
    "unknown flow": (FlowRunFilter(flow_name="nope"), []),
    "state types": (
        FlowRunFilter(state_types=[StateType.FAILED, StateType.CRASHED]),
        ["grandchild", "etl-crashed", "train-failed"],
    ),
    "state type as text": (
        FlowRunFilter(state_types=["RUNNING"]),  # type: ignore[list-item]
        ["train-running"],
    ),
    "state names": (FlowRunFilter(state_names=["Cached"]), ["etl-cached"]),
    "completed type, both names": (
        FlowRunFilter(state_types=[StateType.COMPLETED]),
        ["child", "etl-cached", "train-ok"],
    ),
    "one tag": (FlowRunFilter(tags=["gpu"]), ["train-running", "train-ok"]),
    "all tags": (FlowRunFilter(tags=["gpu", "nightly"]), ["train-ok"]),
    "tag with underscore is not a wildcard": (FlowRunFilter(tags=["a_b"]), ["etl-cached"]),
    "tag with percent is not a wildcard": (FlowRunFilter(tags=["a%b"]), ["etl-crashed"]),
    "part of a tag is not the tag": (FlowRunFilter(tags=["gp"]), []),
    "since is inclusive": (FlowRunFilter(since=T0 + 40), ["grandchild", "child", "etl-crashed"]),
    "until is exclusive": (FlowRunFilter(until=T0 + 10), ["train-ok"]),
    "since and until": (
        FlowRunFilter(since=T0 + 10, until=T0 + 30),
        ["train-running", "train-failed"],
    ),
    "top level only": (
        FlowRunFilter(top_level_only=True),
        ["etl-crashed", "etl-cached", "train-running", "train-failed", "train-ok"],
    ),
    "top level of a subflow's flow": (FlowRunFilter(flow_name="child", top_level_only=True), []),
    "combined": (
        FlowRunFilter(flow_name="train", tags=["nightly"], state_types=[StateType.COMPLETED]),
        ["train-ok"],
    ),
    "state types or state names": (
        FlowRunFilter(state_types=[StateType.FAILED], state_names=["Cached"]),
        ["grandchild", "etl-cached", "train-failed"],
    ),
    "state types or names, with another filter": (
        FlowRunFilter(flow_name="etl", state_types=[StateType.CRASHED], state_names=["Cached"]),
        ["etl-crashed", "etl-cached"],
    ),
    "state types or names, neither matching": (
        FlowRunFilter(state_types=[StateType.SCHEDULED], state_names=["Late"]),
        [],
    ),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_list_and_count_flow_runs_filter(
    store: RunStore, many_runs: dict[str, FlowRun], case: str
) -> None:
    f, expected = FILTERS[case]
    listed = store.list_flow_runs(f)
    assert ids(listed) == [many_runs[k].id for k in expected]
    assert store.count_flow_runs(f) == len(expected)
    assert all(r.history is None for r in listed)


def test_list_flow_runs_by_parent_ids_and_prefix(
    store: RunStore, many_runs: dict[str, FlowRun]
) -> None:
    child, grandchild = many_runs["child"], many_runs["grandchild"]
    by_parent = FlowRunFilter(parent_flow_run_id=many_runs["etl-crashed"].id)
    assert ids(store.list_flow_runs(by_parent)) == [child.id]
    assert store.count_flow_runs(by_parent) == 1
    assert ids(store.list_flow_runs(FlowRunFilter(parent_flow_run_id=child.id))) == [grandchild.id]
    wanted = [many_runs["train-ok"].id, grandchild.id, "unknown"]
    assert ids(store.list_flow_runs(FlowRunFilter(ids=wanted))) == [grandchild.id, wanted[0]]
    assert store.list_flow_runs(FlowRunFilter(ids=[])) == []
    assert store.count_flow_runs(FlowRunFilter(ids=[])) == 0
    for prefix in (child.id[:13], child.id[:-4], child.id):
        newest_first = sorted((r.id for r in many_runs.values()), reverse=True)
        expected = [i for i in newest_first if i.startswith(prefix)]
        assert child.id in expected
        by_prefix = FlowRunFilter(id_prefix=prefix.upper())
        assert ids(store.list_flow_runs(by_prefix)) == expected
        assert store.count_flow_runs(by_prefix) == len(expected)
    got = store.list_flow_runs(FlowRunFilter(parent_flow_run_id=child.id))[0]
    assert got.parent_flow_run_id == child.id
    assert store.list_flow_runs(FlowRunFilter(ids=[child.id]))[0].parent_task_run_id is not None


def test_list_flow_runs_carries_the_current_state(
    store: RunStore, many_runs: dict[str, FlowRun]
) -> None:
    (got,) = store.list_flow_runs(FlowRunFilter(ids=[many_runs["train-failed"].id]))
    assert got.state is not None
    assert (got.state.type, got.state.name, got.state.message) == (
        StateType.FAILED,
        "Failed",
        "boom",
    )
    assert got.flow_name == "train"
    assert got.tags == ["nightly"]
    assert got.start_time is not None
    assert got.end_time is not None
    assert got.end_time > got.start_time


@pytest.mark.parametrize("page_size", [1, 30, 100, 250])
def test_cursor_pages_have_no_gaps_or_duplicates(store: RunStore, page_size: int) -> None:
    clock = Clock()
    created: list[FlowRun] = []
    batch: list[Event] = []
    for i in range(250):
        run = make.flow_run("even" if i % 2 == 0 else "odd", created=T0 + i)
        created.append(run)
        batch += make.completed(run, clock)
    store.apply(batch)
    for f, expected in (
        (None, created),
        (FlowRunFilter(flow_name="odd"), created[1::2]),
    ):
        pages: list[list[FlowRun]] = []
        cursor = None
        while True:
            page = store.list_flow_runs(f, limit=page_size, before_id=cursor)
            if not page:
                break
            assert len(page) <= page_size
            pages.append(page)
            cursor = page[-1].id
        seen = [r.id for page in pages for r in page]
        assert seen == [r.id for r in reversed(expected)]
        assert store.count_flow_runs(f) == len(expected)


def test_list_flow_runs_honours_the_limit(store: RunStore) -> None:
    clock = Clock()
    for i in range(5):
        store.apply(make.completed(make.flow_run(created=T0 + i), clock))
    assert len(store.list_flow_runs(limit=3)) == 3
    assert len(store.list_flow_runs()) == 5


# -- list_task_runs ------------------------------------------------------------------------
def test_task_runs_of_one_flow_run_oldest_first_in_pages(store: RunStore) -> None:
    clock = Clock()
    parent = make.flow_run()
    other = make.flow_run()
    subflow = make.flow_run(parent=parent)
    store.apply(make.completed(parent, clock) + make.completed(other, clock))
    store.apply(make.completed(subflow, clock))
    mine = []
    batch: list[Event] = []
    for i in range(25):
        tr = make.task_run(parent, name=f"t-{i}", created=clock())
        mine.append(tr)
        batch += make.completed(tr, clock)
        batch += make.completed(make.task_run(other, created=clock()), clock)
        batch += make.completed(make.task_run(subflow, created=clock()), clock)
    # Deliver the runs in two batches, the later ones first.
    store.apply(batch[len(batch) // 2 :])
    store.apply(batch[: len(batch) // 2])
    listed = store.list_task_runs(parent.id)
    assert ids(listed) == ids(mine)
    assert all(t.history is None and t.state is not None for t in listed)
    assert all(t.state is not None and t.state.name == "Completed" for t in listed)
    pages = []
    cursor = None
    while True:
        page = store.list_task_runs(parent.id, limit=7, after_id=cursor)
        if not page:
            break
        pages.append(page)
        cursor = page[-1].id
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    assert [t.id for p in pages for t in p] == ids(mine)


# -- list_flows ----------------------------------------------------------------------------
def test_list_flows_counts_runs_and_gives_the_latest_state(store: RunStore) -> None:
    clock = Clock()
    zeta_runs = [make.flow_run("zeta", created=T0 + i) for i in range(3)]
    store.apply(make.completed(zeta_runs[0], clock) + make.completed(zeta_runs[1], clock))
    store.apply(make.failed(zeta_runs[2], clock, message="late failure"))
    alpha = make.flow_run("alpha", created=T0 + 10)
    store.apply(make.lifecycle(alpha, Pending(timestamp=alpha.created)))
    store.apply(make.lifecycle(make.flow_run("alpha", created=T0 + 11)))  # no state yet
    flows = store.list_flows()
    assert [f.name for f in flows] == ["alpha", "zeta"]
    a, z = flows
    assert (a.run_count, z.run_count) == (2, 3)
    assert (a.last_run_created, z.last_run_created) == (T0 + 11, T0 + 2)
    assert a.last_state is None
    assert z.last_state is not None
    assert (z.last_state.type, z.last_state.name) == (StateType.FAILED, "Failed")
    failed = store.read_flow_run(zeta_runs[2].id)
    assert failed is not None
    assert failed.state is not None
    assert z.last_state.timestamp == failed.state.timestamp
    assert a.id != z.id
    assert a.created > 0
    # The same flow name keeps its id.
    store.apply(make.completed(make.flow_run("zeta", created=T0 + 20), clock))
    assert [(f.id, f.run_count) for f in store.list_flows()] == [(a.id, 2), (z.id, 4)]


def test_list_flow_names_are_those_of_list_flows(store: RunStore) -> None:
    assert store.list_flow_names() == []
    clock = Clock()
    for name in ("zeta", "alpha", "mid", "alpha"):
        store.apply(make.completed(make.flow_run(name, created=T0), clock))
    store.apply(make.lifecycle(make.flow_run("beta", created=T0)))  # no state yet
    assert store.list_flow_names() == ["alpha", "beta", "mid", "zeta"]
    assert store.list_flow_names() == [f.name for f in store.list_flows()]


# -- read_logs -----------------------------------------------------------------------------
@pytest.fixture
def logged(store: RunStore) -> dict[str, FlowRun | TaskRun]:
    clock = Clock()
    root = make.flow_run()
    task = make.task_run(root, name="work-0")
    child = make.flow_run("child", parent=root)
    child_task = make.task_run(child)
    grandchild = make.flow_run("child", parent=child)
    stranger = make.flow_run("other")
    events: list[Event] = []
    for run in (root, task, child, child_task, grandchild, stranger):
        events += make.completed(run, clock)
    store.apply(events)
    store.apply(
        [
            make.log(root, "root starts", timestamp=clock()),
            make.log(task, "task debug", timestamp=clock(), level=logging.DEBUG),
            make.log(child, "child starts", timestamp=clock()),
            make.log(stranger, "not mine", timestamp=clock()),
            make.log(task, "task warns", timestamp=clock(), level=logging.WARNING),
            make.log(child_task, "child task errs", timestamp=clock(), level=logging.ERROR),
        ]
    )
    store.apply(
        [
            make.log(grandchild, "grandchild speaks", timestamp=clock()),
            make.log(root, "root ends", timestamp=clock(), level=logging.ERROR),
        ]
    )
    return {"root": root, "task": task, "child": child, "grandchild": grandchild}


def messages(entries: list[LogEntry]) -> list[str]:
    return [e.message for e in entries]


def test_read_logs_in_the_order_written(store: RunStore, logged: dict[str, FlowRun]) -> None:
    root = logged["root"]
    entries = store.read_logs(root.id)
    assert messages(entries) == ["root starts", "task debug", "task warns", "root ends"]
    assert [e.id for e in entries] == sorted(e.id for e in entries if e.id is not None)
    first = entries[0]
    assert (first.flow_run_id, first.task_run_id, first.level, first.name) == (
        root.id,
        None,
        logging.INFO,
        "tests",
    )
    assert entries[1].task_run_id == logged["task"].id


def test_read_logs_filters(store: RunStore, logged: dict[str, FlowRun]) -> None:
    root, task = logged["root"], logged["task"]
    assert messages(store.read_logs(root.id, task_run_id=task.id)) == ["task debug", "task warns"]
    assert messages(store.read_logs(root.id, min_level=logging.WARNING)) == [
        "task warns",
        "root ends",
    ]
    first, second, *_ = store.read_logs(root.id)
    assert messages(store.read_logs(root.id, after_id=first.id)) == [
        "task debug",
        "task warns",
        "root ends",
    ]
    assert messages(store.read_logs(root.id, after_id=second.id, limit=1)) == ["task warns"]
    last = store.read_logs(root.id)[-1]
    assert store.read_logs(root.id, after_id=last.id) == []
    assert store.read_logs(root.id, task_run_id="unknown") == []


def test_read_logs_with_subflows(store: RunStore, logged: dict[str, FlowRun]) -> None:
    root, child = logged["root"], logged["child"]
    assert messages(store.read_logs(root.id, include_subflows=True)) == [
        "root starts",
        "task debug",
        "child starts",
        "task warns",
        "child task errs",
        "grandchild speaks",
        "root ends",
    ]
    assert messages(store.read_logs(child.id, include_subflows=True)) == [
        "child starts",
        "child task errs",
        "grandchild speaks",
    ]
    assert messages(
        store.read_logs(root.id, include_subflows=True, min_level=logging.ERROR, limit=1)
    ) == ["child task errs"]


# -- resolve_run_id ------------------------------------------------------------------------
def test_resolve_run_id_by_prefix(store: RunStore) -> None:
    clock = Clock()
    flow_runs = [make.flow_run(created=clock()) for _ in range(3)]
    task_runs = [make.task_run(flow_runs[0], created=clock()) for _ in range(12)]
    events: list[Event] = []
    for run in [*flow_runs, *task_runs]:
        events += make.completed(run, clock)
    store.apply(events)
    assert store.resolve_run_id(flow_runs[1].id) == [flow_runs[1].id]
    assert store.resolve_run_id(task_runs[5].id) == [task_runs[5].id]
    assert store.resolve_run_id(f"  {flow_runs[2].id.upper()} ") == [flow_runs[2].id]
    # Ids made within a few milliseconds share their first characters (the time): flow
    # runs come first, then task runs, ten at most.
    first, last = flow_runs[0].id, task_runs[-1].id
    common = first[: next(i for i, (a, b) in enumerate(zip(first, last, strict=True)) if a != b)]
    assert len(common) >= 8
    assert (
        store.resolve_run_id(common)
        == sorted(r.id for r in flow_runs) + sorted(t.id for t in task_runs)[:7]
    )
    assert store.resolve_run_id("zzz") == []
    assert store.resolve_run_id("   ") == []


# -- artifacts -----------------------------------------------------------------------------
def test_an_artifact_reads_back_with_every_field(store: RunStore) -> None:
    clock = Clock()
    flow = make.flow_run()
    task = make.task_run(flow)
    table = make.artifact(
        task,
        key="scores",
        type="table",
        data='{"columns":["model","rmse"],"rows":[["ridge",1.5],["tree",null]]}',
        description="Scores *by model*",
        created=T0 + 5,
    )
    record(store, make.completed(flow, clock) + make.completed(task, clock) + [table])
    got = store.read_artifact(table.id)
    assert got is not None
    assert (got.id, got.key, got.type, got.description) == (
        table.id,
        "scores",
        "table",
        "Scores *by model*",
    )
    assert got.data == {"columns": ["model", "rmse"], "rows": [["ridge", 1.5], ["tree", None]]}
    assert (got.flow_run_id, got.task_run_id, got.created, got.version) == (
        flow.id,
        task.id,
        T0 + 5,
        1,
    )


def test_artifacts_of_no_run_or_of_unknown_runs_are_recorded(store: RunStore) -> None:
    outside = make.artifact(None, key="notes")
    orphan = make.artifact(make.flow_run(), data='{"link":"https://x.org","link_text":null}')
    record(store, [outside, orphan])
    got = store.read_artifact(outside.id)
    assert got is not None
    assert (got.flow_run_id, got.task_run_id, got.data) == (None, None, "# report")
    keyless = store.read_artifact(orphan.id)
    assert keyless is not None
    assert (keyless.key, keyless.version) == (None, None)
    assert keyless.data == {"link": "https://x.org", "link_text": None}


def test_an_artifact_delivered_again_is_recorded_once(store: RunStore) -> None:
    run = make.flow_run()
    first = [*make.completed(run, Clock()), make.artifact(run, key="report")]
    record(store, first, first, [*first, make.artifact(run, key="report")])
    assert [a.version for a in store.list_artifacts()] == [2, 1]


@pytest.fixture
def versions(store: RunStore) -> dict[str, list[str]]:
    """Two flow runs; the key ``report`` has three versions, ``model`` one; two
    artifacts have no key. Ids by name, in the order created."""
    clock = Clock()
    first, second = make.flow_run(), make.flow_run()
    task = make.task_run(second)
    made = {
        "report-1": make.artifact(first, key="report", data='"v1"'),
        "model-1": make.artifact(first, key="model"),
        "keyless-1": make.artifact(first),
        "report-2": make.artifact(first, key="report", data='"v2"'),
        "report-3": make.artifact(task, key="report", data='"v3"'),
        "keyless-2": make.artifact(second),
    }
    record(
        store,
        make.completed(first, clock) + list(made.values())[:4],
        make.completed(second, clock) + make.completed(task, clock) + list(made.values())[4:],
    )
    return {
        "first": [first.id],
        "second": [second.id],
        "task": [task.id],
        **{name: [a.id] for name, a in made.items()},
    }


def names_of(found: list[Artifact], ids: dict[str, list[str]]) -> list[str]:
    by_id = {v[0]: k for k, v in ids.items()}
    return [by_id[a.id] for a in found]


def test_read_artifact_by_key_gives_the_newest_or_one_version(
    store: RunStore, versions: dict[str, list[str]]
) -> None:
    latest = store.read_artifact_by_key("report")
    assert latest is not None
    assert (latest.id, latest.data, latest.version) == (versions["report-3"][0], "v3", 3)
    for n in (1, 2, 3):
        found = store.read_artifact_by_key("report", version=n)
        assert found is not None
        assert (found.id, found.version, found.data) == (versions[f"report-{n}"][0], n, f"v{n}")
    assert store.read_artifact_by_key("report", version=0) is None
    assert store.read_artifact_by_key("report", version=4) is None
    assert store.read_artifact_by_key("repor") is None


LISTINGS: dict[str, tuple[dict[str, object], list[str]]] = {
    "everything": (
        {},
        ["keyless-2", "report-3", "report-2", "keyless-1", "model-1", "report-1"],
    ),
    "latest of each key and every keyless one": (
        {"latest_only": True},
        ["keyless-2", "report-3", "keyless-1", "model-1"],
    ),
    "versions of a key": ({"key": "report"}, ["report-3", "report-2", "report-1"]),
    "latest of a key": ({"key": "report", "latest_only": True}, ["report-3"]),
    "of a flow run, with its task runs'": (
        {"flow_run_id": "second"},
        ["keyless-2", "report-3"],
    ),
    "of a task run": ({"task_run_id": "task"}, ["report-3"]),
    "latest among those of a run": (
        {"flow_run_id": "first", "latest_only": True},
        ["report-2", "keyless-1", "model-1"],
    ),
    "key and run": ({"key": "report", "flow_run_id": "first"}, ["report-2", "report-1"]),
    "unknown key": ({"key": "nope"}, []),
    "limit": ({"limit": 2}, ["keyless-2", "report-3"]),
}


@pytest.mark.parametrize("case", list(LISTINGS))
def test_list_artifacts(store: RunStore, versions: dict[str, list[str]], case: str) -> None:
    args, expected = LISTINGS[case]
    args = {k: versions[v][0] if k.endswith("_id") else v for k, v in args.items()}
    found = store.list_artifacts(**args)  # type: ignore[arg-type]
    assert names_of(found, versions) == expected
    # Versions count every artifact of the key, whatever the filters.
    for artifact in found:
        name = names_of([artifact], versions)[0]
        expected_version = None if name.startswith("keyless") else int(name.split("-")[1])
        assert artifact.version == expected_version


@pytest.mark.parametrize("latest_only", [False, True])
def test_artifact_pages_have_no_gaps_or_duplicates(
    store: RunStore, versions: dict[str, list[str]], latest_only: bool
) -> None:
    whole = store.list_artifacts(latest_only=latest_only)
    pages: list[Artifact] = []
    before = None
    while True:
        page = store.list_artifacts(latest_only=latest_only, limit=2, before_id=before)
        if not page:
            break
        pages.extend(page)
        before = page[-1].id
    assert [a.id for a in pages] == [a.id for a in whole]


def test_resolve_artifact_id_by_prefix(store: RunStore, versions: dict[str, list[str]]) -> None:
    report = versions["report-1"][0]
    assert store.resolve_artifact_id(report) == [report]
    assert store.resolve_artifact_id(report.upper()[:20]) == [report]
    everything = sorted(v[0] for k, v in versions.items() if "-" in k)
    assert store.resolve_artifact_id(report[:4]) == everything
    assert store.resolve_artifact_id(versions["first"][0]) == []
    assert store.resolve_artifact_id("") == []


# -- lifecycle -----------------------------------------------------------------------------
def test_using_a_closed_store_is_an_error(store: RunStore) -> None:
    run = make.flow_run()
    store.apply(make.lifecycle(run, Pending(timestamp=T0)))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read_flow_run(run.id)
    with pytest.raises(StoreError, match="closed"):
        store.apply(make.completed(make.flow_run(), Clock()))
    store.close()  # closing twice is fine


def test_count_flow_runs_by_state_in_buckets(store: RunStore) -> None:
    from cadenza.events import FlowRunCreated
    from cadenza.runs import FlowRun
    from cadenza.states import State, StateType

    def run(created: float, kind: StateType) -> FlowRunCreated:
        fr = FlowRun(
            id=f"01b00000-0000-7000-8000-{int(created):012d}",
            name="r",
            flow_name="fl",
            created=created,
        )
        return FlowRunCreated(fr, State(kind, timestamp=created))

    store.apply(
        [
            run(1000, StateType.COMPLETED),
            run(1010, StateType.FAILED),
            run(1070, StateType.COMPLETED),
            run(1075, StateType.COMPLETED),
        ]
    )
    assert sorted(store.count_flow_runs_by_state(), key=lambda r: r[1]) == [
        (None, StateType.COMPLETED, 3),
        (None, StateType.FAILED, 1),
    ]
    buckets = store.count_flow_runs_by_state(bucket_seconds=60)
    assert sorted(buckets, key=lambda r: (r[0], r[1])) == [
        (960.0, StateType.COMPLETED, 1),
        (960.0, StateType.FAILED, 1),
        (1020.0, StateType.COMPLETED, 2),
    ]
    assert store.count_flow_runs_by_state(FlowRunFilter(flow_name="nope")) == []
    with pytest.raises(ValueError, match="bucket_seconds"):
        store.count_flow_runs_by_state(bucket_seconds=0)
