"""The written contract of :class:`~cadenza.store.concurrency_base.ConcurrencyLimitStore`.

Every test receives a fresh store of each kind in ``DEPLOY_STORES`` and uses only the
interface.
"""

from __future__ import annotations

import threading

import pytest

from cadenza.deploy.records import ConcurrencyLimit, ConcurrencySlot
from cadenza.exceptions import ConcurrencyLimitError
from cadenza.store.deploy_base import DeploymentStore
from tests.store.deploy_stores import DEPLOY_STORES
from tests.store.make import T0

pytestmark = pytest.mark.parametrize("deploy_store", DEPLOY_STORES, indirect=True, ids=str)
TTL = 30.0


def test_no_limits_answers_none_or_empty(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    assert s.read_concurrency_limit("gpu") is None
    assert s.list_concurrency_limits() == []
    assert s.delete_concurrency_limit("gpu") is False
    assert s.acquire_concurrency_slots(["gpu"], "t1", ttl=TTL) is True
    assert s.acquire_concurrency_slots([], "t1", ttl=TTL) is True
    assert s.renew_concurrency_slots(["t1"], ttl=TTL) == 0
    assert s.release_concurrency_slots("t1") == 0


def test_a_limit_is_created_then_changed(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    assert s.set_concurrency_limit("gpu", 2, now=T0) == ConcurrencyLimit("gpu", 2, T0)
    assert s.set_concurrency_limit("gpu", 3, now=T0 + 5) == ConcurrencyLimit("gpu", 3, T0)
    s.set_concurrency_limit("db", 1, now=T0)
    assert [(x.tag, x.limit) for x in s.list_concurrency_limits(now=T0)] == [("db", 1), ("gpu", 3)]
    assert s.delete_concurrency_limit("gpu") is True
    assert s.read_concurrency_limit("gpu") is None


@pytest.mark.parametrize(("tag", "limit"), [("", 1), ("  ", 1), ("gpu", -1), ("x" * 256, 1)])
def test_invalid_limits_are_refused(deploy_store: DeploymentStore, tag: str, limit: int) -> None:
    with pytest.raises(ConcurrencyLimitError):
        deploy_store.set_concurrency_limit(tag, limit)
    assert deploy_store.list_concurrency_limits() == []


def test_slots_are_taken_up_to_the_limit_and_freed(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.set_concurrency_limit("gpu", 2, now=T0)
    assert s.acquire_concurrency_slots(["gpu", "untagged"], "t1", ttl=TTL, now=T0 + 1)
    assert s.acquire_concurrency_slots(["gpu"], "t2", ttl=TTL, now=T0 + 2)
    assert s.acquire_concurrency_slots(["gpu"], "t3", ttl=TTL, now=T0 + 3) is False
    # Taking a slot held already renews it, and needs no room.
    assert s.acquire_concurrency_slots(["gpu"], "t1", ttl=TTL, now=T0 + 4)
    limit = s.read_concurrency_limit("gpu", now=T0 + 5)
    assert limit is not None
    assert limit.slots == [
        ConcurrencySlot("t2", T0 + 2, T0 + 2 + TTL),
        ConcurrencySlot("t1", T0 + 4, T0 + 4 + TTL),
    ]
    assert limit.active == 2
    assert s.release_concurrency_slots("t1") == 1
    assert s.acquire_concurrency_slots(["gpu"], "t3", ttl=TTL, now=T0 + 6)


def test_slots_of_several_tags_are_taken_all_or_none(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.set_concurrency_limit("gpu", 1, now=T0)
    s.set_concurrency_limit("db", 2, now=T0)
    assert s.acquire_concurrency_slots(["gpu"], "t1", ttl=TTL, now=T0)
    assert s.acquire_concurrency_slots(["db", "gpu"], "t2", ttl=TTL, now=T0) is False
    db = s.read_concurrency_limit("db", now=T0)
    assert db is not None
    assert db.slots == []
    s.release_concurrency_slots("t1")
    assert s.acquire_concurrency_slots(["db", "gpu"], "t2", ttl=TTL, now=T0)
    assert s.release_concurrency_slots("t2") == 2


def test_a_limit_of_zero_gives_no_slot(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.set_concurrency_limit("frozen", 0, now=T0)
    assert s.acquire_concurrency_slots(["frozen"], "t1", ttl=TTL, now=T0) is False


def test_slots_not_renewed_expire(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.set_concurrency_limit("gpu", 1, now=T0)
    assert s.acquire_concurrency_slots(["gpu"], "dead", ttl=10, now=T0)
    assert s.acquire_concurrency_slots(["gpu"], "alive", ttl=10, now=T0 + 5) is False
    assert s.renew_concurrency_slots(["dead"], ttl=10, now=T0 + 9) == 1
    assert s.acquire_concurrency_slots(["gpu"], "alive", ttl=10, now=T0 + 15) is False
    limit = s.read_concurrency_limit("gpu", now=T0 + 20)
    assert limit is not None
    assert limit.slots == []
    # An expired slot cannot be renewed: its holder lost it.
    assert s.renew_concurrency_slots(["dead"], ttl=10, now=T0 + 20) == 0
    assert s.acquire_concurrency_slots(["gpu"], "alive", ttl=10, now=T0 + 20)


def test_lowering_a_limit_lets_no_new_run_in(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.set_concurrency_limit("gpu", 3, now=T0)
    for holder in ("t1", "t2", "t3"):
        assert s.acquire_concurrency_slots(["gpu"], holder, ttl=TTL, now=T0)
    lowered = s.set_concurrency_limit("gpu", 1, now=T0 + 1)
    assert (lowered.limit, lowered.active) == (1, 3)
    s.release_concurrency_slots("t1")
    s.release_concurrency_slots("t2")
    assert s.acquire_concurrency_slots(["gpu"], "t4", ttl=TTL, now=T0 + 2) is False
    s.release_concurrency_slots("t3")
    assert s.acquire_concurrency_slots(["gpu"], "t4", ttl=TTL, now=T0 + 2)


def test_deleting_a_limit_frees_its_slots(deploy_store: DeploymentStore) -> None:
    s = deploy_store
    s.set_concurrency_limit("gpu", 1, now=T0)
    assert s.acquire_concurrency_slots(["gpu"], "t1", ttl=TTL, now=T0)
    assert s.delete_concurrency_limit("gpu")
    assert s.release_concurrency_slots("t1") == 0
    assert s.acquire_concurrency_slots(["gpu"], "t2", ttl=TTL, now=T0)


def test_threads_taking_slots_at_once_never_exceed_the_limit(
    deploy_store: DeploymentStore,
) -> None:
    s = deploy_store
    s.set_concurrency_limit("gpu", 3)
    taken: list[str] = []
    barrier = threading.Barrier(8)

    def take(holder: str) -> None:
        barrier.wait()
        if s.acquire_concurrency_slots(["gpu"], holder, ttl=TTL):
            taken.append(holder)

    threads = [threading.Thread(target=take, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 3
    limit = s.read_concurrency_limit("gpu")
    assert limit is not None
    assert sorted(x.holder for x in limit.slots) == sorted(taken)
