"""Check-then-insert on PostgreSQL, where writers do not take one database-wide lock: a
store creating a row that another transaction has inserted but not yet committed waits
for it, then answers as if the row had been there (the domain's "exists already" error,
or an update), instead of a unique-constraint error.

Each case starts the other transaction, lets the store call block on the row, waits
until PostgreSQL shows it waiting for the lock, then commits the other transaction.
SQLite needs no such test: its writers hold the write lock from their first statement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.pools import WorkPool
from cadenza.exceptions import ModelAlreadyExistsError, ObjectAlreadyExists
from cadenza.notify.channels import WebhookChannel
from cadenza.store import schema
from cadenza.store.sql import SqlStore
from cadenza.store.tracking_queries import experiment_id_for
from cadenza.tracking.errors import ExperimentAlreadyExists
from tests.store.backends import POSTGRES
from tests.store.make import T0

OTHER_ID = "01890000-0000-7000-8000-0000000000aa"


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    s = SqlStore(POSTGRES.fresh_url(request))
    yield s
    s.close()


def race(store: SqlStore, table: sa.Table, row: dict[str, Any], call: Callable[[], Any]) -> Any:
    """Run ``call`` while another transaction holds ``row`` of ``table`` inserted but not
    committed; commit it once ``call`` waits for it. Returns what ``call`` returned, or
    the exception it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:
            outcome.append(exc)

    with store.engine.connect() as other:
        other.begin()
        other.execute(table.insert().values(row))
        thread = threading.Thread(target=run)
        thread.start()
        _wait_for_a_lock_wait(store, thread)
        other.commit()
    thread.join(60)
    assert not thread.is_alive()
    return outcome[0]


def _wait_for_a_lock_wait(store: SqlStore, thread: threading.Thread) -> None:
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 60
    with store.engine.connect() as conn:
        # One transaction per look: a transaction sees one snapshot of the statistics.
        while not conn.execute(waiting).scalar():
            conn.rollback()
            assert thread.is_alive(), "the call ended without waiting for the other writer"
            assert time.monotonic() < deadline, "the call never waited for the other writer"
            time.sleep(0.005)


def test_a_model_created_meanwhile_exists_already(store: SqlStore) -> None:
    row = {"name": "taxi", "last_version": 0, "created": T0, "updated": T0}
    found = race(
        store, schema.registered_models, row, lambda: store.create_registered_model("taxi")
    )
    assert isinstance(found, ModelAlreadyExistsError), found
    assert store.get_registered_model("taxi").created == T0


def test_a_work_pool_created_meanwhile_exists_already(store: SqlStore) -> None:
    row = {"name": "pool", "paused": False, "created": T0}
    found = race(store, schema.work_pools, row, lambda: store.create_work_pool(WorkPool("pool")))
    assert isinstance(found, ObjectAlreadyExists), found
    assert "exists already" in str(found)


def test_an_experiment_created_meanwhile_exists_already(store: SqlStore) -> None:
    row = {"id": experiment_id_for("trials"), "name": "trials", "created": T0}
    found = race(store, schema.experiments, row, lambda: store.create_experiment("trials"))
    assert isinstance(found, ExperimentAlreadyExists), found


def test_a_channel_created_meanwhile_exists_already(store: SqlStore) -> None:
    row = {"id": OTHER_ID, "name": "hook", "type": "webhook", "created": T0, "updated": T0}
    hook = WebhookChannel("hook", url="https://hooks.example.com/x")
    found = race(store, schema.notification_channels, row, lambda: store.create_channel(hook))
    assert isinstance(found, ObjectAlreadyExists), found


def test_a_deployment_saved_meanwhile_is_updated(store: SqlStore) -> None:
    store.create_work_pool(WorkPool("pool"), now=T0)
    fields = {"flow_name": "train", "name": "nightly", "work_pool_name": "pool"}
    row = {**fields, "id": OTHER_ID, "entrypoint": "old.py:train", "created": T0, "updated": T0}
    new = Deployment(**fields, entrypoint="new.py:train")  # type: ignore[arg-type]
    saved = race(store, schema.deployments, row, lambda: store.save_deployment(new))
    assert isinstance(saved, Deployment), saved
    assert (saved.id, saved.entrypoint) == (OTHER_ID, "new.py:train")
    assert [d.id for d in store.list_deployments()] == [OTHER_ID]
