"""The written contract of :class:`~cadenza.store.monitor_base.MonitorStore`, on every
SQL backend (the monitor runs where the database is, never over HTTP)."""

from __future__ import annotations

import pytest

from cadenza.deploy.records import WorkerRecord
from cadenza.states import Cancelling, Crashed, Running, StateType
from cadenza.store.sql import SqlStore
from tests.store.backends import BACKENDS
from tests.store.make import T0
from tests.store.test_deploy_contract import make_deployment, schedule_runs

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True, ids=str)


def state_of(store: SqlStore, run_id: str) -> tuple[StateType, str]:
    run = store.read_flow_run(run_id)
    assert run is not None
    assert run.state is not None
    return run.state.type, run.state.name


def test_runs_of_a_silent_worker_crash_and_cancelling_ones_end_cancelled(
    store: SqlStore,
) -> None:
    d = make_deployment(store)
    pending, running, cancelling, alive, waiting = schedule_runs(
        store, d, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5000
    )
    store.claim_flow_runs("pool", "dead", 3, now=T0 + 10)
    store.claim_flow_runs("pool", "alive", 1, now=T0 + 10)
    assert store.add_flow_run_state_if(
        running, Running(timestamp=T0 + 11), current=[StateType.PENDING]
    )
    assert store.add_flow_run_state_if(
        cancelling, Cancelling(timestamp=T0 + 12), current=[StateType.PENDING]
    )
    store.worker_heartbeat(WorkerRecord("alive", "alive", "pool"), [alive], now=T0 + 40)
    assert store.crash_unresponsive_flow_runs(heartbeat_before=T0 + 5, now=T0 + 45) == []
    ended = store.crash_unresponsive_flow_runs(heartbeat_before=T0 + 15, now=T0 + 45)
    assert sorted(r.id for r in ended) == sorted([pending, running, cancelling])
    assert state_of(store, pending) == (StateType.CRASHED, "Crashed")
    assert state_of(store, running) == (StateType.CRASHED, "Crashed")
    assert state_of(store, cancelling) == (StateType.CANCELLED, "Cancelled")
    crashed = store.read_flow_run(running)
    assert crashed is not None
    assert crashed.state is not None
    assert "stopped sending heartbeats" in (crashed.state.message or "")
    assert state_of(store, alive) == (StateType.PENDING, "Pending")
    assert state_of(store, waiting) == (StateType.SCHEDULED, "Scheduled")
    # Ended once: another pass finds nothing.
    assert store.crash_unresponsive_flow_runs(heartbeat_before=T0 + 15, now=T0 + 50) == []


def test_a_silent_workers_run_with_retries_left_is_never_seen_crashed(store: SqlStore) -> None:
    # Crashed is final: a reader between the crash and its retry would take the run
    # for ended. The two come in one transaction.
    d = make_deployment(store, flow_retries=1)
    running, pending = schedule_runs(store, d, T0 + 1, T0 + 2)
    store.claim_flow_runs("pool", "dead", 2, now=T0 + 10)
    assert store.add_flow_run_state_if(
        running, Running(timestamp=T0 + 11), current=[StateType.PENDING]
    )
    changed = store.crash_unresponsive_flow_runs(heartbeat_before=T0 + 15, now=T0 + 45)
    assert sorted(r.id for r in changed) == sorted([running, pending])
    assert {(r.state.type, r.state.name) for r in changed if r.state} == {
        (StateType.SCHEDULED, "AwaitingRetry")
    }
    for run_id in (running, pending):
        run = store.read_flow_run(run_id)
        assert run is not None and run.state is not None
        assert [s.name for s in run.history or ()][-2:] == ["Crashed", "AwaitingRetry"]
        assert "stopped sending heartbeats" in (run.history or [])[-2].message
        assert "retry 1 of 1" in (run.state.message or "")
        assert (run.worker_id, run.heartbeat, run.end_time) == (None, None, None)
    # Retried once, not again by the pass for other crashed runs.
    assert store.reschedule_crashed_flow_runs(crashed_since=T0, now=T0 + 46) == []
    # Its second crash uses up its retries: it stays Crashed, with its worker.
    store.claim_flow_runs("pool", "dead-too", 2, now=T0 + 50)
    again = store.crash_unresponsive_flow_runs(heartbeat_before=T0 + 55, now=T0 + 90)
    assert {(r.state.type, r.worker_id) for r in again if r.state} == {
        (StateType.CRASHED, "dead-too")
    }
    assert store.reschedule_crashed_flow_runs(crashed_since=T0, now=T0 + 91) == []


def test_crashed_runs_are_retried_while_the_deployment_has_retries(store: SqlStore) -> None:
    retried = make_deployment(store, "retried", flow_retries=2)
    once = make_deployment(store, "once")
    (run_id,) = schedule_runs(store, retried, T0 + 1)
    (no_retry,) = schedule_runs(store, once, T0 + 2)
    for attempt in (1, 2, 3):
        now = T0 + attempt * 100
        claimed = store.claim_flow_runs("pool", f"w{attempt}", 5, now=now)
        assert run_id in [r.id for r in claimed]
        assert store.add_flow_run_state_if(
            run_id, Running(timestamp=now + 1), current=[StateType.PENDING]
        )
        assert store.add_flow_run_state_if(
            run_id, Crashed(timestamp=now + 2), current=[StateType.RUNNING]
        )
        store.add_flow_run_state_if(
            no_retry, Crashed(timestamp=now + 2), current=[StateType.PENDING]
        )
        again = store.reschedule_crashed_flow_runs(crashed_since=now, now=now + 3)
        if attempt <= 2:
            assert [r.id for r in again] == [run_id]
            run = store.read_flow_run(run_id)
            assert run is not None
            assert run.state is not None
            assert (run.state.type, run.state.name) == (StateType.SCHEDULED, "AwaitingRetry")
            assert f"retry {attempt} of 2" in (run.state.message or "")
            assert (run.worker_id, run.run_count, run.expected_start_time) == (
                None,
                attempt,
                T0 + 1,
            )
        else:
            assert again == []  # retries used up: it stays Crashed
            assert state_of(store, run_id) == (StateType.CRASHED, "Crashed")
    assert state_of(store, no_retry) == (StateType.CRASHED, "Crashed")


def test_only_recent_crashes_are_retried(store: SqlStore) -> None:
    d = make_deployment(store, flow_retries=1)
    (run_id,) = schedule_runs(store, d, T0 + 1)
    store.claim_flow_runs("pool", "w", 1, now=T0 + 10)
    store.add_flow_run_state_if(run_id, Crashed(timestamp=T0 + 20), current=[StateType.PENDING])
    assert store.reschedule_crashed_flow_runs(crashed_since=T0 + 21, now=T0 + 30) == []
    assert len(store.reschedule_crashed_flow_runs(crashed_since=T0 + 20, now=T0 + 30)) == 1


def test_stale_workers_are_forgotten(store: SqlStore) -> None:
    make_deployment(store)
    store.worker_heartbeat(WorkerRecord("old", "old", "pool"), [], now=T0)
    store.worker_heartbeat(WorkerRecord("new", "new", "pool"), [], now=T0 + 100)
    assert store.delete_stale_workers(heartbeat_before=T0 + 50) == 1
    assert [w.id for w in store.list_workers()] == ["new"]
