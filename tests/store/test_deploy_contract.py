"""The written contract of :class:`~cadenza.store.deploy_base.DeploymentStore`.

Every test receives a fresh store of each kind in ``DEPLOY_STORES`` (the SQL store on
every backend, and the HTTP store over a live server) and uses only the interface.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from cadenza.deploy.deployments import Deployment, DeploymentSchedule
from cadenza.deploy.pools import WorkPool, WorkQueue
from cadenza.deploy.runs import new_deployment_run, scheduled_key
from cadenza.deploy.schedules import Cron, Interval
from cadenza.exceptions import (
    DeploymentError,
    DeploymentNotFound,
    ObjectAlreadyExists,
    WorkPoolNotFound,
    WorkQueueNotFound,
)
from cadenza.states import Cancelled, Running, StateType
from cadenza.store.deploy_base import DeploymentStore
from tests.store.deploy_stores import DEPLOY_STORES
from tests.store.make import T0

pytestmark = pytest.mark.parametrize("deploy_store", DEPLOY_STORES, indirect=True, ids=str)
UNKNOWN = "01890000-0000-7000-8000-000000000000"


def make_deployment(store: DeploymentStore, name: str = "nightly", **fields: object) -> Deployment:
    if store.read_work_pool(str(fields.get("work_pool_name", "pool"))) is None:
        store.create_work_pool(WorkPool(str(fields.get("work_pool_name", "pool"))), now=T0)
    values: dict[str, object] = {
        "flow_name": "train",
        "name": name,
        "entrypoint": "flows.py:train",
        "work_pool_name": "pool",
    }
    values.update(fields)
    return store.save_deployment(Deployment(**values), now=T0)  # type: ignore[arg-type]


def schedule_runs(
    store: DeploymentStore, d: Deployment, *times: float, key: bool = True, **kw: object
) -> list[str]:
    runs = [
        new_deployment_run(d, t, idempotency_key=scheduled_key(t) if key else None, now=T0, **kw)  # type: ignore[arg-type]
        for t in times
    ]
    return [r.id for r in store.create_scheduled_flow_runs(runs)]


# -- misses ----------------------------------------------------------------------------------
def test_an_empty_store_answers_none_or_empty(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    assert s.read_deployment(UNKNOWN) is None
    assert s.read_deployment_by_name("train", "nightly") is None
    assert s.list_deployments() == []
    assert s.list_deployments(flow_name="train", work_pool_name="pool") == []
    assert s.delete_deployment(UNKNOWN) is False
    assert s.read_work_pool("pool") is None
    assert s.list_work_pools() == []
    assert s.read_work_queue("pool", "default") is None
    assert s.list_scheduled_flow_runs() == []
    assert s.mark_late_flow_runs(before=T0 + 10**9, now=T0) == []
    assert s.create_scheduled_flow_runs([]) == []
    assert s.read_flow_run(UNKNOWN) is None


def test_unknown_names_raise_errors_listing_what_exists(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("gpu"), now=T0)
    with pytest.raises(WorkPoolNotFound, match=r"no work pool 'cpu'.*gpu"):
        s.list_work_queues("cpu")
    with pytest.raises(WorkPoolNotFound, match="gpu"):
        s.claim_flow_runs("cpu", "w1", 1, now=T0)
    with pytest.raises(WorkPoolNotFound):
        s.update_work_pool("cpu", paused=True)
    with pytest.raises(WorkQueueNotFound, match=r"no queue 'fast'.*default"):
        s.update_work_queue("gpu", "fast", priority=2)
    with pytest.raises(WorkQueueNotFound, match="default"):
        s.claim_flow_runs("gpu", "w1", 1, now=T0, queues=["fast"])
    with pytest.raises(WorkPoolNotFound, match="gpu"):
        s.save_deployment(
            Deployment("train", "nightly", "flows.py:train", work_pool_name="cpu"), now=T0
        )
    with pytest.raises(WorkQueueNotFound, match="default"):
        s.save_deployment(
            Deployment("train", "x", "flows.py:train", "gpu", work_queue_name="fast"), now=T0
        )
    make_deployment(s, work_pool_name="gpu")
    with pytest.raises(DeploymentNotFound, match="train/nightly"):
        s.set_deployment_paused(UNKNOWN, True)


# -- work pools and queues -------------------------------------------------------------------
def test_a_work_pool_has_a_default_queue_and_a_unique_name(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    pool = s.create_work_pool(WorkPool("gpu", description="GPUs", concurrency_limit=2), now=T0)
    assert (pool.name, pool.description, pool.concurrency_limit, pool.paused) == (
        "gpu",
        "GPUs",
        2,
        False,
    )
    assert pool.created == T0
    assert s.read_work_pool("gpu") == pool
    (default,) = s.list_work_queues("gpu")
    assert (default.pool_name, default.name, default.priority) == ("gpu", "default", 1)
    with pytest.raises(ObjectAlreadyExists, match="gpu"):
        s.create_work_pool(WorkPool("gpu"))
    s.create_work_pool(WorkPool("cpu"))
    assert [p.name for p in s.list_work_pools()] == ["cpu", "gpu"]


def test_work_pools_and_queues_change_only_the_fields_given(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("gpu", description="GPUs", concurrency_limit=2))
    changed = s.update_work_pool("gpu", paused=True)
    assert (changed.paused, changed.description, changed.concurrency_limit) == (True, "GPUs", 2)
    changed = s.update_work_pool("gpu", concurrency_limit=None, description=None)
    assert (changed.paused, changed.description, changed.concurrency_limit) == (True, None, None)
    s.create_work_queue(WorkQueue("gpu", "urgent", priority=1, concurrency_limit=1), now=T0)
    s.create_work_queue(WorkQueue("gpu", "batch", priority=5))
    with pytest.raises(ObjectAlreadyExists, match="batch"):
        s.create_work_queue(WorkQueue("gpu", "batch"))
    with pytest.raises(WorkPoolNotFound):
        s.create_work_queue(WorkQueue("cpu", "batch"))
    assert [q.name for q in s.list_work_queues("gpu")] == ["default", "urgent", "batch"]
    queue = s.update_work_queue("gpu", "batch", priority=1, paused=True)
    assert (queue.priority, queue.paused, queue.concurrency_limit) == (1, True, None)
    assert [q.name for q in s.list_work_queues("gpu")] == ["batch", "default", "urgent"]
    assert s.read_work_queue("gpu", "urgent") == WorkQueue(
        "gpu", "urgent", priority=1, concurrency_limit=1, created=T0
    )


@pytest.mark.parametrize(
    "bad",
    [
        WorkPool(""),
        WorkPool("a/b"),
        WorkPool("ok", concurrency_limit=-1),
    ],
    ids=["empty", "slash", "negative-limit"],
)
def test_invalid_pools_are_refused(deploy_store: DeploymentStore, bad: WorkPool) -> None:
    with pytest.raises(DeploymentError):
        deploy_store.create_work_pool(bad)
    assert deploy_store.list_work_pools() == []


def test_invalid_queues_are_refused(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("gpu"))
    with pytest.raises(DeploymentError, match="priority"):
        s.create_work_queue(WorkQueue("gpu", "q", priority=0))
    with pytest.raises(DeploymentError, match="limit"):
        s.update_work_queue("gpu", "default", concurrency_limit=-2)


# -- deployments ---------------------------------------------------------------------------------
def test_a_deployment_reads_back_with_every_field(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("pool"))
    s.create_work_queue(WorkQueue("pool", "fast", priority=1))
    cron = Cron("0 9 3 * *", "Europe/Zurich")
    every = Interval(600, dt.datetime(2024, 1, 1, 8, 0), "Europe/Zurich")
    saved = s.save_deployment(
        Deployment(
            flow_name="train",
            name="monthly",
            entrypoint="pipelines/train.py:train",
            work_pool_name="pool",
            work_queue_name="fast",
            path="/srv/code",
            parameters={"month": 1, "nested": {"a": [1, 2]}},
            parameter_schema={"type": "object", "properties": {"month": {"type": "integer"}}},
            tags=["ml", "monthly"],
            description="Retrain",
            version="abc123",
            concurrency_limit=1,
            catchup="latest",
            flow_retries=2,
            schedules=[DeploymentSchedule(cron), DeploymentSchedule(every, active=False)],
        ),
        now=T0,
    )
    assert saved.id is not None
    found = s.read_deployment(saved.id)
    assert found == saved
    assert found is not None
    assert (found.flow_name, found.name, found.full_name) == ("train", "monthly", "train/monthly")
    assert found.entrypoint == "pipelines/train.py:train"
    assert (found.work_pool_name, found.work_queue_name, found.path) == (
        "pool",
        "fast",
        "/srv/code",
    )
    assert found.parameters == {"month": 1, "nested": {"a": [1, 2]}}
    assert found.parameter_schema["properties"] == {"month": {"type": "integer"}}
    assert (found.tags, found.description, found.version) == (
        ["ml", "monthly"],
        "Retrain",
        "abc123",
    )
    assert (found.concurrency_limit, found.catchup, found.flow_retries) == (1, "latest", 2)
    assert (found.paused, found.created, found.updated) == (False, T0, T0)
    assert [(x.schedule, x.active) for x in found.schedules] == [(cron, True), (every, False)]
    assert all(x.id for x in found.schedules)
    assert s.read_deployment_by_name("train", "monthly") == saved


def test_saving_again_updates_the_same_deployment(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    first = make_deployment(s, schedules=[DeploymentSchedule(Cron("0 9 * * *"))])
    again = s.save_deployment(
        Deployment(
            "train",
            "nightly",
            "flows.py:train",
            "pool",
            description="changed",
            schedules=[DeploymentSchedule(Cron("0 9 * * *"))],
        ),
        now=T0 + 60,
    )
    assert again.id == first.id
    assert (again.created, again.updated, again.description) == (T0, T0 + 60, "changed")
    assert [x.id for x in again.schedules] == [x.id for x in first.schedules]
    changed = s.save_deployment(
        Deployment(
            "train",
            "nightly",
            "flows.py:train",
            "pool",
            schedules=[DeploymentSchedule(Cron("0 10 * * *"))],
        ),
        now=T0 + 120,
    )
    assert changed.id == first.id
    assert [x.schedule for x in changed.schedules] == [Cron("0 10 * * *")]
    assert [d.id for d in s.list_deployments()] == [first.id]


def test_deployments_are_listed_by_flow_then_name(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    make_deployment(s, "b", flow_name="score")
    make_deployment(s, "z")
    make_deployment(s, "a")
    make_deployment(s, "other-pool", work_pool_name="gpu")
    assert [d.full_name for d in s.list_deployments()] == [
        "score/b",
        "train/a",
        "train/other-pool",
        "train/z",
    ]
    assert [d.name for d in s.list_deployments(flow_name="train", work_pool_name="pool")] == [
        "a",
        "z",
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("catchup", "sometimes", "catch-up policy 'sometimes'"),
        ("flow_retries", -1, "flow_retries"),
        ("concurrency_limit", -1, "concurrency limit"),
        ("name", "", "name of a deployment"),
        ("entrypoint", "flows.py", "not of the form"),
    ],
)
def test_invalid_deployments_are_refused(
    deploy_store: DeploymentStore, field: str, value: object, message: str
) -> None:
    with pytest.raises(DeploymentError, match=message):
        make_deployment(deploy_store, **{field: value})
    assert deploy_store.list_deployments() == []


# -- runs of deployments ------------------------------------------------------------------
def test_scheduled_runs_are_created_once_per_key(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s, parameters={"month": 1}, tags=["ml"])
    created = schedule_runs(s, d, T0 + 100, T0 + 200)
    assert len(created) == 2
    assert len(schedule_runs(s, d, T0 + 100, T0 + 200, T0 + 300)) == 1
    assert schedule_runs(s, d, T0 + 300) == []
    runs = s.list_scheduled_flow_runs()
    assert [r.expected_start_time for r in runs] == [T0 + 100, T0 + 200, T0 + 300]
    first = s.read_flow_run(runs[0].id)
    assert first is not None
    assert first.state is not None
    assert (first.state.type, first.state.name) == (StateType.SCHEDULED, "Scheduled")
    assert first.state.data == {"scheduled_time": T0 + 100}
    assert (first.deployment_id, first.work_pool_name, first.work_queue_name) == (
        d.id,
        "pool",
        "default",
    )
    assert (first.flow_name, first.parameters, first.tags) == ("train", {"month": 1}, ["ml"])
    assert first.idempotency_key == scheduled_key(T0 + 100)
    # Runs without a key are never in conflict.
    assert len(schedule_runs(s, d, T0 + 100, T0 + 100, key=False)) == 2


def test_two_schedulers_at_once_create_each_run_once(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    times = [T0 + 60 * i for i in range(50)]
    made: list[list[str]] = []
    barrier = threading.Barrier(2)

    def scheduler() -> None:
        barrier.wait()
        made.append(schedule_runs(s, d, *times))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(m) for m in made) == 50
    assert not set(made[0]) & set(made[1])
    assert len(s.list_scheduled_flow_runs(limit=1000)) == 50


def test_scheduled_runs_are_filtered_and_ordered_by_due_time(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    a = make_deployment(s, "a")
    b = make_deployment(s, "b", work_pool_name="gpu")
    schedule_runs(s, a, T0 + 300, T0 + 100)
    schedule_runs(s, b, T0 + 200)
    due = [r.expected_start_time for r in s.list_scheduled_flow_runs()]
    assert due == [T0 + 100, T0 + 200, T0 + 300]
    assert len(s.list_scheduled_flow_runs(deployment_id=a.id)) == 2
    assert len(s.list_scheduled_flow_runs(work_pool_name="gpu")) == 1
    assert len(s.list_scheduled_flow_runs(before=T0 + 200)) == 1
    assert len(s.list_scheduled_flow_runs(limit=2)) == 2
    assert s.list_scheduled_flow_runs(state_names=["Late"]) == []


def test_late_runs_are_marked_once(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    early, on_time = schedule_runs(s, d, T0 + 10, T0 + 100)
    marked = s.mark_late_flow_runs(before=T0 + 50, now=T0 + 60)
    assert [r.id for r in marked] == [early]
    assert marked[0].state is not None
    assert (marked[0].state.type, marked[0].state.name) == (StateType.SCHEDULED, "Late")
    assert s.mark_late_flow_runs(before=T0 + 50, now=T0 + 70) == []
    assert [r.id for r in s.list_scheduled_flow_runs(state_names=["Late"])] == [early]
    run = s.read_flow_run(early)
    assert run is not None
    assert [x.name for x in run.history or ()] == ["Scheduled", "Late"]
    assert on_time not in [r.id for r in s.list_scheduled_flow_runs(state_names=["Late"])]


def test_pausing_deletes_the_future_runs_of_schedules_only(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    assert d.id is not None
    past, future = schedule_runs(s, d, T0 - 100, T0 + 100)
    (by_hand,) = schedule_runs(s, d, T0 + 100, key=False)
    paused = s.set_deployment_paused(d.id, True, now=T0)
    assert paused.paused is True
    assert s.set_deployment_paused(d.id, True, now=T0).paused is True
    left = {r.id for r in s.list_scheduled_flow_runs()}
    assert left == {past, by_hand}
    assert s.read_flow_run(future) is None
    assert s.set_deployment_paused(d.id, False, now=T0).paused is False


def test_changing_the_schedules_deletes_their_future_runs(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s, schedules=[DeploymentSchedule(Cron("0 9 * * *"))])
    schedule_runs(s, d, T0 + 100)
    make_deployment(
        s, description="same schedules", schedules=[DeploymentSchedule(Cron("0 9 * * *"))]
    )
    assert len(s.list_scheduled_flow_runs()) == 1
    make_deployment(s, schedules=[DeploymentSchedule(Cron("0 10 * * *"))])
    assert s.list_scheduled_flow_runs() == []


def test_deleting_a_deployment_deletes_its_runs_that_did_not_start(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    d = make_deployment(s)
    assert d.id is not None
    waiting, started = schedule_runs(s, d, T0 + 1, T0 + 2)
    assert s.add_flow_run_state_if(
        started, Running(timestamp=T0 + 3), current=[StateType.SCHEDULED]
    )
    assert s.delete_deployment(d.id) is True
    assert s.read_deployment(d.id) is None
    assert s.read_flow_run(waiting) is None
    assert s.read_flow_run(started) is not None


# -- claiming --------------------------------------------------------------------------------
def test_a_claim_takes_due_runs_and_makes_them_pending(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    first, second, later = schedule_runs(s, d, T0 + 1, T0 + 2, T0 + 100)
    claimed = s.claim_flow_runs("pool", "worker-1", 10, now=T0 + 50)
    assert [r.id for r in claimed] == [first, second]
    for run in claimed:
        assert run.state is not None
        assert run.state.type is StateType.PENDING
        assert (run.worker_id, run.heartbeat) == ("worker-1", T0 + 50)
    assert s.claim_flow_runs("pool", "worker-2", 10, now=T0 + 50) == []
    assert [r.id for r in s.list_scheduled_flow_runs()] == [later]
    assert s.claim_flow_runs("pool", "w", 0, now=T0 + 500) == []


def test_a_claim_follows_queue_priority_then_due_time(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("pool"))
    s.create_work_queue(WorkQueue("pool", "urgent", priority=1))
    s.update_work_queue("pool", "default", priority=2)
    normal = make_deployment(s, "normal")
    urgent = make_deployment(s, "urgent", work_queue_name="urgent")
    n1, n2 = schedule_runs(s, normal, T0 + 1, T0 + 2)
    (u1,) = schedule_runs(s, urgent, T0 + 3)
    assert [r.id for r in s.claim_flow_runs("pool", "w", 2, now=T0 + 10)] == [u1, n1]
    assert [r.id for r in s.claim_flow_runs("pool", "w", 2, now=T0 + 10, queues=["urgent"])] == []
    assert [r.id for r in s.claim_flow_runs("pool", "w", 2, now=T0 + 10)] == [n2]


def test_a_claim_respects_pool_queue_and_deployment_limits(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.create_work_pool(WorkPool("pool", concurrency_limit=3))
    s.create_work_queue(WorkQueue("pool", "one-at-a-time", concurrency_limit=1))
    limited = make_deployment(s, "limited", concurrency_limit=1)
    queued = make_deployment(s, "queued", work_queue_name="one-at-a-time")
    free = make_deployment(s, "free")
    l1, l2 = schedule_runs(s, limited, T0 + 1, T0 + 2)
    q1, _q2 = schedule_runs(s, queued, T0 + 3, T0 + 4)
    f1, f2, f3 = schedule_runs(s, free, T0 + 5, T0 + 6, T0 + 7)
    claimed = [r.id for r in s.claim_flow_runs("pool", "w", 10, now=T0 + 100)]
    # Queues of equal priority by name ("default" first); l2 waits for l1; the pool is full.
    assert claimed == [l1, f1, f2]
    assert s.claim_flow_runs("pool", "w", 10, now=T0 + 100) == []
    assert s.add_flow_run_state_if(l1, Cancelled(timestamp=T0 + 101), current=[StateType.PENDING])
    assert [r.id for r in s.claim_flow_runs("pool", "w", 10, now=T0 + 102)] == [l2]
    s.update_work_pool("pool", concurrency_limit=None)
    # One run of the queue of limit 1 at a time.
    assert [r.id for r in s.claim_flow_runs("pool", "w", 10, now=T0 + 103)] == [f3, q1]
    assert s.claim_flow_runs("pool", "w", 10, now=T0 + 103) == []


def test_paused_pools_and_queues_give_no_runs(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    schedule_runs(s, d, T0 + 1)
    s.update_work_pool("pool", paused=True)
    assert s.claim_flow_runs("pool", "w", 1, now=T0 + 10) == []
    s.update_work_pool("pool", paused=False)
    s.update_work_queue("pool", "default", paused=True)
    assert s.claim_flow_runs("pool", "w", 1, now=T0 + 10) == []
    s.update_work_queue("pool", "default", paused=False)
    assert len(s.claim_flow_runs("pool", "w", 1, now=T0 + 10)) == 1


def test_late_runs_are_claimed_too(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    (run_id,) = schedule_runs(s, d, T0 + 1)
    s.mark_late_flow_runs(before=T0 + 30, now=T0 + 31)
    assert [r.id for r in s.claim_flow_runs("pool", "w", 1, now=T0 + 40)] == [run_id]


def test_two_workers_claiming_at_once_never_share_a_run(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    d = make_deployment(s)
    schedule_runs(s, d, *[T0 + i for i in range(40)])
    got: dict[str, list[str]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        barrier.wait()
        while True:
            claimed = s.claim_flow_runs("pool", name, 3, now=T0 + 100)
            if not claimed:
                return
            got[name].extend(r.id for r in claimed)

    threads = [threading.Thread(target=worker, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got["a"]) + len(got["b"]) == 40
    assert not set(got["a"]) & set(got["b"])
    for name, ids in got.items():
        for run_id in ids:
            run = s.read_flow_run(run_id)
            assert run is not None
            assert run.worker_id == name
