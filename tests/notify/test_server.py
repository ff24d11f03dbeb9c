"""Notifications on a real server: the automations service following runs reported
over ``POST /api/events`` (twice, late, from a clock ahead), hooks of clients, the
delivery service, and the REST API's answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.notify.conftest import NotifyServer, Receiver, wait_for

from cadenza import flow
from cadenza.events import Event, FlowRunCreated, FlowRunStateChanged
from cadenza.events_json import encode_events
from cadenza.notify import notify
from cadenza.runs import FlowRun
from cadenza.server.services.automations import CURSOR, AutomationsService, DeliveryService
from cadenza.settings import reset_settings
from cadenza.states import Completed, Failed, Pending, Running
from cadenza.store.sql import SqlStore
from cadenza.utilities.ids import uuid7


def run_events(flow_name: str, start: float, *, fail: bool = True) -> tuple[FlowRun, list[Event]]:
    """The events a client sends for one flow run, its states from ``start`` on."""
    run = FlowRun(id=uuid7(), name=f"{flow_name}-run", flow_name=flow_name, created=start)
    end = (
        Failed(message="ValueError: late data", timestamp=start + 2)
        if fail
        else Completed(timestamp=start + 2)
    )
    return run, [
        FlowRunCreated(run),
        FlowRunStateChanged(run.id, Pending(timestamp=start)),
        FlowRunStateChanged(run.id, Running(timestamp=start + 1)),
        FlowRunStateChanged(run.id, end),
    ]


def post(client: httpx.Client, events: list[Event]) -> None:
    response = client.post("/events", json={"events": encode_events(events)})
    assert response.status_code == 200, response.text


def setup(client: httpx.Client, receiver: Receiver, states: Any = ("Failed",)) -> None:
    made = client.post(
        "/channels",
        json={"name": "hook", "type": "webhook", "secrets": {"url": receiver.url}},
    )
    assert made.status_code == 201, made.text
    made = client.post(
        "/automations",
        json={
            "name": "alerts",
            "trigger": {"states": list(states)},
            "channels": ["hook"],
        },
    )
    assert made.status_code == 201, made.text


def test_a_batch_delivered_twice_is_notified_once(
    make_server: Callable[..., NotifyServer], receiver: Receiver
) -> None:
    server = make_server()
    with server.client() as client:
        setup(client, receiver)
        run, events = run_events("etl", time.time())
        post(client, events)
        post(client, events)  # the client's retry after a lost response
        wait_for(lambda: receiver.delivered())
        post(client, events)
        time.sleep(0.3)  # some rounds of the services, which must not send it again
        assert len(receiver.delivered()) == 1
        (payload,) = [r["json"] for r in receiver.delivered()]
        assert payload["flow_run"]["id"] == run.id
        assert payload["state"]["message"] == "ValueError: late data"
        page = client.get("/notifications").json()
        assert [m["status"] for m in page["items"]] == ["sent"]


def test_runs_reported_late_are_not_missed(
    make_server: Callable[..., NotifyServer], receiver: Receiver, store: SqlStore
) -> None:
    # A margin of half a second: states older than that, relative to the cursor, arrive
    # "late" (as from a client that buffered its events while the server was down).
    server = make_server(
        [AutomationsService(interval=0.05, margin=0.5), DeliveryService(interval=0.05)]
    )
    with server.client() as client:
        setup(client, receiver)
        wait_for(lambda: store.read_cursor(CURSOR) is not None)
        _, fresh = run_events("etl", time.time())
        post(client, fresh)
        wait_for(lambda: len(receiver.delivered()) == 1)
        cursor = store.read_cursor(CURSOR)
        assert cursor is not None
        late_run, late = run_events("etl", cursor - 3600)  # an hour behind the cursor
        post(client, late)
        wait_for(lambda: len(receiver.delivered()) == 2)
        assert receiver.delivered()[1]["json"]["flow_run"]["id"] == late_run.id
        assert store.marked_runs() == {}
        # A client whose clock is an hour ahead is notified, and does not move the
        # cursor past the server's clock (which would make others' runs "late").
        ahead_run, ahead = run_events("etl", time.time() + 3600)
        post(client, ahead)
        wait_for(lambda: len(receiver.delivered()) == 3)
        assert (store.read_cursor(CURSOR) or 0) <= time.time()
        _, normal = run_events("etl", time.time())
        post(client, normal)
        wait_for(lambda: len(receiver.delivered()) == 4)
        time.sleep(0.3)
        ids = [r["json"]["flow_run"]["id"] for r in receiver.delivered()]
        assert len(ids) == len(set(ids)) == 4
        assert ahead_run.id in ids


def test_the_service_step_by_step(store: SqlStore, receiver: Receiver) -> None:
    """The evaluation with its clock in the test's hands."""
    from cadenza.notify.automations import Automation, FlowRunStateTrigger
    from cadenza.notify.channels import WebhookChannel

    store.create_channel(WebhookChannel("hook", url=receiver.url))
    now = [time.time()]
    service = AutomationsService(margin=60, clock=lambda: now[0])
    assert service.step(store) == 0  # no automation: the cursor follows the clock
    store.create_automation(
        Automation("alerts", FlowRunStateTrigger(["Failed", "Recovered"]), ["hook"])
    )
    _, events = run_events("train", now[0] - 30)
    store.apply(events)
    assert service.step(store) == 1
    assert service.step(store) == 0  # nothing new
    service_after_restart = AutomationsService(margin=60, clock=lambda: now[0])
    assert service_after_restart.step(store) == 0  # within the margin, queued already
    now[0] += 10
    _, recovered = run_events("train", now[0] - 5, fail=False)
    store.apply(recovered)
    assert service.step(store) == 1
    events_of = [m.event for m in store.list_messages()]
    assert events_of == ["Recovered", "Failed"]
    assert store.read_cursor(CURSOR) == pytest.approx(now[0] - 3)


def test_a_hook_of_a_client_goes_through_the_server(
    make_server: Callable[..., NotifyServer],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = make_server()
    with server.client() as client:
        assert (
            client.post(
                "/channels",
                json={"name": "hook", "type": "webhook", "secrets": {"url": receiver.url}},
            ).status_code
            == 201
        )
    monkeypatch.setenv("CADENZA_API_URL", server.url)
    reset_settings()

    @flow(on_failure=[notify("hook", subject="remote {{ run.name }}: {{ error }}")])
    def remote() -> None:
        raise RuntimeError("disk full")

    state = remote(return_state=True)
    from cadenza.notify import flush

    assert flush(20)
    wait_for(lambda: receiver.delivered())
    (payload,) = [r["json"] for r in receiver.delivered()]
    assert payload["subject"] == f"remote {payload['flow_run']['name']}: RuntimeError: disk full"
    assert state.is_failed()


def test_api_answers(make_server: Callable[..., NotifyServer], receiver: Receiver) -> None:
    server = make_server(services=[])
    with server.client() as client:
        setup(client, receiver)
        again = client.post(
            "/channels",
            json={"name": "hook", "type": "webhook", "secrets": {"url": receiver.url}},
        )
        assert again.status_code == 409
        assert "exists already" in again.json()["message"]
        bad = client.post(
            "/automations",
            json={"name": "x", "trigger": {"states": ["Exploded"]}, "channels": ["hook"]},
        )
        assert bad.status_code == 400
        assert "'Exploded' is not an event" in bad.json()["message"]
        unknown = client.post(
            "/automations",
            json={"name": "x", "trigger": {"states": ["Failed"]}, "channels": ["nope"]},
        )
        assert unknown.status_code == 400
        assert "there is no channel named 'nope'" in unknown.json()["message"]
        template = client.post(
            "/automations",
            json={
                "name": "x",
                "trigger": {"states": ["Failed"]},
                "channels": ["hook"],
                "subject": "{{ run.nope }}",
            },
        )
        assert template.status_code == 400
        assert "does not render" in template.json()["message"]
        in_use = client.delete("/channels/hook")
        assert in_use.status_code == 409
        assert "alerts" in in_use.json()["message"]
        assert client.post("/automations/alerts/disable").json()["enabled"] is False
        assert client.get("/automations/alerts").json()["enabled"] is False
        assert client.get("/automations/nope").status_code == 404
        assert client.delete("/automations/alerts").status_code == 204
        assert client.delete("/channels/hook").status_code == 204
        assert client.get("/channels/hook").status_code == 404
        assert client.get("/notifications", params={"status": "lost"}).status_code == 400
        assert client.get("/notifications", params={"colour": "red"}).status_code == 400
