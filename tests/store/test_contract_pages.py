"""The contract of the store's paging, counting and compare-and-set methods, on every
backend: what the REST API builds on (both sort orders and cursors, state filters
merged from several indexes, task-run counts, adding a state only from given states).
"""

from __future__ import annotations

import logging

import pytest

from cadenza.events import Event
from cadenza.runs import FlowRun, TaskRun
from cadenza.states import (
    TERMINAL_STATES,
    Cancelled,
    Cancelling,
    Completed,
    Pending,
    Running,
    Scheduled,
    StateType,
)
from cadenza.store.base import FlowRunFilter, RunStore
from tests.store import make
from tests.store.backends import BACKENDS
from tests.store.make import T0, Clock, names

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True, ids=str)

NOT_FINAL = [t for t in StateType if t not in TERMINAL_STATES]


@pytest.fixture
def runs(store: RunStore) -> list[FlowRun]:
    """60 runs of two flows, oldest first, in states that take turns."""
    clock = Clock()
    created: list[FlowRun] = []
    batch: list[Event] = []
    for i in range(60):
        run = make.flow_run("even" if i % 2 == 0 else "odd", created=T0 + i)
        created.append(run)
        kind = i % 4
        if kind == 0:
            batch += make.completed(run, clock)
        elif kind == 1:
            batch += make.failed(run, clock)
        elif kind == 2:
            batch += make.lifecycle(run, Pending(timestamp=run.created), Completed(name="Cached"))
        else:
            batch += make.lifecycle(run, Pending(timestamp=run.created), Running())
    store.apply(batch)
    return created


def pages(store: RunStore, f: FlowRunFilter | None, size: int, oldest_first: bool) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        if oldest_first:
            page = store.list_flow_runs(f, limit=size, after_id=cursor, oldest_first=True)
        else:
            page = store.list_flow_runs(f, limit=size, before_id=cursor)
        if not page:
            return seen
        assert len(page) <= size
        seen += [r.id for r in page]
        cursor = page[-1].id


FILTERS = {
    "none": (None, lambda i: True),
    "flow": (FlowRunFilter(flow_name="odd"), lambda i: i % 2 == 1),
    "one type": (FlowRunFilter(state_types=[StateType.FAILED]), lambda i: i % 4 == 1),
    "two types": (
        FlowRunFilter(state_types=[StateType.FAILED, StateType.RUNNING]),
        lambda i: i % 4 in (1, 3),
    ),
    "type and a name of the same type": (
        FlowRunFilter(state_types=[StateType.COMPLETED], state_names=["Cached"]),
        lambda i: i % 4 in (0, 2),
    ),
    "type and a name of another type": (
        FlowRunFilter(state_types=[StateType.FAILED], state_names=["Cached"]),
        lambda i: i % 4 in (1, 2),
    ),
    "types, names and a flow": (
        FlowRunFilter(
            flow_name="even",
            state_types=[StateType.RUNNING, StateType.COMPLETED],
            state_names=["Cached", "Failed"],
        ),
        lambda i: i % 2 == 0,
    ),
    "names repeated": (FlowRunFilter(state_names=["Cached", "Cached"]), lambda i: i % 4 == 2),
    "types and a time window": (
        FlowRunFilter(
            state_types=[StateType.FAILED, StateType.RUNNING], since=T0 + 10, until=T0 + 30
        ),
        lambda i: i % 4 in (1, 3) and 10 <= i < 30,
    ),
}


@pytest.mark.parametrize("case", list(FILTERS))
@pytest.mark.parametrize("size", [1, 7, 100])
def test_pages_in_both_orders_have_no_gaps_and_match_the_count(
    store: RunStore, runs: list[FlowRun], case: str, size: int
) -> None:
    f, matches = FILTERS[case]
    expected = [r.id for i, r in enumerate(runs) if matches(i)]
    assert pages(store, f, size, oldest_first=True) == expected
    assert pages(store, f, size, oldest_first=False) == expected[::-1]
    assert store.count_flow_runs(f) == len(expected)


def test_cursors_bound_a_window_and_need_not_exist(store: RunStore, runs: list[FlowRun]) -> None:
    ids = [r.id for r in runs]
    window = store.list_flow_runs(before_id=ids[20], after_id=ids[10], limit=100)
    assert [r.id for r in window] == ids[11:20][::-1]
    window = store.list_flow_runs(before_id=ids[20], after_id=ids[10], limit=3, oldest_first=True)
    assert [r.id for r in window] == ids[11:14]
    missing = ids[30][:-1] + ("0" if ids[30][-1] != "0" else "1")
    expected = [i for i in ids if i < missing][::-1][:2]
    assert [r.id for r in store.list_flow_runs(before_id=missing, limit=2)] == expected
    assert store.list_flow_runs(limit=0) == []


def test_pages_carry_the_current_state_and_no_history(store: RunStore, runs: list[FlowRun]) -> None:
    f = FlowRunFilter(state_types=[StateType.FAILED], state_names=["Cached"])
    listed = store.list_flow_runs(f, limit=4, oldest_first=True)
    assert [r.state.name if r.state else None for r in listed] == [
        "Failed",
        "Cached",
        "Failed",
        "Cached",
    ]
    assert all(r.history is None and r.flow_name in ("even", "odd") for r in listed)


def test_tags_match_exactly_and_each_counts_once(store: RunStore) -> None:
    clock = Clock()
    both = make.flow_run(tags=["GPU", "gpu"])
    upper = make.flow_run(tags=["GPU"])
    store.apply(make.completed(both, clock) + make.completed(upper, clock))
    store.apply(make.completed(both, clock))  # delivered again
    assert [r.id for r in store.list_flow_runs(FlowRunFilter(tags=["gpu"]))] == [both.id]
    assert store.count_flow_runs(FlowRunFilter(tags=["GPU"])) == 2
    assert store.count_flow_runs(FlowRunFilter(tags=["GPU", "GPU"])) == 2
    assert store.count_flow_runs(FlowRunFilter(tags=["Gpu"])) == 0
    found = store.read_flow_run(both.id)
    assert found is not None and found.tags == ["GPU", "gpu"]


# -- count_task_runs_by_state ------------------------------------------------------------
def test_count_task_runs_by_state(store: RunStore) -> None:
    clock = Clock()
    parent = make.flow_run()
    subflow = make.flow_run(parent=parent)
    events = make.completed(parent, clock) + make.completed(subflow, clock)
    for i in range(5):
        events += make.completed(make.task_run(parent, name=f"ok-{i}"), clock)
    events += make.failed(make.task_run(parent, name="bad"), clock)
    events += make.lifecycle(make.task_run(parent, name="waiting"), Pending())
    events += make.lifecycle(make.task_run(parent, name="stateless"))
    events += make.completed(make.task_run(subflow), clock)
    store.apply(events)
    assert store.count_task_runs_by_state(parent.id) == {
        StateType.COMPLETED: 5,
        StateType.FAILED: 1,
        StateType.PENDING: 1,
    }
    assert store.count_task_runs_by_state(subflow.id) == {StateType.COMPLETED: 1}
    assert store.count_task_runs_by_state("unknown") == {}


# -- add_flow_run_state_if ---------------------------------------------------------------
def test_a_state_is_added_only_from_the_given_state_types(store: RunStore) -> None:
    clock = Clock()
    running = make.flow_run()
    store.apply(make.lifecycle(running, Pending(timestamp=running.created), Running()))
    asked = Cancelling(message="asked")
    assert store.add_flow_run_state_if(running.id, asked, current=NOT_FINAL)
    found = store.read_flow_run(running.id)
    assert found is not None and found.state is not None
    assert (found.state.type, found.state.message) == (StateType.CANCELLING, "asked")
    assert names(found.history) == ["Pending", "Running", "Cancelling"]
    # Listing and counting see the new state.
    cancelling = FlowRunFilter(state_types=[StateType.CANCELLING])
    assert [r.id for r in store.list_flow_runs(cancelling)] == [running.id]

    done = make.flow_run()
    store.apply(make.completed(done, clock))
    assert not store.add_flow_run_state_if(done.id, Cancelling(), current=NOT_FINAL)
    found = store.read_flow_run(done.id)
    assert found is not None
    assert names(found.history) == ["Pending", "Running", "Completed"]

    assert not store.add_flow_run_state_if("unknown", Cancelling(), current=NOT_FINAL)
    stateless = make.flow_run()
    store.apply(make.lifecycle(stateless))
    assert not store.add_flow_run_state_if(stateless.id, Cancelling(), current=NOT_FINAL)
    assert not store.add_flow_run_state_if(running.id, Cancelled(), current=[])


def test_compare_and_set_moves_a_scheduled_run_once(store: RunStore) -> None:
    run = make.flow_run()
    store.apply(make.lifecycle(run, Scheduled(scheduled_time=T0 + 60, timestamp=T0)))
    scheduled = [StateType.SCHEDULED]
    assert store.add_flow_run_state_if(run.id, Cancelled(timestamp=T0 + 1), current=scheduled)
    assert not store.add_flow_run_state_if(run.id, Cancelled(timestamp=T0 + 2), current=scheduled)
    found = store.read_flow_run(run.id)
    assert found is not None and found.state is not None
    assert found.state.type is StateType.CANCELLED
    assert found.end_time == T0 + 1
    assert names(found.history) == ["Scheduled", "Cancelled"]


def test_states_recorded_after_the_compare_and_set_follow_it(store: RunStore) -> None:
    run = make.flow_run()
    store.apply(make.lifecycle(run, Pending(timestamp=run.created), Running(timestamp=T0 + 1)))
    assert store.add_flow_run_state_if(
        run.id, Cancelling(timestamp=T0 + 2), current=[StateType.RUNNING]
    )
    store.apply([make.change(run, Cancelled(timestamp=T0 + 3))])
    found = store.read_flow_run(run.id)
    assert found is not None
    assert names(found.history) == ["Pending", "Running", "Cancelling", "Cancelled"]
    assert found.end_time == T0 + 3


# -- list_flows ----------------------------------------------------------------------------
def test_list_flows_gives_the_newest_run_of_each(store: RunStore, runs: list[FlowRun]) -> None:
    even, odd = store.list_flows()
    assert (even.name, even.run_count, even.last_run_created) == ("even", 30, T0 + 58)
    assert (odd.name, odd.run_count, odd.last_run_created) == ("odd", 30, T0 + 59)
    assert odd.last_state is not None and odd.last_state.type is StateType.RUNNING
    assert even.last_state is not None and even.last_state.name == "Cached"


# -- read_logs across subflows -----------------------------------------------------------
def test_logs_of_a_run_and_its_subflows_page_in_the_order_written(store: RunStore) -> None:
    clock = Clock()
    root = make.flow_run()
    subflows = [make.flow_run("child", parent=root) for _ in range(3)]
    grandchild = make.flow_run("grandchild", parent=subflows[0])
    task = make.task_run(subflows[1])
    events: list[Event] = []
    for run in (root, *subflows, grandchild, task):
        events += make.completed(run, clock)
    store.apply(events)
    writers: list[FlowRun | TaskRun] = [root, *subflows, grandchild, task]
    lines: list[Event] = []
    for i in range(40):
        writer = writers[(i * 7) % len(writers)]
        level = logging.WARNING if i % 3 == 0 else logging.INFO
        lines.append(make.log(writer, f"line {i}", timestamp=clock(), level=level))
    store.apply(lines)
    everything = store.read_logs(root.id, include_subflows=True)
    assert [e.message for e in everything] == [f"line {i}" for i in range(40)]
    for size, level in ((1, 0), (6, 0), (5, logging.WARNING), (100, 0)):
        seen: list[str] = []
        after = None
        while True:
            page = store.read_logs(
                root.id, include_subflows=True, after_id=after, limit=size, min_level=level
            )
            if not page:
                break
            assert len(page) <= size
            seen += [e.message for e in page]
            after = page[-1].id
        expected = [f"line {i}" for i in range(40) if level == 0 or i % 3 == 0]
        assert seen == expected
    only_task = store.read_logs(root.id, include_subflows=True, task_run_id=task.id, limit=3)
    assert all(e.task_run_id == task.id for e in only_task)
    assert len(only_task) == 3
