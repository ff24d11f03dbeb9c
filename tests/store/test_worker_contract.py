"""The written contract of :class:`~cadenza.store.worker_base.WorkerStore`: heartbeats,
waiting for due runs, handing runs back.

Every test receives a fresh store of each kind in ``DEPLOY_STORES`` and uses only the
interface.
"""

from __future__ import annotations

import time

import pytest

from cadenza.deploy.pools import WorkPool, WorkQueue
from cadenza.deploy.records import WorkerRecord
from cadenza.exceptions import WorkPoolNotFound, WorkQueueNotFound
from cadenza.states import Cancelling, Crashed, Running, StateType
from cadenza.store.deploy_base import DeploymentStore
from tests.store.deploy_stores import DEPLOY_STORES
from tests.store.make import T0
from tests.store.test_deploy_contract import UNKNOWN, make_deployment, schedule_runs

pytestmark = pytest.mark.parametrize("deploy_store", DEPLOY_STORES, indirect=True, ids=str)


def worker(worker_id: str = "w1", pool: str = "pool", **fields: object) -> WorkerRecord:
    values: dict[str, object] = {"name": f"host:{worker_id}", "hostname": "host", "pid": 42}
    values.update(fields)
    return WorkerRecord(worker_id, pool_name=pool, **values)  # type: ignore[arg-type]


def test_no_workers_answers_none_or_empty(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    assert s.read_worker(UNKNOWN) is None
    assert s.list_workers() == []
    assert s.list_workers(pool_name="pool") == []
    assert s.delete_worker(UNKNOWN) is False
    assert s.next_due_time("pool") is None
    assert s.release_flow_run(UNKNOWN, "w1", message="bye") is False


def test_a_first_heartbeat_registers_the_worker_and_later_ones_update_it(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("pool"), now=T0)
    s.create_work_pool(WorkPool("gpu"), now=T0)
    assert s.worker_heartbeat(worker("w1"), [], now=T0 + 1) == []
    assert s.read_worker("w1") == WorkerRecord(
        "w1", "host:w1", "pool", hostname="host", pid=42, started=T0 + 1, last_heartbeat=T0 + 1
    )
    s.worker_heartbeat(worker("w1", pid=43, name="renamed"), [], now=T0 + 5)
    found = s.read_worker("w1")
    assert found is not None
    assert (found.name, found.pid, found.started, found.last_heartbeat) == (
        "renamed",
        43,
        T0 + 1,
        T0 + 5,
    )
    s.worker_heartbeat(worker("w2"), [], now=T0 + 3)
    s.worker_heartbeat(worker("w3", pool="gpu"), [], now=T0 + 2)
    # By pool, then the most recent heartbeat first.
    assert [w.id for w in s.list_workers()] == ["w3", "w1", "w2"]
    assert [w.id for w in s.list_workers(pool_name="pool")] == ["w1", "w2"]
    assert s.list_workers(pool_name="cpu") == []
    assert s.delete_worker("w1") is True
    assert s.read_worker("w1") is None
    assert s.delete_worker("w1") is False


def test_a_heartbeat_names_a_pool_that_exists(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("gpu"))
    with pytest.raises(WorkPoolNotFound, match=r"'cpu'.*gpu"):
        s.worker_heartbeat(worker(pool="cpu"), [])
    assert s.list_workers() == []


def test_a_heartbeat_keeps_the_workers_runs_alive_and_reports_cancellations(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    d = make_deployment(s)
    mine, cancelled, other, waiting, lost = schedule_runs(
        s, d, T0 + 1, T0 + 2, T0 + 3, T0 + 500, T0 + 4
    )
    claimed = s.claim_flow_runs("pool", "w1", 2, now=T0 + 10)
    assert [r.id for r in claimed] == [mine, cancelled]
    assert [r.id for r in s.claim_flow_runs("pool", "w2", 1, now=T0 + 10)] == [other]
    assert s.add_flow_run_state_if(mine, Running(timestamp=T0 + 11), current=[StateType.PENDING])
    asked = Cancelling(timestamp=T0 + 12)
    assert s.add_flow_run_state_if(cancelled, asked, current=[StateType.PENDING])
    assert [r.id for r in s.claim_flow_runs("pool", "w1", 1, now=T0 + 10)] == [lost]
    # The worker names the runs it runs; the others of another worker are not its own.
    named = [mine, cancelled, other, waiting]
    assert s.worker_heartbeat(worker("w1"), named, now=T0 + 20) == [cancelled]
    beats = {
        run_id: run.heartbeat
        for run_id in (mine, cancelled, other, waiting, lost)
        if (run := s.read_flow_run(run_id)) is not None
    }
    assert beats == {
        mine: T0 + 20,
        cancelled: T0 + 20,
        other: T0 + 10,
        waiting: None,
        lost: T0 + 10,
    }
    assert s.worker_heartbeat(worker("w2"), [other, cancelled], now=T0 + 21) == []
    # A cancellation asked while the run's process recorded Running is still one.
    assert s.add_flow_run_state_if(mine, Cancelling(timestamp=T0 + 22), current=[StateType.RUNNING])
    assert s.add_flow_run_state_if(
        mine, Running(name="Retrying", timestamp=T0 + 23), current=[StateType.CANCELLING]
    )
    assert s.worker_heartbeat(worker("w1"), named, now=T0 + 24) == sorted([mine, cancelled])


def test_the_next_due_time_is_the_soonest_scheduled_run_of_the_pool(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("pool"), now=T0)
    s.create_work_queue(WorkQueue("pool", "fast"))
    slow = make_deployment(s, "slow")
    fast = make_deployment(s, "fast", work_queue_name="fast")
    schedule_runs(s, slow, T0 + 30, T0 + 10)
    schedule_runs(s, fast, T0 + 20)
    assert s.next_due_time("pool") == T0 + 10
    assert s.next_due_time("pool", queues=["fast"]) == T0 + 20
    assert s.next_due_time("pool", queues=[]) is None
    s.claim_flow_runs("pool", "w", 1, now=T0 + 15)
    assert s.next_due_time("pool") == T0 + 20
    assert s.next_due_time("other") is None


def test_waiting_claims_a_run_that_is_due(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    now = time.time()
    first, second = schedule_runs(s, d, now - 5, now - 4)
    claimed = s.claim_flow_runs_waiting("pool", "w1", 1, wait=0)
    assert [r.id for r in claimed] == [first]
    assert claimed[0].state is not None
    assert claimed[0].state.type is StateType.PENDING
    assert claimed[0].worker_id == "w1"
    assert [r.id for r in s.claim_flow_runs_waiting("pool", "w1", 5, wait=5)] == [second]


def test_waiting_claims_a_run_at_its_time(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    due = time.time() + 0.3
    (run_id,) = schedule_runs(s, d, due)
    claimed = s.claim_flow_runs_waiting("pool", "w1", 1, wait=10)
    assert [r.id for r in claimed] == [run_id]
    assert claimed[0].state is not None
    # Claimed at its time or after, never before.
    assert claimed[0].state.timestamp >= due


def test_waiting_returns_empty_after_the_wait_when_nothing_is_due(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    d = make_deployment(s)
    schedule_runs(s, d, time.time() + 3600)
    assert s.claim_flow_runs_waiting("pool", "w1", 1, wait=0.1) == []
    assert s.claim_flow_runs_waiting("pool", "w1", 0, wait=0) == []


def test_waiting_names_a_pool_and_queues_that_exist(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("gpu"))
    with pytest.raises(WorkPoolNotFound, match="gpu"):
        s.claim_flow_runs_waiting("cpu", "w1", 1, wait=0)
    with pytest.raises(WorkQueueNotFound, match="default"):
        s.claim_flow_runs_waiting("gpu", "w1", 1, wait=0, queues=["fast"])


def test_a_released_run_is_claimed_again(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    pending, running, crashed = schedule_runs(s, d, T0 + 1, T0 + 2, T0 + 3)
    s.claim_flow_runs("pool", "w1", 3, now=T0 + 10)
    assert s.add_flow_run_state_if(running, Running(timestamp=T0 + 11), current=[StateType.PENDING])
    assert s.add_flow_run_state_if(crashed, Crashed(timestamp=T0 + 12), current=[StateType.PENDING])
    assert s.release_flow_run(pending, "w2", message="not mine") is False
    for run_id in (pending, running, crashed):
        assert s.release_flow_run(run_id, "w1", message="worker stopped", now=T0 + 20) is True
        run = s.read_flow_run(run_id)
        assert run is not None
        assert run.state is not None
        assert (run.state.type, run.state.name, run.state.message) == (
            StateType.SCHEDULED,
            "Rescheduled",
            "worker stopped",
        )
        assert (run.worker_id, run.heartbeat, run.expected_start_time) == (
            None,
            None,
            T0 + run_id_index(run_id, pending, running, crashed),
        )
    assert s.release_flow_run(pending, "w1", message="again") is False
    again = s.claim_flow_runs("pool", "w2", 5, now=T0 + 30)
    assert [r.id for r in again] == [pending, running, crashed]


def run_id_index(run_id: str, *ids: str) -> int:
    return ids.index(run_id) + 1
