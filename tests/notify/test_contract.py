"""The written contract of :class:`~cadenza.store.notify_base.NotificationStore`, on
the SQL store and on the HTTP store of a real server; and of
:class:`~cadenza.store.notify_base.DeliveryQueue` on the SQL store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.notify.conftest import NotifyServer, Receiver
from tests.store.backends import BACKENDS, SQLITE, Backend

from cadenza.exceptions import InvalidNotificationConfig, ObjectAlreadyExists, ObjectNotFound
from cadenza.notify.automations import Automation, FlowRunStateTrigger, NotCompletedTrigger
from cadenza.notify.channels import EmailChannel, WebhookChannel
from cadenza.notify.records import DeliveryAttempt, OutboxMessage, RunNotification
from cadenza.states import Failed, Scheduled
from cadenza.store.notify_base import NotificationStore
from cadenza.store.sql import SqlStore
from cadenza.utilities.ids import uuid7

KINDS = [*(f"sql-{b.name}" for b in BACKENDS), "http"]
"""The SQL store on every backend, and the HTTP store of a server in front of SQLite."""


@pytest.fixture(params=KINDS)
def nstore(request: pytest.FixtureRequest) -> Iterator[NotificationStore]:
    kind: str = request.param
    backend = SQLITE if kind == "http" else BACKENDS[KINDS.index(kind)]
    sql = SqlStore(backend.fresh_url(request))
    if kind != "http":
        yield sql
    else:
        from cadenza.client.http_notify import HttpNotificationStore

        server = NotifyServer(sql, services=[]).start()
        client = HttpNotificationStore(server.url)
        yield client
        client.close()
        server.stop()
    sql.close()


def hook(url: str = "https://hooks.example.com/T0/B0/xyz") -> WebhookChannel:
    return WebhookChannel("hook", url=url, format="slack", signing_secret="env:HOOK_KEY")


def mail() -> EmailChannel:
    return EmailChannel(
        "ops-email",
        host="smtp.example.com",
        username="cadenza",
        password="s3cr3t-pw",
        from_address="cadenza@example.com",
        to=["ops@example.com"],
    )


def test_misses(nstore: NotificationStore) -> None:
    assert nstore.read_channel("nope") is None
    assert nstore.list_channels() == []
    assert nstore.delete_channel("nope") is False
    assert nstore.read_automation("nope") is None
    assert nstore.list_automations() == []
    assert nstore.set_automation_enabled("nope", True) is False
    assert nstore.delete_automation("nope") is False
    assert nstore.read_message(uuid7()) is None
    assert nstore.list_messages() == []
    assert nstore.list_attempts(uuid7()) == []
    with pytest.raises(ObjectNotFound):
        nstore.send_message("nope", "s", "b")


def test_channels(nstore: NotificationStore) -> None:
    stored = nstore.create_channel(mail())
    assert stored.id is not None and stored.created is not None
    assert stored.public()["secrets"] == {
        "password": {"kind": "value", "env": None, "display": "••••"}
    }
    assert "s3cr3t-pw" not in repr(stored.public())
    nstore.create_channel(hook())
    assert [c.name for c in nstore.list_channels()] == ["hook", "ops-email"]
    found = nstore.read_channel("hook")
    assert found is not None
    assert found.config() == {"format": "slack", "timeout": 10.0}
    assert found.public()["secrets"]["signing_secret"]["display"] == "env:HOOK_KEY"
    with pytest.raises(ObjectAlreadyExists, match="exists already"):
        nstore.create_channel(hook())
    replaced = nstore.create_channel(
        WebhookChannel("hook", url="https://example.com/new", format="teams"), replace=True
    )
    assert replaced.id == found.id
    assert replaced.config()["format"] == "teams"
    assert "signing_secret" not in replaced.secrets()
    assert nstore.delete_channel("hook") is True
    assert nstore.read_channel("hook") is None


def test_automations(nstore: NotificationStore) -> None:
    nstore.create_channel(hook())
    trigger = FlowRunStateTrigger(["failed", "Recovered"], flows=["train"], tags="prod, nightly")
    made = nstore.create_automation(Automation("alerts", trigger, ["hook"], subject="{{ event }}"))
    assert made.id is not None
    assert made.trigger == FlowRunStateTrigger(
        ["Failed", "Recovered"], flows=["train"], tags=["prod", "nightly"]
    )
    assert made.subject == "{{ event }}" and made.enabled
    late = Automation("late", NotCompletedTrigger(hours=6, deployments=["etl/nightly"]), ["hook"])
    nstore.create_automation(late)
    assert [a.name for a in nstore.list_automations()] == ["alerts", "late"]
    found = nstore.read_automation("late")
    assert found is not None and found.trigger == late.trigger
    assert nstore.set_automation_enabled("late", False) is True
    assert [a.name for a in nstore.list_automations(enabled_only=True)] == ["alerts"]
    with pytest.raises(ObjectAlreadyExists):
        nstore.create_automation(Automation("alerts", trigger, ["hook"]))
    with pytest.raises(InvalidNotificationConfig, match="no channel named 'nope'"):
        nstore.create_automation(Automation("other", trigger, ["nope"]))
    with pytest.raises(InvalidNotificationConfig, match="alerts, late"):
        nstore.delete_channel("hook")
    replaced = nstore.create_automation(
        Automation("alerts", FlowRunStateTrigger("Completed"), ["hook"]), replace=True
    )
    assert replaced.id == made.id and replaced.trigger.states == ("Completed",)
    assert nstore.delete_automation("alerts") is True
    assert [a.name for a in nstore.list_automations()] == ["late"]


def test_messages_of_runs_and_history(
    nstore: NotificationStore, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_KEY", "signing-key")
    nstore.create_channel(hook(receiver.url))
    failed = Failed(message="ValueError: x", timestamp=time.time())
    request = RunNotification(
        channel="hook",
        flow_run_id=uuid7(),
        state=failed,
        flow_name="train",
        run_name="brave-otter",
        subject="{{ flow.name }} {{ run.name }} {{ event }}",
    )
    first = nstore.notify_run(request)
    assert first is not None
    assert nstore.notify_run(request) is None  # the same transition: queued once
    message = nstore.read_message(first)
    assert message is not None
    assert message.subject == "train brave-otter Failed"
    assert (message.channel, message.source, message.status) == ("hook", "hook", "pending")
    with pytest.raises(InvalidNotificationConfig, match="does not render"):
        nstore.notify_run(
            RunNotification("hook", uuid7(), failed, "train", "r", subject="{{ nope }}")
        )
    sent = nstore.send_message("hook", "hello", "world")
    assert (sent.status, sent.attempts, sent.source) == ("sent", 1, "test")
    (attempt,) = nstore.list_attempts(sent.id)
    assert attempt.ok and attempt.attempt == 1 and attempt.error is None
    with pytest.raises(InvalidNotificationConfig, match="only e-mail channels"):
        nstore.send_message("hook", "s", "b", to=["a@example.com"])
    assert [m.id for m in nstore.list_messages()] == [sent.id, first]
    assert [m.id for m in nstore.list_messages(status="pending")] == [first]
    assert [m.id for m in nstore.list_messages(channel="other")] == []
    assert [m.id for m in nstore.list_messages(flow_run_id=request.flow_run_id)] == [first]
    assert [m.id for m in nstore.list_messages(limit=1)] == [sent.id]
    assert [m.id for m in nstore.list_messages(before_id=sent.id)] == [first]


# -- the delivery queue (SQL) ------------------------------------------------------------
def _message(key: str, now: float, **fields: Any) -> OutboxMessage:
    return OutboxMessage(
        id=uuid7(),
        dedup_key=key,
        channel="hook",
        subject="s",
        body="b",
        event="Failed",
        source="automation",
        created=now,
        next_attempt_at=fields.pop("next_attempt_at", now),
        **fields,
    )


@pytest.fixture(params=BACKENDS, ids=str)
def store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """The SQL store, the delivery queue of the server, on each backend."""
    backend: Backend = request.param
    store = SqlStore(backend.fresh_url(request))
    yield store
    store.close()


def test_enqueue_claim_and_finish(store: SqlStore) -> None:
    now = 1000.0
    a, b, dup = _message("k1", now), _message("k2", now + 5), _message("k1", now)
    assert store.enqueue([a, b, dup]) == [a.id, b.id]
    assert store.enqueue([dup]) == []
    assert store.next_due() == now
    claimed = store.claim_due(now + 1, limit=10, lease=30)
    assert [m.id for m in claimed] == [a.id]  # b is not due yet
    assert store.claim_due(now + 1, limit=10, lease=30) == []  # held by its lease
    store.finish_attempt(
        DeliveryAttempt(a.id, 1, now + 1, False, "refused", 0.1), retry_at=now + 50
    )
    found = store.read_message(a.id)
    assert found is not None
    assert (found.status, found.attempts, found.last_error) == ("pending", 1, "refused")
    assert [m.id for m in store.claim_due(now + 10, limit=10, lease=30)] == [b.id]
    # b's sender died: its lease ends and another claims it again (at least once).
    assert [m.id for m in store.claim_due(now + 41, limit=10, lease=30)] == [b.id]
    store.finish_attempt(DeliveryAttempt(b.id, 1, now + 41, True), retry_at=None)
    store.finish_attempt(DeliveryAttempt(a.id, 2, now + 51, False, "down"), retry_at=None)
    assert [(m.id, m.status) for m in store.list_messages()] == [
        (b.id, "sent"),
        (a.id, "failed"),
    ]
    assert store.next_due() is None
    assert [x.attempt for x in store.list_attempts(a.id)] == [1, 2]
    store.finish_attempt(DeliveryAttempt(uuid7(), 1, now, True), retry_at=None)  # unknown


def test_cursor_marks_and_changed_runs(store: SqlStore) -> None:
    from tests.notify.test_server import run_events

    assert store.read_cursor("c") is None
    store.write_cursor("c", 5.0)
    store.write_cursor("c", 7.5)
    assert store.read_cursor("c") == 7.5
    store.mark_runs({"r1": 10.0, "r2": 20.0})
    store.mark_runs({"r1": 15.0})  # later: keeps 10
    marks = store.marked_runs()
    assert {k: v[0] for k, v in marks.items()} == {"r1": 10.0, "r2": 20.0}
    store.mark_runs({"r2": 5.0})  # marked again while being evaluated
    store.unmark_runs(marks)
    assert {k: v[0] for k, v in store.marked_runs().items()} == {"r2": 5.0}
    runs = []
    for start in (100.0, 200.0, 300.0):
        run, events = run_events("etl", start)
        store.apply(events)
        runs.append(run)
    assert store.changed_flow_runs(150.0) == [(runs[1].id, 202.0), (runs[2].id, 302.0)]
    assert store.changed_flow_runs(0.0, after=(202.0, runs[1].id)) == [(runs[2].id, 302.0)]
    assert store.changed_flow_runs(0.0, limit=1) == [(runs[0].id, 102.0)]
    assert store.changed_flow_runs(400.0) == []


def test_overdue_runs(store: SqlStore) -> None:
    from cadenza.events import FlowRunCreated
    from cadenza.runs import FlowRun
    from cadenza.states import Completed

    made = []
    for i, state in enumerate([Scheduled(timestamp=1.0), Completed(timestamp=2.0), None]):
        run = FlowRun(id=uuid7(), name=f"r{i}", flow_name="etl", expected_start_time=100.0 + i)
        store.apply([FlowRunCreated(run, state)])
        made.append(run)
    found = store.overdue_flow_runs(99.0, 110.0)
    assert [r.id for r in found] == [made[0].id]  # completed and state-less left out
    assert store.overdue_flow_runs(100.0, 110.0) == []
    assert store.has_enabled_automations() is False
