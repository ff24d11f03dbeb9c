"""Automations about deployments' runs: the deployment filter, the Late state, and the
proactive trigger (a scheduled run not completed within a delay of its time), with
the automations service's clock in the test's hands."""

from __future__ import annotations

import time

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.pools import WorkPool
from cadenza.deploy.runs import new_deployment_run, scheduled_key
from cadenza.events import FlowRunStateChanged
from cadenza.notify.automations import Automation, FlowRunStateTrigger, NotCompletedTrigger
from cadenza.notify.channels import WebhookChannel
from cadenza.server.services.automations import AutomationsService
from cadenza.states import Completed, Running
from cadenza.store.sql import SqlStore


def _deployment(store: SqlStore, name: str, now: float) -> Deployment:
    if store.read_work_pool("pool") is None:
        store.create_work_pool(WorkPool("pool"), now=now)
    return store.save_deployment(
        Deployment("etl", name, "flows.py:etl", work_pool_name="pool"), now=now
    )


def _schedule(store: SqlStore, deployment: Deployment, at: float, now: float) -> str:
    run = new_deployment_run(deployment, at, idempotency_key=scheduled_key(at), now=now)
    (made,) = store.create_scheduled_flow_runs([run])
    return made.id


def test_late_runs_of_one_deployment_are_notified(store: SqlStore) -> None:
    now = [time.time()]
    store.create_channel(WebhookChannel("hook", url="https://hooks.example.com/x"))
    nightly = _deployment(store, "nightly", now[0])
    hourly = _deployment(store, "hourly", now[0])
    store.create_automation(
        Automation("late", FlowRunStateTrigger("Late", deployments=["etl/nightly"]), ["hook"])
    )
    store.create_automation(
        Automation("hourly", FlowRunStateTrigger("Late", deployments=["hourly"]), ["hook"])
    )
    service = AutomationsService(clock=lambda: now[0])
    service.step(store)
    late_nightly = _schedule(store, nightly, now[0] - 600, now[0] - 900)
    _schedule(store, hourly, now[0] - 600, now[0] - 900)
    assert len(store.mark_late_flow_runs(before=now[0] - 60, now=now[0])) == 2
    assert service.step(store) == 2
    by_automation = {m.automation_name: m for m in store.list_messages()}
    assert set(by_automation) == {"late", "hourly"}
    message = by_automation["late"]
    assert (message.event, message.flow_run_id) == ("Late", late_nightly)
    assert "is late: it has not started at its scheduled time" in message.body
    assert "Deployment: etl/nightly" in message.body


def test_a_scheduled_run_not_completed_in_time_is_notified_once(store: SqlStore) -> None:
    now = [time.time()]
    store.create_channel(WebhookChannel("hook", url="https://hooks.example.com/x"))
    nightly = _deployment(store, "nightly", now[0])
    automation = store.create_automation(
        Automation(
            "overdue",
            NotCompletedTrigger(hours=6, deployments=["nightly"]),
            ["hook"],
            subject="{{ run.name }} not done: {{ state.name }}",
        )
    )
    assert automation.created is not None
    service = AutomationsService(clock=lambda: now[0])
    stuck = _schedule(store, nightly, now[0] + 60, now[0])
    done = _schedule(store, nightly, now[0] + 120, now[0])
    store.apply(
        [
            FlowRunStateChanged(stuck, Running(timestamp=now[0] + 61)),
            FlowRunStateChanged(done, Running(timestamp=now[0] + 121)),
            FlowRunStateChanged(done, Completed(timestamp=now[0] + 500)),
        ]
    )
    assert service.step(store) == 0  # not due yet
    now[0] += 6 * 3600 + 30
    assert service.step(store) == 0  # the deadline of the first run is 30 s away
    now[0] += 60
    assert service.step(store) == 1
    (message,) = store.list_messages()
    assert (message.event, message.flow_run_id) == ("NotCompleted", stuck)
    assert message.subject.endswith("not done: Running")
    now[0] += 3600
    assert service.step(store) == 0  # once per run; the completed one never
    # A new service (a restart) starts from the stored cursor: nothing again.
    assert AutomationsService(clock=lambda: now[0]).step(store) == 0
